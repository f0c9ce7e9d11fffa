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

/* 0 when the policy allows the connection, else DROP_POLICY_DENY or DROP_POLICY_DENIED. */
static __always_inline int policy_verdict(__u32 endpoint_id, __u8 direction, __u32 identity, bool enforced,
					  const struct packet *pkt)
{
	const struct tycho_policy_entry *entry = policy_lookup(endpoint_id, direction, identity, pkt);

	if (!entry && identity != 0)
		entry = policy_lookup(endpoint_id, direction, 0, pkt);
	if (!entry)
		return enforced ? DROP_POLICY_DENIED : 0;
	return (entry->flags & TYCHO_POLICY_F_DENY) ? DROP_POLICY_DENY : 0;
}

/*
 * The policy decision for a packet that just created its conntrack entry
 * (ct->trace_reason == TYCHO_TRACE_NEW). Returns 0 to let it pass, or
 * TC_ACT_SHOT after removing the entry and emitting a drop event that names
 * both identities. Out of line: only new connections take this path.
 */
static __noinline int policy_new_connection(struct __sk_buff *skb, const struct packet *pkt, struct ct_state *ct,
					    __u8 obs_point)
{
	const struct tycho_policy_endpoint *policy;
	const struct tycho_endpoint_info *ep;
	struct tycho_ct_key4 ct_key;
	struct event_meta meta;
	__u32 endpoint_id, local, remote, enforced_flag, lookup_flag;
	__be32 remote_addr;
	bool egress = obs_point == TYCHO_OBS_FROM_ENDPOINT;
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

	__builtin_memcpy(&remote_addr, egress ? pkt->tuple.daddr.bytes : pkt->tuple.saddr.bytes, sizeof(remote_addr));
	remote = ipcache_identity4(remote_addr);
	direction = egress ? TYCHO_POLICY_EGRESS : TYCHO_POLICY_INGRESS;
	verdict = policy_verdict(endpoint_id, direction, remote, policy->flags & enforced_flag, pkt);
	if (verdict == 0) {
		/* The opener's identity first, as the entry's fwd direction. */
		ct->entry->src_identity = egress ? local : remote;
		ct->entry->dst_identity = egress ? remote : local;
		return 0;
	}

	ct_key4_from_packet(&ct_key, pkt, skb->ifindex);
	bpf_map_delete_elem(&tycho_ct4, &ct_key);
	meta = (struct event_meta){
		.ifindex = skb->ifindex,
		.endpoint_id = endpoint_id,
		.src_identity = egress ? local : remote,
		.dst_identity = egress ? remote : local,
		.obs_point = obs_point,
	};
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
