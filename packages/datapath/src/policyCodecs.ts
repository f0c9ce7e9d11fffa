// Encoders and decoders for the network policy structs of
// bpf/include/tycho/policy.h (the maps of bpf/lib/policy.h in bpf_lxc.o).
// Each layout below is the one place its offsets are written down;
// policyCodecs.test.ts checks them against the BTF of bpf_lxc.o. Addresses
// and ports sit in network order in the structs; these codecs take dotted
// quads and host-order ports.
import { isIPv4 } from 'node:net';

import { defineLayout, type Codec } from './codecs.ts';
import { ipv4ToString } from './ipAddress.ts';

const layout = defineLayout;

export const policyLayouts = {
  ipcacheKey4: layout('tycho_ipcache_key4', 8, { prefixlen: [0, 4], addr: [4, 4] }),
  ipcacheEntry: layout('tycho_ipcache_entry', 8, { identity: [0, 4], flags: [4, 4] }),
  policyKey: layout('tycho_policy_key', 16, {
    prefixlen: [0, 4], endpoint_id: [4, 4], identity: [8, 4], direction: [12, 1], proto: [13, 1], dport: [14, 2],
  }),
  policyEntry: layout('tycho_policy_entry', 8, { policy_list: [0, 4], flags: [4, 1], pad: [5, 3] }),
  policyEndpoint: layout('tycho_policy_endpoint', 4, { flags: [0, 4] }),
} as const;

/** TYCHO_IPCACHE_F_* of policy.h. */
export const IpcacheFlag = { LOCAL: 0x1 } as const;
/** TYCHO_POLICY_F_* of policy.h. */
export const PolicyFlag = { DENY: 0x1 } as const;
/** TYCHO_POLICY_EP_* of policy.h. */
export const PolicyEndpointFlag = { INGRESS_ENFORCED: 0x1, EGRESS_ENFORCED: 0x2, INGRESS_LOOKUP: 0x4, EGRESS_LOOKUP: 0x8 } as const;
/** Bits of a policy key that always match whole: endpoint id, identity, direction (TYCHO_POLICY_KEY_EXACT_BITS). */
export const POLICY_KEY_EXACT_BITS = 72;

export type PolicyDirection = 'ingress' | 'egress';
const DIRECTION_NUMBERS: Readonly<Record<PolicyDirection, number>> = { ingress: 0, egress: 1 };

const TWO_POW_32 = 4_294_967_296;

function checkRange(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new Error(`policy map: ${what} ${value} is not an integer in 0..${max}`);
  return value;
}

// ---- struct tycho_ipcache_key4 / tycho_ipcache_entry ----

/** An IPv4 prefix: `address` with its first `prefixLen` bits significant. */
export interface IpcacheKey4 {
  readonly address: string;
  readonly prefixLen: number;
}

const IK = policyLayouts.ipcacheKey4.at;
export const ipcacheKey4Codec: Codec<IpcacheKey4> = {
  size: policyLayouts.ipcacheKey4.size,
  encode(key, view, offset) {
    if (!isIPv4(key.address)) throw new Error(`policy map: ipcache address '${key.address}' is not an IPv4 address`);
    view.setUint32(offset + IK.prefixlen, checkRange(key.prefixLen, 32, 'ipcache prefix length'), true);
    const parts = key.address.split('.');
    for (let i = 0; i < 4; i++) view.setUint8(offset + IK.addr + i, Number(parts[i]));
  },
  decode(view, offset) {
    return {
      address: ipv4ToString(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), offset + IK.addr),
      prefixLen: view.getUint32(offset + IK.prefixlen, true),
    };
  },
};

export interface IpcacheEntry {
  readonly identity: number;
  /** An address of this node: one of its pods, or the node itself. */
  readonly local: boolean;
}

const IE = policyLayouts.ipcacheEntry.at;
export const ipcacheEntryCodec: Codec<IpcacheEntry> = {
  size: policyLayouts.ipcacheEntry.size,
  encode(value, view, offset) {
    view.setUint32(offset + IE.identity, checkRange(value.identity, TWO_POW_32 - 1, 'identity'), true);
    view.setUint32(offset + IE.flags, value.local ? IpcacheFlag.LOCAL : 0, true);
  },
  decode(view, offset) {
    return {
      identity: view.getUint32(offset + IE.identity, true),
      local: (view.getUint32(offset + IE.flags, true) & IpcacheFlag.LOCAL) !== 0,
    };
  },
};

// ---- struct tycho_policy_key / tycho_policy_entry ----

/**
 * One key of the node's policy map. `prefixLen` counts bits over protocol (8)
 * then port (16), as @tycho/policy's PolicyMapKey does (0 = any protocol and
 * port, 8 = one protocol, 24 = one port); the struct's prefixlen adds the
 * 72 exact bits of endpoint, identity and direction.
 */
export interface PolicyKey {
  readonly endpointId: number;
  readonly direction: PolicyDirection;
  /** Remote identity, 0 = any. */
  readonly identity: number;
  readonly protocol: number;
  readonly port: number;
  readonly prefixLen: number;
}

const PK = policyLayouts.policyKey.at;
export const policyKeyCodec: Codec<PolicyKey> = {
  size: policyLayouts.policyKey.size,
  encode(key, view, offset) {
    view.setUint32(offset + PK.prefixlen, POLICY_KEY_EXACT_BITS + checkRange(key.prefixLen, 24, 'policy key prefix length'), true);
    view.setUint32(offset + PK.endpoint_id, checkRange(key.endpointId, TWO_POW_32 - 1, 'endpoint id'), true);
    view.setUint32(offset + PK.identity, checkRange(key.identity, TWO_POW_32 - 1, 'identity'), true);
    view.setUint8(offset + PK.direction, DIRECTION_NUMBERS[key.direction]);
    view.setUint8(offset + PK.proto, checkRange(key.protocol, 0xff, 'protocol'));
    view.setUint16(offset + PK.dport, checkRange(key.port, 0xffff, 'port'), false);
  },
  decode(view, offset) {
    const direction = view.getUint8(offset + PK.direction);
    return {
      endpointId: view.getUint32(offset + PK.endpoint_id, true),
      direction: direction === DIRECTION_NUMBERS.egress ? 'egress' : 'ingress',
      identity: view.getUint32(offset + PK.identity, true),
      protocol: view.getUint8(offset + PK.proto),
      port: view.getUint16(offset + PK.dport, false),
      prefixLen: view.getUint32(offset + PK.prefixlen, true) - POLICY_KEY_EXACT_BITS,
    };
  },
};

export interface PolicyValue {
  /** A deny rule: the datapath drops with POLICY_DENY. */
  readonly deny: boolean;
  /** The agent's number for the list of policies behind the key (0 = none). */
  readonly policyList: number;
}

const PV = policyLayouts.policyEntry.at;
export const policyValueCodec: Codec<PolicyValue> = {
  size: policyLayouts.policyEntry.size,
  encode(value, view, offset) {
    view.setUint32(offset + PV.policy_list, checkRange(value.policyList, TWO_POW_32 - 1, 'policy list'), true);
    view.setUint8(offset + PV.flags, value.deny ? PolicyFlag.DENY : 0);
    for (let i = 0; i < 3; i++) view.setUint8(offset + PV.pad + i, 0);
  },
  decode(view, offset) {
    return { deny: (view.getUint8(offset + PV.flags) & PolicyFlag.DENY) !== 0, policyList: view.getUint32(offset + PV.policy_list, true) };
  },
};

// ---- struct tycho_policy_endpoint (key: endpoint id, u32) ----

export interface PolicyEndpointState {
  readonly ingress: { readonly enforced: boolean; readonly needsLookup: boolean };
  readonly egress: { readonly enforced: boolean; readonly needsLookup: boolean };
}

export const policyEndpointCodec: Codec<PolicyEndpointState> = {
  size: policyLayouts.policyEndpoint.size,
  encode(value, view, offset) {
    const flags =
      (value.ingress.enforced ? PolicyEndpointFlag.INGRESS_ENFORCED : 0) |
      (value.egress.enforced ? PolicyEndpointFlag.EGRESS_ENFORCED : 0) |
      (value.ingress.needsLookup ? PolicyEndpointFlag.INGRESS_LOOKUP : 0) |
      (value.egress.needsLookup ? PolicyEndpointFlag.EGRESS_LOOKUP : 0);
    view.setUint32(offset + policyLayouts.policyEndpoint.at.flags, flags, true);
  },
  decode(view, offset) {
    const flags = view.getUint32(offset + policyLayouts.policyEndpoint.at.flags, true);
    return {
      ingress: { enforced: (flags & PolicyEndpointFlag.INGRESS_ENFORCED) !== 0, needsLookup: (flags & PolicyEndpointFlag.INGRESS_LOOKUP) !== 0 },
      egress: { enforced: (flags & PolicyEndpointFlag.EGRESS_ENFORCED) !== 0, needsLookup: (flags & PolicyEndpointFlag.EGRESS_LOOKUP) !== 0 },
    };
  },
};
