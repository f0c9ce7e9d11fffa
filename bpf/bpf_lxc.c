// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Programs on an endpoint's host-side veth:
 *   from_container  tc ingress, packets leaving the pod  (FROM_ENDPOINT)
 *   to_container    tc egress, packets going to the pod  (TO_ENDPOINT)
 * Each packet is parsed, tracked and, when notable, reported to the agent.
 * Failures arrive as negative DROP_* codes and become a drop event in
 * drop_packet(); policy and load-balancing stages slot in before the verdict.
 */
#include "common.h"
#include "config.h"
#include "counters.h"
#include "endpoint.h"
#include "packet.h"
#include "parse.h"
#include "conntrack.h"
#include "events.h"
#include "drop.h"
#include "policy.h"

/* What every event from this endpoint says about where it was seen. Only
 * packets that raise an event pay for the endpoint lookup. */
static __always_inline void event_meta_init(struct event_meta *meta, struct __sk_buff *skb, __u8 obs_point)
{
	const struct tycho_endpoint_info *ep = endpoint_lookup(skb->ifindex);

	*meta = (struct event_meta){
		.ifindex = skb->ifindex,
		.obs_point = obs_point,
		.type = TYCHO_EVENT_TRACE,
		.verdict = TYCHO_VERDICT_FORWARDED,
	};
	if (ep) {
		meta->endpoint_id = ep->endpoint_id;
		if (obs_point == TYCHO_OBS_FROM_ENDPOINT)
			meta->src_identity = ep->identity;
		else
			meta->dst_identity = ep->identity;
	}
}

/* The trace event of a packet that has something to tell (at most one per
 * packet): a packet with L7 payload carries it in its trace event, or in a
 * PAYLOAD event when nothing else is notable. Out of line (a BPF
 * subprogram), as every path that only some packets take: the established
 * path stays short and contiguous in the JITed program (see ct_create4() in
 * conntrack.h). */
static __noinline void trace_packet(struct __sk_buff *skb, const struct packet *pkt, const struct ct_state *ct,
				    __u8 obs_point, bool l7_payload)
{
	struct event_meta meta;

	event_meta_init(&meta, skb, obs_point);
	meta.is_reply = ct->is_reply;
	policy_event_identities(&meta, ct);
	if (l7_payload) {
		meta.sub_type = ct->trace_reason ? ct->trace_reason : TYCHO_TRACE_PAYLOAD;
		emit_payload_event(skb, pkt, &meta, ct->entry, config_payload_max(config_get()));
	} else {
		meta.sub_type = ct->trace_reason;
		emit_event(pkt, &meta, ct->entry);
	}
}

/* A failed stage's DROP_* code as a drop event; TC_ACT_SHOT. Out of line
 * like trace_packet(). */
static __noinline int drop_with_event(struct __sk_buff *skb, const struct packet *pkt, __u8 obs_point, int code)
{
	struct event_meta meta;

	event_meta_init(&meta, skb, obs_point);
	return drop_packet(pkt, &meta, code);
}

static __always_inline int handle_packet(struct __sk_buff *skb, __u8 obs_point)
{
	struct ct_state ct;
	struct packet pkt;
	bool l7_payload;
	int ret;

	counter_inc(TYCHO_COUNTER_PACKETS);
	ret = parse_packet(skb, &pkt);
	if (ret == PARSE_UNTRACKED)
		return TC_ACT_OK;
	if (ret < 0) {
		/* Not ours to judge: the stack drops what is really broken. */
		counter_inc(TYCHO_COUNTER_PARSE_ERRORS);
		return TC_ACT_OK;
	}

	ret = ct_process(&pkt, skb->ifindex, obs_point, &ct);
	if (ret < 0)
		return drop_with_event(skb, &pkt, obs_point, ret);

	/* Policy judges the packet that opened a connection here; later
	 * packets of an allowed one pass (bpf/lib/policy.h). */
	if (ct.trace_reason == TYCHO_TRACE_NEW && policy_new_connection(skb, &pkt, &ct, obs_point))
		return TC_ACT_SHOT;

	/* Most packets end here: an established connection, nothing to tell.
	 * Up to here they read no config; the L7 ports were checked when the
	 * connection opened. */
	l7_payload = pkt.payload_len && ct.entry->l7_payload;
	if (l7_payload || ct.trace_reason)
		trace_packet(skb, &pkt, &ct, obs_point, l7_payload);
	return TC_ACT_OK;
}

SEC("tc")
int from_container(struct __sk_buff *skb)
{
	return handle_packet(skb, TYCHO_OBS_FROM_ENDPOINT);
}

SEC("tc")
int to_container(struct __sk_buff *skb)
{
	return handle_packet(skb, TYCHO_OBS_TO_ENDPOINT);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
