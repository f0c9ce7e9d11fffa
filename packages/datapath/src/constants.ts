// Mirrors of the enums and limits in bpf/include/tycho/abi.h.

export const EventType = {
  DROP: 1,
  CAPTURE: 3,
  TRACE: 4,
  POLICY_VERDICT: 5,
} as const;

export const TraceReason = {
  NEW: 1,
  FLAGS: 2,
  REPORT: 3,
  PAYLOAD: 4,
} as const;

/** Sub-type of policy-verdict events: the direction judged (Cilium's policy verdict `dir`). */
export const VerdictDirection = {
  INGRESS: 1,
  EGRESS: 2,
} as const;

/** The kind of policy key that allowed a connection, numbered as Cilium's policy_match_type. */
export const PolicyMatchType = {
  NONE: 0,
  L3_ONLY: 1,
  L3_L4: 2,
  L4_ONLY: 3,
  ALL: 4,
} as const;

export const ObsPoint = {
  UNKNOWN: 0,
  TO_PROXY: 1,
  TO_HOST: 2,
  TO_STACK: 3,
  TO_OVERLAY: 4,
  TO_ENDPOINT: 101,
  FROM_ENDPOINT: 5,
  FROM_PROXY: 6,
  FROM_HOST: 7,
  FROM_STACK: 8,
  FROM_OVERLAY: 9,
  FROM_NETWORK: 10,
  TO_NETWORK: 11,
} as const;

export const Verdict = {
  FORWARDED: 1,
  DROPPED: 2,
} as const;

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Slots of the tycho_counters per-CPU array. */
export const Counter = {
  LOST_EVENTS: 0,
  PACKETS: 1,
  EVENTS: 2,
  PARSE_ERRORS: 3,
  MAX: 8,
} as const;

/** Drop reasons the datapath emits (bpf/lib/drop.h), numbered as Cilium's. */
export const DropReason = {
  POLICY_DENIED: 133,
  INVALID_PACKET_DROPPED: 134,
  CT_TRUNCATED_OR_INVALID_HEADER: 135,
  CT_UNKNOWN_L4_PROTOCOL: 137,
  CT_MAP_INSERTION_FAILED: 155,
  SERVICE_BACKEND_NOT_FOUND: 158,
  POLICY_DENY: 181,
} as const;

export const IpProto = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
} as const;

export const PAYLOAD_MAX = 256;
export const L7_PORTS_MAX = 8;
