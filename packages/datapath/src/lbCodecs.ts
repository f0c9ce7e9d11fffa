// Encoders and decoders for the service load-balancing structs of
// bpf/include/tycho/lb.h (the maps of bpf/lib/lb.h and bpf/bpf_sock.c).
// Each layout below is the one place its offsets are written down;
// lbCodecs.test.ts checks them against the BTF of bpf_sock.o. The record
// types have the shape of @tycho/services' logical map records, so the
// agent writes compileServiceMaps() output through them unchanged.
// Addresses and ports sit in network order in the structs; these codecs
// take dotted quads and host-order ports.
import { isIPv4 } from 'node:net';

import { defineLayout, type Codec } from './codecs.ts';
import { ipv4ToString } from './ipAddress.ts';

const layout = defineLayout;

export const lbLayouts = {
  lb4Key: layout('tycho_lb4_key', 12, {
    address: [0, 4], dport: [4, 2], backend_slot: [6, 2], proto: [8, 1], scope: [9, 1], pad: [10, 2],
  }),
  lb4Service: layout('tycho_lb4_service', 16, {
    backend_id: [0, 4], affinity_timeout_s: [4, 4], count: [8, 2], rev_nat_index: [10, 2], type: [12, 1], flags: [13, 1], pad: [14, 2],
  }),
  lb4Backend: layout('tycho_lb4_backend', 8, { address: [0, 4], port: [4, 2], proto: [6, 1], state: [7, 1] }),
  lb4ReverseNat: layout('tycho_lb4_reverse_nat', 8, { address: [0, 4], port: [4, 2], pad: [6, 2] }),
  lbAffinityKey: layout('tycho_lb_affinity_key', 16, { netns_cookie: [0, 8], rev_nat_index: [8, 4], pad: [12, 4] }),
  lbAffinityValue: layout('tycho_lb_affinity_value', 16, { last_used_ns: [0, 8], backend_id: [8, 4], pad: [12, 4] }),
  lb4ReverseSkKey: layout('tycho_lb4_reverse_sk_key', 16, { cookie: [0, 8], address: [8, 4], port: [12, 2], pad: [14, 2] }),
  lb4ReverseSkValue: layout('tycho_lb4_reverse_sk_value', 8, { address: [0, 4], port: [4, 2], rev_nat_index: [6, 2] }),
  lb4Node: layout('tycho_lb4_node', 4, { flags: [0, 4] }),
} as const;

export type LbProtocol = 'TCP' | 'UDP' | 'SCTP';
export type LbScope = 'external' | 'internal';
export type LbServiceType = 'ClusterIP' | 'NodePort' | 'ExternalIPs' | 'LoadBalancer';

const PROTOCOL_NUMBERS: Readonly<Record<LbProtocol, number>> = { TCP: 6, UDP: 17, SCTP: 132 };
const SCOPE_NUMBERS: Readonly<Record<LbScope, number>> = { external: 0, internal: 1 };
const TYPE_NUMBERS: Readonly<Record<LbServiceType, number>> = { ClusterIP: 0, NodePort: 1, ExternalIPs: 2, LoadBalancer: 3 };

/** TYCHO_LB_F_* of lb.h. */
export const LbFlag = { AFFINITY: 0x01, EXT_LOCAL: 0x02, TWO_SCOPES: 0x04, ROUTABLE: 0x08, MAGLEV: 0x10 } as const;
/** TYCHO_LB_NODE_* of lb.h. */
export const LbNodeFlag = { LOCAL: 0x01 } as const;

function nameOf<T extends string>(numbers: Readonly<Record<T, number>>, value: number, what: string): T {
  const found = (Object.keys(numbers) as T[]).find((key) => numbers[key] === value);
  if (found === undefined) throw new Error(`lb map: unknown ${what} ${value}`);
  return found;
}

function writeIpv4(view: DataView, offset: number, address: string, what: string): void {
  if (!isIPv4(address)) throw new Error(`lb map: ${what} '${address}' is not an IPv4 address`);
  const parts = address.split('.');
  for (let i = 0; i < 4; i++) view.setUint8(offset + i, Number(parts[i]));
}

function readIpv4(view: DataView, offset: number): string {
  return ipv4ToString(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), offset);
}

function checkRange(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new Error(`lb map: ${what} ${value} is not an integer in 0..${max}`);
  return value;
}

const TWO_POW_32 = 4_294_967_296;

function readU64(view: DataView, offset: number): bigint {
  return view.getBigUint64(offset, true);
}

// ---- struct tycho_lb4_key ----

/** The shape of @tycho/services' ServiceMapKey. */
export interface Lb4Key {
  readonly address: string;
  readonly port: number;
  readonly protocol: LbProtocol;
  readonly scope: LbScope;
  readonly backendSlot: number;
}

const K = lbLayouts.lb4Key.at;
export const lb4KeyCodec: Codec<Lb4Key> = {
  size: lbLayouts.lb4Key.size,
  encode(key, view, offset) {
    writeIpv4(view, offset + K.address, key.address, 'frontend address');
    view.setUint16(offset + K.dport, checkRange(key.port, 0xffff, 'port'), false);
    view.setUint16(offset + K.backend_slot, checkRange(key.backendSlot, 0xffff, 'backend slot'), true);
    view.setUint8(offset + K.proto, PROTOCOL_NUMBERS[key.protocol]);
    view.setUint8(offset + K.scope, SCOPE_NUMBERS[key.scope]);
    view.setUint16(offset + K.pad, 0, true);
  },
  decode(view, offset) {
    return {
      address: readIpv4(view, offset + K.address),
      port: view.getUint16(offset + K.dport, false),
      protocol: nameOf(PROTOCOL_NUMBERS, view.getUint8(offset + K.proto), 'protocol'),
      scope: nameOf(SCOPE_NUMBERS, view.getUint8(offset + K.scope), 'scope'),
      backendSlot: view.getUint16(offset + K.backend_slot, true),
    };
  },
};

// ---- struct tycho_lb4_service ----

export interface Lb4ServiceFlags {
  readonly type: LbServiceType;
  readonly sessionAffinity: boolean;
  readonly externalLocal: boolean;
  readonly twoScopes: boolean;
  readonly routable: boolean;
  readonly maglev: boolean;
}

/** The shape of @tycho/services' ServiceMapValue. */
export interface Lb4Service {
  readonly backendId: number;
  readonly count: number;
  readonly revNatIndex: number;
  readonly flags: Lb4ServiceFlags;
  readonly affinityTimeoutSeconds: number;
}

const S = lbLayouts.lb4Service.at;
export const lb4ServiceCodec: Codec<Lb4Service> = {
  size: lbLayouts.lb4Service.size,
  encode(value, view, offset) {
    const f = value.flags;
    const flags =
      (f.sessionAffinity ? LbFlag.AFFINITY : 0) |
      (f.externalLocal ? LbFlag.EXT_LOCAL : 0) |
      (f.twoScopes ? LbFlag.TWO_SCOPES : 0) |
      (f.routable ? LbFlag.ROUTABLE : 0) |
      (f.maglev ? LbFlag.MAGLEV : 0);
    view.setUint32(offset + S.backend_id, checkRange(value.backendId, TWO_POW_32 - 1, 'backend id'), true);
    view.setUint32(offset + S.affinity_timeout_s, checkRange(value.affinityTimeoutSeconds, TWO_POW_32 - 1, 'affinity timeout'), true);
    view.setUint16(offset + S.count, checkRange(value.count, 0xffff, 'backend count'), true);
    view.setUint16(offset + S.rev_nat_index, checkRange(value.revNatIndex, 0xffff, 'rev-NAT index'), true);
    view.setUint8(offset + S.type, TYPE_NUMBERS[f.type]);
    view.setUint8(offset + S.flags, flags);
    view.setUint16(offset + S.pad, 0, true);
  },
  decode(view, offset) {
    const flags = view.getUint8(offset + S.flags);
    return {
      backendId: view.getUint32(offset + S.backend_id, true),
      count: view.getUint16(offset + S.count, true),
      revNatIndex: view.getUint16(offset + S.rev_nat_index, true),
      flags: {
        type: nameOf(TYPE_NUMBERS, view.getUint8(offset + S.type), 'service type'),
        sessionAffinity: (flags & LbFlag.AFFINITY) !== 0,
        externalLocal: (flags & LbFlag.EXT_LOCAL) !== 0,
        twoScopes: (flags & LbFlag.TWO_SCOPES) !== 0,
        routable: (flags & LbFlag.ROUTABLE) !== 0,
        maglev: (flags & LbFlag.MAGLEV) !== 0,
      },
      affinityTimeoutSeconds: view.getUint32(offset + S.affinity_timeout_s, true),
    };
  },
};

// ---- struct tycho_lb4_backend (key: backend id, u32) ----

/** The shape of @tycho/services' BackendMapEntry without its id. */
export interface Lb4Backend {
  readonly address: string;
  readonly port: number;
  readonly protocol: LbProtocol;
  readonly state: 'active';
}

const B = lbLayouts.lb4Backend.at;
export const lb4BackendCodec: Codec<Lb4Backend> = {
  size: lbLayouts.lb4Backend.size,
  encode(value, view, offset) {
    writeIpv4(view, offset + B.address, value.address, 'backend address');
    view.setUint16(offset + B.port, checkRange(value.port, 0xffff, 'backend port'), false);
    view.setUint8(offset + B.proto, PROTOCOL_NUMBERS[value.protocol]);
    view.setUint8(offset + B.state, 0);
  },
  decode(view, offset) {
    return {
      address: readIpv4(view, offset + B.address),
      port: view.getUint16(offset + B.port, false),
      protocol: nameOf(PROTOCOL_NUMBERS, view.getUint8(offset + B.proto), 'protocol'),
      state: 'active',
    };
  },
};

// ---- struct tycho_lb4_reverse_nat (key: rev-NAT index, u32) ----

export interface Lb4ReverseNat {
  readonly address: string;
  readonly port: number;
}

const R = lbLayouts.lb4ReverseNat.at;
export const lb4ReverseNatCodec: Codec<Lb4ReverseNat> = {
  size: lbLayouts.lb4ReverseNat.size,
  encode(value, view, offset) {
    writeIpv4(view, offset + R.address, value.address, 'frontend address');
    view.setUint16(offset + R.port, checkRange(value.port, 0xffff, 'frontend port'), false);
    view.setUint16(offset + R.pad, 0, true);
  },
  decode(view, offset) {
    return { address: readIpv4(view, offset + R.address), port: view.getUint16(offset + R.port, false) };
  },
};

// ---- struct tycho_lb_affinity_key / _value ----

export interface LbAffinityKey {
  readonly netnsCookie: bigint;
  readonly revNatIndex: number;
}

const AK = lbLayouts.lbAffinityKey.at;
export const lbAffinityKeyCodec: Codec<LbAffinityKey> = {
  size: lbLayouts.lbAffinityKey.size,
  encode(key, view, offset) {
    view.setBigUint64(offset + AK.netns_cookie, key.netnsCookie, true);
    view.setUint32(offset + AK.rev_nat_index, checkRange(key.revNatIndex, 0xffff, 'rev-NAT index'), true);
    view.setUint32(offset + AK.pad, 0, true);
  },
  decode(view, offset) {
    return { netnsCookie: readU64(view, offset + AK.netns_cookie), revNatIndex: view.getUint32(offset + AK.rev_nat_index, true) };
  },
};

export interface LbAffinityValue {
  /** bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the last connection. */
  readonly lastUsedNs: bigint;
  readonly backendId: number;
}

const AV = lbLayouts.lbAffinityValue.at;
export const lbAffinityValueCodec: Codec<LbAffinityValue> = {
  size: lbLayouts.lbAffinityValue.size,
  encode(value, view, offset) {
    view.setBigUint64(offset + AV.last_used_ns, value.lastUsedNs, true);
    view.setUint32(offset + AV.backend_id, value.backendId, true);
    view.setUint32(offset + AV.pad, 0, true);
  },
  decode(view, offset) {
    return { lastUsedNs: readU64(view, offset + AV.last_used_ns), backendId: view.getUint32(offset + AV.backend_id, true) };
  },
};

// ---- struct tycho_lb4_reverse_sk_key / _value ----

export interface Lb4ReverseSkKey {
  readonly cookie: bigint;
  readonly address: string;
  readonly port: number;
}

const RK = lbLayouts.lb4ReverseSkKey.at;
export const lb4ReverseSkKeyCodec: Codec<Lb4ReverseSkKey> = {
  size: lbLayouts.lb4ReverseSkKey.size,
  encode(key, view, offset) {
    view.setBigUint64(offset + RK.cookie, key.cookie, true);
    writeIpv4(view, offset + RK.address, key.address, 'backend address');
    view.setUint16(offset + RK.port, checkRange(key.port, 0xffff, 'backend port'), false);
    view.setUint16(offset + RK.pad, 0, true);
  },
  decode(view, offset) {
    return {
      cookie: readU64(view, offset + RK.cookie),
      address: readIpv4(view, offset + RK.address),
      port: view.getUint16(offset + RK.port, false),
    };
  },
};

export interface Lb4ReverseSkValue {
  readonly address: string;
  readonly port: number;
  readonly revNatIndex: number;
}

const RV = lbLayouts.lb4ReverseSkValue.at;
export const lb4ReverseSkValueCodec: Codec<Lb4ReverseSkValue> = {
  size: lbLayouts.lb4ReverseSkValue.size,
  encode(value, view, offset) {
    writeIpv4(view, offset + RV.address, value.address, 'frontend address');
    view.setUint16(offset + RV.port, checkRange(value.port, 0xffff, 'frontend port'), false);
    view.setUint16(offset + RV.rev_nat_index, checkRange(value.revNatIndex, 0xffff, 'rev-NAT index'), true);
  },
  decode(view, offset) {
    return {
      address: readIpv4(view, offset + RV.address),
      port: view.getUint16(offset + RV.port, false),
      revNatIndex: view.getUint16(offset + RV.rev_nat_index, true),
    };
  },
};

// ---- node address map: key __be32, value struct tycho_lb4_node ----

export const ipv4KeyCodec: Codec<string> = {
  size: 4,
  encode(address, view, offset) {
    writeIpv4(view, offset, address, 'node address');
  },
  decode: readIpv4,
};

export interface Lb4Node {
  /** An address of this node (rather than of another node of the cluster). */
  readonly local: boolean;
}

export const lb4NodeCodec: Codec<Lb4Node> = {
  size: lbLayouts.lb4Node.size,
  encode(value, view, offset) {
    view.setUint32(offset + lbLayouts.lb4Node.at.flags, value.local ? LbNodeFlag.LOCAL : 0, true);
  },
  decode(view, offset) {
    return { local: (view.getUint32(offset + lbLayouts.lb4Node.at.flags, true) & LbNodeFlag.LOCAL) !== 0 };
  },
};
