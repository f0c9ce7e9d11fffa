// Per-packet service translation at the node's uplink (bpf/bpf_host.c):
// NodePort, ExternalIPs and LoadBalancer traffic arriving from the network is
// DNATed to a backend at tc, with a NAT conntrack (tycho_lb4_nat_fwd/_rev)
// for its replies. bpf_host.o shares the lb maps of bpf_sock.o and the event
// ring buffer of bpf_lxc.o by their pins in the node's pin dir, so open it
// after NodeDatapath and ServiceDatapath. The tcx links are pinned at
// <pinDir>/host/<ifname>/{ingress,egress}; removing the pin dir detaches them.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { addon } from './addon.ts';
import type { BpfMap } from './bpfMap.ts';
import { BpfObject } from './bpfObject.ts';
import { defineLayout, type Codec } from './codecs.ts';
import { ipv4ToString } from './ipAddress.ts';
import { attachTcxProgram, detachTcxProgram } from './tcx.ts';
import type { TcDirection } from './tc.ts';

export const HOST_OBJECT_PATH = fileURLToPath(new URL('../../../bpf/build/bpf_host.o', import.meta.url));

/** The programs of bpf_host.o by the uplink hook they run on. */
export const HOST_PROGRAMS: Readonly<Record<TcDirection, string>> = { ingress: 'from_netdev', egress: 'to_netdev' };

const layout = defineLayout;

/** Layouts of bpf/include/tycho/nodeport.h, checked against bpf_host.o's BTF by nodePortDatapath.test.ts. */
export const nodePortLayouts = {
  natKey: layout('tycho_lb4_nat_key', 16, { saddr: [0, 4], daddr: [4, 4], sport: [8, 2], dport: [10, 2], proto: [12, 1], pad: [13, 3] }),
  natEntry: layout('tycho_lb4_nat_entry', 32, {
    saddr: [0, 4], daddr: [4, 4], sport: [8, 2], dport: [10, 2], backend_id: [12, 4], rev_nat_index: [16, 2], flags: [18, 1], pad: [19, 1],
    ifindex: [20, 4], last_seen_ns: [24, 8],
  }),
} as const;

/** TYCHO_NAT_F_* of nodeport.h. */
export const NatFlag = { SNAT: 0x01 } as const;

/** A tuple as the packet carries it (host-order ports, IP protocol number). */
export interface NatTuple {
  readonly saddr: string;
  readonly daddr: string;
  readonly sport: number;
  readonly dport: number;
  readonly proto: number;
}

/** What packets of a tuple are rewritten to, and why. */
export interface NatEntry {
  readonly saddr: string;
  readonly daddr: string;
  readonly sport: number;
  readonly dport: number;
  readonly backendId: number;
  readonly revNatIndex: number;
  readonly snat: boolean;
  readonly ifindex: number;
}

function writeIpv4(view: DataView, offset: number, address: string): void {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`nat map: '${address}' is not an IPv4 address`);
  }
  parts.forEach((p, i) => view.setUint8(offset + i, p));
}

function readIpv4(view: DataView, offset: number): string {
  return ipv4ToString(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), offset);
}

const K = nodePortLayouts.natKey.at;
export const natKeyCodec: Codec<NatTuple> = {
  size: nodePortLayouts.natKey.size,
  encode(value, view, offset) {
    writeIpv4(view, offset + K.saddr, value.saddr);
    writeIpv4(view, offset + K.daddr, value.daddr);
    view.setUint16(offset + K.sport, value.sport, false);
    view.setUint16(offset + K.dport, value.dport, false);
    view.setUint8(offset + K.proto, value.proto);
    for (let i = 0; i < 3; i++) view.setUint8(offset + K.pad + i, 0);
  },
  decode(view, offset) {
    return {
      saddr: readIpv4(view, offset + K.saddr),
      daddr: readIpv4(view, offset + K.daddr),
      sport: view.getUint16(offset + K.sport, false),
      dport: view.getUint16(offset + K.dport, false),
      proto: view.getUint8(offset + K.proto),
    };
  },
};

const E = nodePortLayouts.natEntry.at;
export const natEntryCodec: Codec<NatEntry> = {
  size: nodePortLayouts.natEntry.size,
  encode(value, view, offset) {
    writeIpv4(view, offset + E.saddr, value.saddr);
    writeIpv4(view, offset + E.daddr, value.daddr);
    view.setUint16(offset + E.sport, value.sport, false);
    view.setUint16(offset + E.dport, value.dport, false);
    view.setUint32(offset + E.backend_id, value.backendId, true);
    view.setUint16(offset + E.rev_nat_index, value.revNatIndex, true);
    view.setUint8(offset + E.flags, value.snat ? NatFlag.SNAT : 0);
    view.setUint8(offset + E.pad, 0);
    view.setUint32(offset + E.ifindex, value.ifindex, true);
    view.setBigUint64(offset + E.last_seen_ns, 0n, true);
  },
  decode(view, offset) {
    return {
      saddr: readIpv4(view, offset + E.saddr),
      daddr: readIpv4(view, offset + E.daddr),
      sport: view.getUint16(offset + E.sport, false),
      dport: view.getUint16(offset + E.dport, false),
      backendId: view.getUint32(offset + E.backend_id, true),
      revNatIndex: view.getUint16(offset + E.rev_nat_index, true),
      snat: (view.getUint8(offset + E.flags) & NatFlag.SNAT) !== 0,
      ifindex: view.getUint32(offset + E.ifindex, true),
    };
  },
};

export interface NodePortDatapathOptions {
  /** The node's bpffs pin dir, where bpf_lxc.o and bpf_sock.o pinned their maps. */
  pinDir: string;
  objectPath?: string;
}

/** Where the uplink's tcx links are pinned. */
export function hostLinkDir(pinDir: string, ifname: string): string {
  return join(pinDir, 'host', ifname);
}

const IFNAME = /^[A-Za-z0-9_.@-]{1,15}$/;

/** The ifindex of `ifname` in this process's network namespace (if_nametoindex, not /sys, which shows the mount's namespace). */
export function ifindexOf(ifname: string): number {
  if (!IFNAME.test(ifname)) throw new Error(`'${ifname}' is not an interface name (1-15 of A-Z a-z 0-9 _ . @ -)`);
  try {
    return addon.ifNameToIndex(ifname);
  } catch (err) {
    throw new Error(`no interface '${ifname}' in this network namespace (${(err as Error).message})`);
  }
}

export class NodePortDatapath {
  readonly pinDir: string;
  /** Forward NAT entries, keyed by the client → frontend tuple. */
  readonly forward: BpfMap<NatTuple, NatEntry>;
  /** Reverse NAT entries, keyed by the backend's reply tuple. */
  readonly reverse: BpfMap<NatTuple, NatEntry>;
  readonly #object: BpfObject;

  private constructor(pinDir: string, object: BpfObject) {
    this.pinDir = pinDir;
    this.#object = object;
    this.forward = object.map('tycho_lb4_nat_fwd', natKeyCodec, natEntryCodec);
    this.reverse = object.map('tycho_lb4_nat_rev', natKeyCodec, natEntryCodec);
  }

  /** Loads bpf_host.o with its maps pinned in (or reused from) `pinDir`. Attaches nothing. */
  static open(options: NodePortDatapathOptions): NodePortDatapath {
    mkdirSync(options.pinDir, { recursive: true });
    return new NodePortDatapath(options.pinDir, BpfObject.open(options.objectPath ?? HOST_OBJECT_PATH, { pinRoot: options.pinDir }));
  }

  programFd(direction: TcDirection): number {
    return this.#object.programFd(HOST_PROGRAMS[direction]);
  }

  /** Attaches from_netdev/to_netdev to the uplink's tcx hooks (replacing what an earlier agent attached); returns its ifindex. */
  attach(ifname: string): number {
    const ifindex = ifindexOf(ifname);
    const dir = hostLinkDir(this.pinDir, ifname);
    mkdirSync(dir, { recursive: true });
    for (const direction of ['ingress', 'egress'] as const) {
      if (!attachTcxProgram(ifindex, direction, this.programFd(direction), join(dir, direction))) {
        throw new Error(`${ifname}: this kernel has no tcx (Linux 6.6+), which the node-port load-balancer needs`);
      }
    }
    return ifindex;
  }

  /** Detaches the uplink programs pinned under `pinDir` and removes their pins. Idempotent. */
  static detach(pinDir: string, ifname: string): void {
    const dir = hostLinkDir(pinDir, ifname);
    for (const direction of ['ingress', 'egress'] as const) detachTcxProgram(join(dir, direction));
    rmSync(dir, { recursive: true, force: true });
  }

  /** Closes the object's fds; pinned maps and links stay. */
  close(): void {
    this.#object.close();
  }
}
