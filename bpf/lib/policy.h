/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Network policy enforcement at an endpoint's veth, for the packet that
 * opens a connection there (a new conntrack entry). Later packets of an
 * allowed connection, replies included, pass through conntrack without a
 * lookup, as in Cilium. A denied packet leaves no conntrack entry behind, so
 * its retransmissions are judged again (and allowed once the agent has
 * written a rule that allows them).
 *
 *   egress  (from_container): local = the endpoint, remote = ipcache(daddr)
 *   ingress (to_container):   local = the endpoint, remote = ipcache(saddr)
 *
 * Lookup (the same as lookupPolicyMapKey in @tycho/policy): the longest
 * prefix for (endpoint, direction, remote identity, protocol, port), then for
 * identity 0; a key with TYCHO_POLICY_F_DENY drops with POLICY_DENY, no key
 * in an enforced direction drops with POLICY_DENIED. The identities found
 * are kept in the conntrack entry and reported in the connection's events.
 * A connection allowed in an enforced direction also raises one
 * policy-verdict event (type 5) with the kind of key that matched; a denied
 * one raises only its drop event.
 *
 * Only IPv4 is enforced: the ipcache holds IPv4 prefixes.
 */
#ifndef TYCHO_POLICY_H
#define TYCHO_POLICY_H

#include <tycho/policy.h>

#include "common.h"
#include "packet.h"
#include "endpoint.h"
#include "conntrack.h"
#include "events.h"
#include "drop.h"

#define IPCACHE_MAX_ENTRIES 65536
#define POLICY_MAX_ENTRIES 262144

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct tycho_ipcache_key4);
	__type(value, struct tycho_ipcache_entry);
	__uint(max_entries, IPCACHE_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_ipcache4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct tycho_policy_key);
	__type(value, struct tycho_policy_entry);
	__uint(max_entries, POLICY_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct tycho_policy_endpoint);
	__uint(max_entries, 4096);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_policy_ep SEC(".maps");

/* The identity of an IPv4 address: its longest ipcache prefix, else world. */
static __always_inline __u32 ipcache_identity4(__be32 addr)
{
	struct tycho_ipcache_key4 key = { .prefixlen = 32, .addr = addr };
	const struct tycho_ipcache_entry *entry = bpf_map_lookup_elem(&tycho_ipcache4, &key);

	return entry ? entry->identity : TYCHO_IDENTITY_WORLD;
}

/* The destination port as policy keys carry it: only TCP, UDP and SCTP have one. */
static __always_inline __be16 policy_dport(const struct packet *pkt)
{
	switch (pkt->tuple.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		return pkt->tuple.dport;
	default:
		return 0;
	}
}

/* The map's answer for one remote identity, NULL when it has no key. */
static __always_inline const struct tycho_policy_entry *
policy_lookup(__u32 endpoint_id, __u8 direction, __u32 identity, const struct packet *pkt)
{
	struct tycho_policy_key key = {
		.prefixlen = TYCHO_POLICY_KEY_EXACT_BITS + 24,
		.endpoint_id = endpoint_id,
		.identity = identity,
		.direction = direction,
		.proto = pkt->tuple.proto,
		.dport = policy_dport(pkt),
	};

	return bpf_map_lookup_elem(&tycho_policy, &key);
}

/* The map's answer for the remote identity, else for identity 0 (any);
 * *matched is the identity of the key found. NULL when neither has a key. */
static __always_inline const struct tycho_policy_entry *
policy_find(__u32 endpoint_id, __u8 direction, __u32 identity, const struct packet *pkt, __u32 *matched)
{
	const struct tycho_policy_entry *entry = policy_lookup(endpoint_id, direction, identity, pkt);

	*matched = identity;
	if (!entry && identity != 0) {
		*matched = 0;
		entry = policy_lookup(endpoint_id, direction, 0, pkt);
	}
	return entry;
}

/* 0 when the entry allows the connection, else DROP_POLICY_DENY or DROP_POLICY_DENIED. */
static __always_inline int policy_verdict(const struct tycho_policy_entry *entry, bool enforced)
{
	if (!entry)
		return enforced ? DROP_POLICY_DENIED : 0;
	return (entry->flags & TYCHO_POLICY_F_DENY) ? DROP_POLICY_DENY : 0;
}

/*
 * Which kind of key the lookup found (enum tycho_policy_match). The LPM
 * answer does not say how long its key was, so a second lookup at the exact
 * part alone (prefix 72) finds the identity's any-protocol key: when that is
 * the very element the first lookup returned, the key fixed no L4 part.
 */
static __always_inline __u8 policy_match_type(__u32 endpoint_id, __u8 direction, __u32 matched,
					      const struct tycho_policy_entry *entry)
{
	struct tycho_policy_key key = {
		.prefixlen = TYCHO_POLICY_KEY_EXACT_BITS,
		.endpoint_id = endpoint_id,
		.identity = matched,
		.direction = direction,
	};
	bool l4 = bpf_map_lookup_elem(&tycho_policy, &key) != entry;

	if (matched)
		return l4 ? TYCHO_POLICY_MATCH_L3_L4 : TYCHO_POLICY_MATCH_L3_ONLY;
	return l4 ? TYCHO_POLICY_MATCH_L4_ONLY : TYCHO_POLICY_MATCH_ALL;
}

/* A policy-verdict event (Cilium's policy verdict notification) for a
 * connection allowed in an enforced direction: sub-type the direction, no
 * conntrack counters (the connection's trace event carries them). */
static __always_inline void policy_verdict_notify(const struct packet *pkt, struct event_meta *meta, bool egress,
						  __u8 match)
{
	meta->type = TYCHO_EVENT_POLICY_VERDICT;
	meta->sub_type = egress ? TYCHO_VERDICT_DIR_EGRESS : TYCHO_VERDICT_DIR_INGRESS;
	meta->verdict = TYCHO_VERDICT_FORWARDED;
	meta->policy_match = match;
	emit_event(pkt, meta, NULL);
}

/*
 * The policy decision for a packet that just created its conntrack entry
 * (ct->trace_reason == TYCHO_TRACE_NEW). Returns 0 to let it pass, after a
 * policy-verdict event when the direction is enforced; or TC_ACT_SHOT after
 * removing the entry and emitting a drop event that names both identities
 * (the drop event is the denied verdict: one event per denied packet). Out
 * of line: only new connections take this path.
 */
static __noinline int policy_new_connection(struct __sk_buff *skb, const struct packet *pkt, struct ct_state *ct,
					    __u8 obs_point)
{
	const struct tycho_policy_endpoint *policy;
	const struct tycho_policy_entry *entry;
	const struct tycho_endpoint_info *ep;
	struct tycho_ct_key4 ct_key;
	struct event_meta meta;
	__u32 endpoint_id, local, remote, matched, enforced_flag, lookup_flag;
	__be32 remote_addr;
	bool egress = obs_point == TYCHO_OBS_FROM_ENDPOINT;
	bool enforced;
	__u8 direction;
	int verdict;

	if (pkt->tuple.family != 4)
		return 0;
	ep = endpoint_lookup(skb->ifindex);
	if (!ep)
		return 0;
	endpoint_id = ep->endpoint_id;
	local = ep->identity;
	policy = bpf_map_lookup_elem(&tycho_policy_ep, &endpoint_id);
	if (!policy)
		return 0;
	lookup_flag = egress ? TYCHO_POLICY_EP_EGRESS_LOOKUP : TYCHO_POLICY_EP_INGRESS_LOOKUP;
	enforced_flag = egress ? TYCHO_POLICY_EP_EGRESS_ENFORCED : TYCHO_POLICY_EP_INGRESS_ENFORCED;
	if (!(policy->flags & lookup_flag))
		return 0;
	enforced = policy->flags & enforced_flag;

	__builtin_memcpy(&remote_addr, egress ? pkt->tuple.daddr.bytes : pkt->tuple.saddr.bytes, sizeof(remote_addr));
	remote = ipcache_identity4(remote_addr);
	direction = egress ? TYCHO_POLICY_EGRESS : TYCHO_POLICY_INGRESS;
	entry = policy_find(endpoint_id, direction, remote, pkt, &matched);
	verdict = policy_verdict(entry, enforced);
	meta = (struct event_meta){
		.ifindex = skb->ifindex,
		.endpoint_id = endpoint_id,
		.src_identity = egress ? local : remote,
		.dst_identity = egress ? remote : local,
		.obs_point = obs_point,
	};
	if (verdict == 0) {
		/* The opener's identity first, as the entry's fwd direction. */
		ct->entry->src_identity = meta.src_identity;
		ct->entry->dst_identity = meta.dst_identity;
		if (enforced && entry)
			policy_verdict_notify(pkt, &meta, egress, policy_match_type(endpoint_id, direction, matched, entry));
		return 0;
	}

	ct_key4_from_packet(&ct_key, pkt, skb->ifindex);
	bpf_map_delete_elem(&tycho_ct4, &ct_key);
	return drop_packet(pkt, &meta, verdict);
}

/* The identities policy found for the connection, in the packet's direction;
 * events of connections that were not looked up keep what they have. */
static __always_inline void policy_event_identities(struct event_meta *meta, const struct ct_state *ct)
{
	__u32 opener = ct->entry->src_identity, peer = ct->entry->dst_identity;

	if (!opener)
		return;
	meta->src_identity = ct->is_reply ? peer : opener;
	meta->dst_identity = ct->is_reply ? opener : peer;
}

#endif /* TYCHO_POLICY_H */
