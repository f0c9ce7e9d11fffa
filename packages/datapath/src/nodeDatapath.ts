// NodeDatapath: the datapath of one node as the agent drives it (docs/contracts.md).
// Loads bpf_lxc.o with its maps pinned under the node's pin dir, attaches the
// endpoint programs to host-side veths, configures them and streams their events.
import { mkdirSync, rmSync, statfsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { bootToWallOffsetMs } from './bootClock.ts';
import type { BpfMap, PerCpuBpfMap } from './bpfMap.ts';
import { BpfObject } from './bpfObject.ts';
import {
  configCodec,
  decodeFlowEventBatch,
  endpointInfoCodec,
  u32Codec,
  u64Codec,
  type DatapathConfig,
  type EndpointInfo,
  type FlowEvent,
} from './codecs.ts';
import { Counter, L7_PORTS_MAX, PAYLOAD_MAX } from './constants.ts';
import { RingBufferReader } from './ringBufferReader.ts';
import { attachEndpointPrograms, detachEndpointPrograms } from './endpointHooks.ts';

export const DEFAULT_OBJECT_PATH = fileURLToPath(new URL('../../../bpf/build/bpf_lxc.o', import.meta.url));

export const DEFAULT_CONFIG: Readonly<DatapathConfig> = Object.freeze({
  reportIntervalNs: 5_000_000_000,
  l7Ports: [53, 80, 8080],
  payloadMax: PAYLOAD_MAX,
});

const BPFFS_ROOT = '/sys/fs/bpf/';
const BPF_FS_MAGIC = 0xcafe4a11;

export interface DatapathCounters {
  lostEvents: number;
  packets: number;
  events: number;
  parseErrors: number;
}

export interface NodeDatapathOptions {
  /** bpffs directory for this node's maps, e.g. /sys/fs/bpf/tycho/node-1. */
  pinDir: string;
  /** Defaults to bpf/build/bpf_lxc.o of this repository. */
  objectPath?: string;
  config?: Partial<DatapathConfig>;
}

function checkConfig(cfg: DatapathConfig): DatapathConfig {
  const problems: string[] = [];
  if (!Number.isSafeInteger(cfg.reportIntervalNs) || cfg.reportIntervalNs <= 0) {
    problems.push(`reportIntervalNs must be a positive integer, got ${cfg.reportIntervalNs}`);
  }
  if (cfg.l7Ports.length > L7_PORTS_MAX) {
    problems.push(`l7Ports holds at most ${L7_PORTS_MAX} ports, got ${cfg.l7Ports.length}`);
  }
  for (const port of cfg.l7Ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`l7Ports: ${port} is not a port (1-65535)`);
  }
  if (!Number.isInteger(cfg.payloadMax) || cfg.payloadMax < 0 || cfg.payloadMax > PAYLOAD_MAX) {
    problems.push(`payloadMax must be an integer from 0 to ${PAYLOAD_MAX}, got ${cfg.payloadMax}`);
  }
  if (problems.length > 0) throw new Error(`invalid datapath config: ${problems.join('; ')}`);
  return { reportIntervalNs: cfg.reportIntervalNs, l7Ports: [...cfg.l7Ports], payloadMax: cfg.payloadMax };
}

function checkPinDir(pinDir: string): string {
  const dir = resolve(pinDir);
  if (!isAbsolute(pinDir) || !dir.startsWith(BPFFS_ROOT)) {
    throw new Error(`pin dir '${pinDir}' must be an absolute path below ${BPFFS_ROOT}`);
  }
  return dir;
}

function checkBpffsMounted(): void {
  let type: number | undefined;
  try {
    type = statfsSync(BPFFS_ROOT).type;
  } catch {
    type = undefined;
  }
  if (type !== BPF_FS_MAGIC) {
    throw new Error(
      `${BPFFS_ROOT} is not a bpffs mount, so maps cannot be pinned there; mount it with ` +
        `'mount -t bpf bpffs ${BPFFS_ROOT}' (note that 'ip netns exec' remounts /sys without it)`,
    );
  }
}

// The wall-clock offset is re-read at most this often, so a clock step shows up.
const CLOCK_OFFSET_MAX_AGE_MS = 1000;

export class NodeDatapath {
  readonly pinDir: string;
  readonly #object: BpfObject;
  readonly #endpoints: BpfMap<number, EndpointInfo>;
  readonly #config: BpfMap<number, DatapathConfig>;
  readonly #counters: PerCpuBpfMap<number, number>;
  readonly #fromContainerFd: number;
  readonly #toContainerFd: number;
  readonly #listeners: ((batch: FlowEvent[]) => void)[] = [];
  #reader: RingBufferReader | undefined;
  #currentConfig: DatapathConfig;
  #clockOffsetMs: number;
  #clockOffsetReadAt: number;
  #closed = false;

  private constructor(pinDir: string, object: BpfObject) {
    this.pinDir = pinDir;
    this.#object = object;
    this.#endpoints = object.map('tycho_endpoints', u32Codec, endpointInfoCodec);
    this.#config = object.map('tycho_config', u32Codec, configCodec);
    this.#counters = object.perCpuMap('tycho_counters', u32Codec, u64Codec);
    this.#fromContainerFd = object.programFd('from_container');
    this.#toContainerFd = object.programFd('to_container');
    this.#currentConfig = { ...DEFAULT_CONFIG, l7Ports: [...DEFAULT_CONFIG.l7Ports] };
    this.#clockOffsetMs = bootToWallOffsetMs();
    this.#clockOffsetReadAt = Date.now();
  }

  /** Loads the programs; maps already pinned in pinDir are reused (conntrack survives a restart). */
  static open(opts: NodeDatapathOptions): NodeDatapath {
    const pinDir = checkPinDir(opts.pinDir);
    checkBpffsMounted();
    mkdirSync(pinDir, { recursive: true });
    const object = BpfObject.open(opts.objectPath ?? DEFAULT_OBJECT_PATH, { pinRoot: pinDir });
    try {
      const datapath = new NodeDatapath(pinDir, object);
      datapath.setConfig(opts.config ?? {});
      return datapath;
    } catch (error) {
      object.close();
      throw error;
    }
  }

  /** Deletes a node's pinned maps and tcx links (and the directory), which detaches the
   * programs those links held; fine if they are gone already. */
  static removePins(pinDir: string): void {
    rmSync(checkPinDir(pinDir), { recursive: true, force: true });
  }

  /** Registers the endpoint and attaches its programs to the host-side veth, replacing earlier ones
   * (tcx links pinned under pinDir, or clsact filters where the kernel has no tcx: endpointHooks.ts). */
  attachEndpoint(ifindex: number, info: EndpointInfo): void {
    this.#endpoints.set(ifindex, info);
    attachEndpointPrograms(ifindex, { ingressFd: this.#fromContainerFd, egressFd: this.#toContainerFd }, { pinDir: this.pinDir });
  }

  /** Detaches the endpoint's programs and forgets it. Idempotent, also when the veth is gone. */
  detachEndpoint(ifindex: number): void {
    detachEndpointPrograms(ifindex, { pinDir: this.pinDir });
    this.#endpoints.delete(ifindex);
  }

  /** Changes the given settings, keeping the others. */
  setConfig(cfg: Partial<DatapathConfig>): void {
    const next = checkConfig({ ...this.#currentConfig, ...cfg });
    this.#config.set(0, next);
    this.#currentConfig = next;
  }

  /** The configuration in force. */
  config(): DatapathConfig {
    return { ...this.#currentConfig, l7Ports: [...this.#currentConfig.l7Ports] };
  }

  /** Datapath counters summed over CPUs, since the counters map was created. */
  counters(): DatapathCounters {
    const sum = (slot: number): number => (this.#counters.get(slot) ?? []).reduce((a, b) => a + b, 0);
    return {
      lostEvents: sum(Counter.LOST_EVENTS),
      packets: sum(Counter.PACKETS),
      events: sum(Counter.EVENTS),
      parseErrors: sum(Counter.PARSE_ERRORS),
    };
  }

  /** Calls `cb` with each batch of events the ring buffer delivers (one batch per wake-up). */
  onEvents(cb: (batch: FlowEvent[]) => void): void {
    this.#listeners.push(cb);
    if (this.#reader) return;
    this.#reader = new RingBufferReader(this.#object.mapInfo('tycho_events').fd, (bytes) => {
      const batch = decodeFlowEventBatch(bytes);
      for (const listener of this.#listeners) listener(batch);
    });
  }

  /** Delivers events already in the ring buffer now, without waiting for the event loop. */
  drainEvents(): void {
    this.#reader?.drain();
  }

  /** Event timestamp (CLOCK_BOOTTIME ns) to epoch milliseconds. */
  bootNsToWallMs(tsNs: number): number {
    const now = Date.now();
    if (now - this.#clockOffsetReadAt > CLOCK_OFFSET_MAX_AGE_MS) {
      this.#clockOffsetMs = bootToWallOffsetMs();
      this.#clockOffsetReadAt = now;
    }
    return tsNs / 1e6 + this.#clockOffsetMs;
  }

  /** Stops the event reader and closes fds; pinned maps and attached programs stay. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader?.close();
    this.#reader = undefined;
    this.#listeners.length = 0;
    this.#object.close();
  }
}
