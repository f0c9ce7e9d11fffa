/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking. An entry is keyed by the tuple of the connection's
 * first packet plus the ifindex of the endpoint veth that saw it; a packet
 * whose reversed tuple matches is a reply. The entry counts packets and bytes
 * each way and remembers the TCP flags seen each way, which decides when a
 * packet is worth a trace event.
 */
#ifndef TYCHO_CONNTRACK_H
#define TYCHO_CONNTRACK_H

#include "common.h"
#include "packet.h"
#include "parse.h"
#include "drop.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct tycho_ct_key);
	__type(value, struct tycho_ct_entry);
	__uint(max_entries, 65536);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_ct SEC(".maps");

/* TCP flags that open or close a connection, reported once per direction. */
#define CT_NOTABLE_TCP_FLAGS (TYCHO_TCP_SYN | TYCHO_TCP_FIN | TYCHO_TCP_RST)

struct ct_state {
	struct tycho_ct_entry *entry;
	__u8 is_reply;
	__u8 trace_reason;   /* enum tycho_trace_reason, 0 = nothing to report */
};

/* The tuple conntrack keys on: the packet's, except that ICMP echo messages
 * are keyed by their identifier so a reply matches its request reversed. */
static __always_inline void ct_key_from_packet(struct tycho_ct_key *key, const struct packet *pkt, __u32 ifindex)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->tuple = pkt->tuple;
	key->ifindex = ifindex;
	if (pkt->icmp_echo == ICMP_ECHO_REQUEST) {
		key->tuple.sport = pkt->icmp_id;
		key->tuple.dport = 0;
	} else if (pkt->icmp_echo == ICMP_ECHO_REPLY) {
		key->tuple.sport = 0;
		key->tuple.dport = pkt->icmp_id;
	}
}

static __always_inline void ct_key_reverse(struct tycho_ct_key *rev, const struct tycho_ct_key *key)
{
	__builtin_memset(rev, 0, sizeof(*rev));
	rev->tuple.saddr = key->tuple.daddr;
	rev->tuple.daddr = key->tuple.saddr;
	rev->tuple.sport = key->tuple.dport;
	rev->tuple.dport = key->tuple.sport;
	rev->tuple.proto = key->tuple.proto;
	rev->tuple.family = key->tuple.family;
	rev->ifindex = key->ifindex;
}

/* A fresh SYN on a connection that already closed starts a new connection. */
static __always_inline bool ct_is_reopened(const struct tycho_ct_entry *entry, const struct packet *pkt)
{
	__u8 closing = TYCHO_TCP_FIN | TYCHO_TCP_RST;

	return pkt->tuple.proto == IPPROTO_TCP &&
	       (pkt->tcp_flags & (TYCHO_TCP_SYN | TYCHO_TCP_ACK)) == TYCHO_TCP_SYN &&
	       ((entry->flags_fwd | entry->flags_rev) & closing);
}

static __always_inline int ct_create(const struct tycho_ct_key *key, __u8 obs_point, __u64 now,
				     struct ct_state *state)
{
	struct tycho_ct_entry entry = {
		.first_seen_ns = now,
		.last_seen_ns = now,
		.last_report_ns = now,
		.obs_point = obs_point,
	};
	int err;

	/* BPF_ANY: also overwrites an entry ct_is_reopened() retired. A
	 * concurrent creation on another CPU just resets the same entry. */
	err = bpf_map_update_elem(&tycho_ct, key, &entry, BPF_ANY);
	if (err < 0)
		return DROP_CT_CREATE_FAILED;
	state->entry = bpf_map_lookup_elem(&tycho_ct, key);
	if (!state->entry)
		return DROP_CT_CREATE_FAILED;
	state->is_reply = 0;
	state->trace_reason = TYCHO_TRACE_NEW;
	return 0;
}

/* Finds or creates the packet's connection, accounts the packet to it and
 * decides whether the packet deserves a trace event. 0 or a DROP_* code. */
static __always_inline int ct_process(const struct packet *pkt, __u32 ifindex, __u8 obs_point,
				      __u64 now, __u64 report_interval_ns, struct ct_state *state)
{
	struct tycho_ct_key key, rev;
	struct tycho_ct_entry *entry;
	__u8 *seen, notable;
	int err;

	state->trace_reason = 0;
	ct_key_from_packet(&key, pkt, ifindex);
	entry = bpf_map_lookup_elem(&tycho_ct, &key);
	if (entry) {
		if (ct_is_reopened(entry, pkt)) {
			entry = NULL;
		} else {
			state->entry = entry;
			state->is_reply = 0;
		}
	} else {
		ct_key_reverse(&rev, &key);
		entry = bpf_map_lookup_elem(&tycho_ct, &rev);
		if (entry) {
			state->entry = entry;
			state->is_reply = 1;
		}
	}
	if (!entry) {
		err = ct_create(&key, obs_point, now, state);
		if (err < 0)
			return err;
		entry = state->entry;
	}

	if (state->is_reply) {
		__sync_fetch_and_add(&entry->packets_rev, 1);
		__sync_fetch_and_add(&entry->bytes_rev, pkt->len);
		seen = &entry->flags_rev;
	} else {
		__sync_fetch_and_add(&entry->packets_fwd, 1);
		__sync_fetch_and_add(&entry->bytes_fwd, pkt->len);
		seen = &entry->flags_fwd;
	}
	notable = pkt->tcp_flags & CT_NOTABLE_TCP_FLAGS & ~*seen;
	*seen |= pkt->tcp_flags;
	entry->last_seen_ns = now;

	if (state->trace_reason)
		return 0;
	if (notable) {
		state->trace_reason = TYCHO_TRACE_FLAGS;
	} else if (now - entry->last_report_ns >= report_interval_ns) {
		entry->last_report_ns = now;
		state->trace_reason = TYCHO_TRACE_REPORT;
	}
	return 0;
}

#endif /* TYCHO_CONNTRACK_H */
