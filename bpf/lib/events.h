/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow events to the agent through one ring buffer. Two record sizes, both
 * constant so reservations need no runtime size: struct tycho_flow_event, and
 * struct tycho_flow_event_payload for packets carrying L7 payload.
 * A failed reservation counts as a lost event.
 */
#ifndef TYCHO_EVENTS_H
#define TYCHO_EVENTS_H

#include "common.h"
#include "counters.h"
#include "packet.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_events SEC(".maps");

/* Everything an event says besides the packet and its connection. */
struct event_meta {
	__u32 ifindex;
	__u32 endpoint_id;
	__u32 src_identity;
	__u32 dst_identity;
	__u8 type;          /* enum tycho_event_type */
	__u8 sub_type;      /* enum tycho_trace_reason, the drop reason, or enum tycho_verdict_direction */
	__u8 obs_point;
	__u8 verdict;
	__u8 is_reply;
	__u8 drop_reason;
	__u8 policy_match;  /* enum tycho_policy_match */
};

static __always_inline void event_fill(struct tycho_flow_event *ev, const struct packet *pkt,
				       const struct event_meta *meta, const struct tycho_ct_entry *ct)
{
	ev->ts_ns = bpf_ktime_get_boot_ns();
	ev->type = meta->type;
	ev->sub_type = meta->sub_type;
	ev->obs_point = meta->obs_point;
	ev->verdict = meta->verdict;
	ev->ifindex = meta->ifindex;
	ev->endpoint_id = meta->endpoint_id;
	ev->is_reply = meta->is_reply;
	ev->tcp_flags = pkt->tcp_flags;
	ev->drop_reason = meta->drop_reason;
	ev->policy_match = meta->policy_match;
	ev->tuple = pkt->tuple;
	ev->src_identity = meta->src_identity;
	ev->dst_identity = meta->dst_identity;
	ev->packets_fwd = ct ? ct->packets_fwd : 0;
	ev->bytes_fwd = ct ? ct->bytes_fwd : 0;
	ev->packets_rev = ct ? ct->packets_rev : 0;
	ev->bytes_rev = ct ? ct->bytes_rev : 0;
	ev->pkt_len = pkt->len;
	ev->payload_len = 0;
	ev->pad1 = 0;
}

/* An event without payload; ct is NULL when the packet has no connection. */
static __always_inline void emit_event(const struct packet *pkt, const struct event_meta *meta,
				       const struct tycho_ct_entry *ct)
{
	struct tycho_flow_event *ev;

	ev = bpf_ringbuf_reserve(&tycho_events, sizeof(*ev), 0);
	if (!ev) {
		counter_inc(TYCHO_COUNTER_LOST_EVENTS);
		return;
	}
	event_fill(ev, pkt, meta, ct);
	bpf_ringbuf_submit(ev, 0);
	counter_inc(TYCHO_COUNTER_EVENTS);
}

/* An event with the first min(payload, payload_max) bytes of L4 payload. */
static __always_inline void emit_payload_event(struct __sk_buff *skb, const struct packet *pkt,
					       const struct event_meta *meta,
					       const struct tycho_ct_entry *ct, __u32 payload_max)
{
	struct tycho_flow_event_payload *ev;
	__u64 len = pkt->payload_len;

	/* The verifier needs 0 < len <= TYCHO_PAYLOAD_MAX on the very register
	 * passed to the helper. Left alone, clang compares a zero-extended
	 * copy and drops checks it can prove redundant; the empty asm makes
	 * len an opaque 64-bit value, so every check below stays and applies. */
	asm volatile("" : "+r"(len));
	if (len > payload_max)
		len = payload_max;
	if (len == 0 || len > TYCHO_PAYLOAD_MAX)
		return;

	ev = bpf_ringbuf_reserve(&tycho_events, sizeof(*ev), 0);
	if (!ev) {
		counter_inc(TYCHO_COUNTER_LOST_EVENTS);
		return;
	}
	event_fill(&ev->hdr, pkt, meta, ct);
	ev->hdr.payload_len = len;
	if (bpf_skb_load_bytes(skb, pkt->payload_off, ev->payload, len) < 0) {
		bpf_ringbuf_discard(ev, 0);
		return;
	}
	bpf_ringbuf_submit(ev, 0);
	counter_inc(TYCHO_COUNTER_EVENTS);
}

/* Ring-buffer records have no map key or value to carry their types into the
 * object's BTF, and inlined functions leave none behind. This function is
 * never called; its signature keeps both layouts in the BTF, where
 * codecs.test.ts checks the TypeScript codecs against them. */
__attribute__((used)) static int events_btf_anchor(struct tycho_flow_event *ev,
						    struct tycho_flow_event_payload *payload)
{
	return 0;
}

#endif /* TYCHO_EVENTS_H */
