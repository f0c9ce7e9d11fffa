/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every struct that crosses the kernel boundary: ring-buffer events, map keys
 * and map values. The TypeScript codecs in packages/datapath/src/codecs.ts
 * mirror these layouts, and codecs.test.ts checks them against the BTF of the
 * compiled objects, so the two sides cannot drift silently.
 *
 * Explicit padding fields keep every layout free of compiler-inserted holes.
 */
#ifndef TYCHO_ABI_H
#define TYCHO_ABI_H

#include <linux/types.h>

/* Monitor event types, numbered as Cilium's monitor API. */
enum tycho_event_type {
	TYCHO_EVENT_DROP = 1,
	TYCHO_EVENT_CAPTURE = 3,
	TYCHO_EVENT_TRACE = 4,
	TYCHO_EVENT_POLICY_VERDICT = 5,
};

/* Why a trace event was emitted (event sub-type). */
enum tycho_trace_reason {
	TYCHO_TRACE_NEW = 1,        /* first packet of a connection at this endpoint */
	TYCHO_TRACE_FLAGS = 2,      /* a TCP flag (SYN, SYN-ACK, FIN, RST) not seen before in this direction */
	TYCHO_TRACE_REPORT = 3,     /* periodic report of a long-lived connection */
	TYCHO_TRACE_PAYLOAD = 4,    /* L7 payload (DNS, HTTP ports) on a packet with nothing else to report;
	                             * the other reasons carry payload too when their packet has some */
};

/* Observation points, numbered as Hubble's TraceObservationPoint. */
enum tycho_obs_point {
	TYCHO_OBS_UNKNOWN = 0,
	TYCHO_OBS_TO_PROXY = 1,
	TYCHO_OBS_TO_HOST = 2,
	TYCHO_OBS_TO_STACK = 3,
	TYCHO_OBS_TO_OVERLAY = 4,
	TYCHO_OBS_TO_ENDPOINT = 101,
	TYCHO_OBS_FROM_ENDPOINT = 5,
	TYCHO_OBS_FROM_PROXY = 6,
	TYCHO_OBS_FROM_HOST = 7,
	TYCHO_OBS_FROM_STACK = 8,
	TYCHO_OBS_FROM_OVERLAY = 9,
	TYCHO_OBS_FROM_NETWORK = 10,
	TYCHO_OBS_TO_NETWORK = 11,
};

/* Policy-verdict events: the direction judged (event sub-type), numbered as
 * Cilium's policy verdict `dir`. */
enum tycho_verdict_direction {
	TYCHO_VERDICT_DIR_INGRESS = 1,
	TYCHO_VERDICT_DIR_EGRESS = 2,
};

/* Which kind of policy key allowed a connection, numbered as Cilium's
 * policy_match_type (Hubble's policy_match_type). */
enum tycho_policy_match {
	TYCHO_POLICY_MATCH_NONE = 0,
	TYCHO_POLICY_MATCH_L3_ONLY = 1,    /* the remote identity, any port */
	TYCHO_POLICY_MATCH_L3_L4 = 2,      /* the remote identity and protocol/port */
	TYCHO_POLICY_MATCH_L4_ONLY = 3,    /* any identity, one protocol/port */
	TYCHO_POLICY_MATCH_ALL = 4,        /* any identity, any port */
};

/* Verdicts, numbered as Hubble's Verdict enum. */
enum tycho_verdict {
	TYCHO_VERDICT_FORWARDED = 1,
	TYCHO_VERDICT_DROPPED = 2,
};

/* TCP flag bits as they sit in the TCP header's flags byte. */
#define TYCHO_TCP_FIN 0x01
#define TYCHO_TCP_SYN 0x02
#define TYCHO_TCP_RST 0x04
#define TYCHO_TCP_PSH 0x08
#define TYCHO_TCP_ACK 0x10
#define TYCHO_TCP_URG 0x20
#define TYCHO_TCP_ECE 0x40
#define TYCHO_TCP_CWR 0x80

#define TYCHO_PAYLOAD_MAX 256
#define TYCHO_L7_PORTS_MAX 8

/* An address of either family: IPv4 uses the first 4 bytes, the rest zero. */
struct tycho_addr {
	__u8 bytes[16];
};

/* Connection tuple, ports in network byte order. In events for ICMP and
 * ICMPv6, sport holds the message type and dport the code. */
struct tycho_tuple {
	struct tycho_addr saddr;
	struct tycho_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;         /* IPPROTO_* */
	__u8 family;        /* 4 or 6 */
	__u8 pad[2];
};

/*
 * Conntrack, one map per address family as Cilium splits its CT maps:
 * tycho_ct4 keyed by struct tycho_ct_key4, tycho_ct6 by struct tycho_ct_key6,
 * both holding struct tycho_ct_entry. A key is a connection as seen at one
 * endpoint's veth. Its two ends are in canonical order, whichever way a
 * packet travels: saddr:sport is the lower address (compared as a
 * big-endian number), or for equal addresses the lower port. Ports are in
 * network byte order. ICMP echo messages are keyed by their identifier, on
 * the requester's end (see bpf/lib/conntrack.h).
 *
 * Every established packet hashes and compares the whole key, so the IPv4
 * key is 5 words: the kernel hashes it with one jhash round, where the
 * 11-word IPv6 key takes three.
 */
struct tycho_ct_key4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u32 ifindex;      /* the endpoint's host-side veth */
	__u8 proto;         /* IPPROTO_* */
	__u8 pad[3];
};

struct tycho_ct_key6 {
	struct tycho_addr saddr;
	struct tycho_addr daddr;
	__be16 sport;
	__be16 dport;
	__u32 ifindex;
	__u8 proto;
	__u8 pad[3];
};

/*
 * A connection; "fwd" is the direction of its first packet, "rev" replies.
 * Timestamps are monotonic ns at the kernel tick's resolution, from jiffies
 * or the coarse clock (ct_now() in bpf/lib/conntrack.h): only differences
 * between them mean anything.
 *
 * Hot fields first: an established packet reads and writes only the first
 * 56 bytes. In the kernel's preallocated hash element (a 48-byte header,
 * the key rounded up to 8 bytes, then the value) an IPv4 entry starts at
 * byte 72, so those 56 bytes fill the element's second cache line alone,
 * and the 120-byte value makes the element exactly 192 bytes, three whole
 * lines: a packet touches the element's first two lines (header and key,
 * then the hot fields) and never the third. Fields that the policy and
 * load-balancing stages add take their bytes from pad (hot, per packet) or
 * reserved (cold), so the element keeps its size.
 */
struct tycho_ct_entry {
	__u64 packets_fwd;
	__u64 bytes_fwd;
	__u64 packets_rev;
	__u64 bytes_rev;
	__u64 last_seen_ns;
	__u64 report_at_ns;     /* the next periodic report is due from this time on */
	__u8 flags_fwd;         /* TCP flags seen original direction (from the opener) */
	__u8 flags_rev;         /* TCP flags seen reply direction */
	__u8 opened_by_daddr;   /* 1 when the key's daddr end sent the first packet */
	__u8 l7_payload;        /* 1 when either port was an L7 port (tycho_config) as it opened */
	__u8 obs_point;         /* observation point of the first packet */
	__u8 pad[3];
	/* Cold: written when the connection opens, read by events and the agent. */
	__u64 first_seen_ns;
	__u32 src_identity;     /* filled by the policy issue; 0 = unknown */
	__u32 dst_identity;
	__u8 reserved[48];
};

/* Per-endpoint state keyed by the host-side veth ifindex. */
struct tycho_endpoint_info {
	__u32 endpoint_id;
	__u32 identity;
	__u32 flags;
	__u32 pad;
};

/* Datapath configuration, a single-entry array map. */
struct tycho_config {
	__u64 report_interval_ns;            /* periodic report of long-lived connections */
	__u16 l7_ports[TYCHO_L7_PORTS_MAX];  /* host byte order, 0 = unused slot */
	__u32 payload_max;                   /* bytes of L7 payload copied, <= TYCHO_PAYLOAD_MAX */
	__u32 pad;
};

/* Counters in a per-CPU array map, one slot per index. */
enum tycho_counter {
	TYCHO_COUNTER_LOST_EVENTS = 0,   /* ring-buffer reservations that failed */
	TYCHO_COUNTER_PACKETS = 1,
	TYCHO_COUNTER_EVENTS = 2,
	TYCHO_COUNTER_PARSE_ERRORS = 3,  /* truncated or malformed packets */
	TYCHO_COUNTER_MAX = 8,
};

/* Event header, sent on its own for events without payload. */
struct tycho_flow_event {
	__u64 ts_ns;             /* bpf_ktime_get_boot_ns() */
	__u8 type;               /* enum tycho_event_type */
	__u8 sub_type;           /* enum tycho_trace_reason, drop reason code, or enum tycho_verdict_direction */
	__u8 obs_point;          /* enum tycho_obs_point */
	__u8 verdict;            /* enum tycho_verdict */
	__u32 ifindex;
	__u32 endpoint_id;
	__u8 is_reply;
	__u8 tcp_flags;          /* flags of the packet that raised the event */
	__u8 drop_reason;        /* 0 unless dropped */
	__u8 policy_match;       /* enum tycho_policy_match; policy-verdict events only */
	struct tycho_tuple tuple;    /* as the packet carried it */
	__u32 src_identity;
	__u32 dst_identity;
	__u64 packets_fwd;
	__u64 bytes_fwd;
	__u64 packets_rev;
	__u64 bytes_rev;
	__u32 pkt_len;           /* length of the packet on the wire */
	__u16 payload_len;       /* bytes of payload that follow (payload events only) */
	__u16 pad1;
};

/* Event with the first bytes of L4 payload, for L7 parsing. */
struct tycho_flow_event_payload {
	struct tycho_flow_event hdr;
	__u8 payload[TYCHO_PAYLOAD_MAX];
};

#endif /* TYCHO_ABI_H */
