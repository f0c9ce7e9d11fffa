// Loads the native addon (native/*.cc, built by node-gyp) and types its surface.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeMapInfo {
  name: string;
  fd: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

export interface NativeBpfObject {
  programFd(name: string): number;
  mapInfo(name: string): NativeMapInfo;
  programNames(): string[];
  mapNames(): string[];
  close(): void;
}

export interface NativeRingBufferReader {
  close(): void;
  drain(): void;
}

export interface NativeTestRunResult {
  retval: number;
  durationNs: number;
  dataOut: Buffer;
  ctxOut?: Buffer;
}

export interface NativeStructLayout {
  size: number;
  members: { name: string; offsetBytes: number; sizeBytes: number }[];
}

export interface NativeAddon {
  NativeBpfObject: new (path: string, pinRoot: string | undefined) => NativeBpfObject;
  NativeRingBufferReader: new (mapFd: number, onBatch: (batch: Buffer) => void) => NativeRingBufferReader;
  mapLookup(fd: number, key: Buffer, valueOut: Buffer): boolean;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapNextKey(fd: number, key: Buffer | null, nextOut: Buffer): boolean;
  mapOpenPinned(path: string): NativeMapInfo;
  /** A new BPF_MAP_TYPE_ARRAY of u32 holding `values` (u32 LE); its fd, to close with closeFd. */
  arrayMapCreate(name: string, values: Buffer, mapFlags: number): number;
  /** The fd of the map with this id (what a map-of-maps lookup returns), to close with closeFd. */
  mapFdById(id: number): number;
  closeFd(fd: number): void;
  possibleCpus(): number;
  tcAttach(ifindex: number, direction: string, handle: number, priority: number, progFd: number): number;
  tcDetach(ifindex: number, direction: string, handle: number, priority: number): boolean;
  tcQuery(ifindex: number, direction: string, handle: number, priority: number): number;
  tcxAttach(ifindex: number, direction: string, progFd: number, pinPath: string): boolean;
  tcxDetach(pinPath: string): boolean;
  tcxQuery(ifindex: number, direction: string): number[];
  cgroupAttach(cgroupPath: string, hook: string, progFd: number, pinPath: string): void;
  cgroupDetach(pinPath: string): boolean;
  cgroupQuery(cgroupPath: string, hook: string): number[];
  programName(id: number): string | undefined;
  testRun(progFd: number, data: Buffer, repeat: number, ctx: Buffer | undefined): NativeTestRunResult;
  btfStructLayout(objectPath: string, structName: string): NativeStructLayout;
  boottimeNs(): bigint;
  /** if_nametoindex(3) in this process's network namespace; throws ENODEV for an unknown name. */
  ifNameToIndex(name: string): number;
  realtimeNs(): bigint;
}

const addonPath = fileURLToPath(new URL('../build/Release/tycho_datapath.node', import.meta.url));

function loadAddon(): NativeAddon {
  try {
    return createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (cause) {
    throw new Error(`cannot load the datapath addon ${addonPath}; build it with 'bash scripts/ensure.sh --build-only'`, {
      cause,
    });
  }
}

export const addon: NativeAddon = loadAddon();
