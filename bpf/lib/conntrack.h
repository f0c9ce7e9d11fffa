/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking. One entry per connection and endpoint veth, keyed by
 * the connection's two ends in canonical order plus the veth's ifindex, so a
 * packet finds its connection with a single lookup whichever way it travels.
 * The entry remembers which end opened the connection: packets from that end
 * go the original ("fwd") direction, packets to it are replies. It counts
 * packets and bytes each way and the TCP flags seen each way, which decides
 * when a packet is worth a trace event.
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

/* The kernel's tick rate, filled in by libbpf from the kernel config when the
 * object loads; 0 when the config cannot be read. */
extern const unsigned int CONFIG_HZ __kconfig __weak;

/* Conntrack's clock, for the entries' timestamps and the report interval:
 * monotonic ns at the resolution of the kernel tick (1-10 ms). Every packet
 * reads it, and a precise read (bpf_ktime_get_boot_ns()) costs about as much
 * as everything else conntrack does for an established packet. jiffies cost
 * nothing (the verifier inlines the read); with an unknown tick rate the
 * coarse clock does the job, still cheaper than a precise one. The verifier
 * knows CONFIG_HZ, so only one branch remains in the loaded program. */
static __always_inline __u64 ct_now(void)
{
	switch (CONFIG_HZ) {
	case 100:
		return bpf_jiffies64() * 10000000;
	case 250:
		return bpf_jiffies64() * 4000000;
	case 1000:
		return bpf_jiffies64() * 1000000;
	default:
		return bpf_ktime_get_coarse_ns();
	}
}

struct ct_state {
	struct tycho_ct_entry *entry;
	__u8 is_reply;
	__u8 trace_reason;   /* enum tycho_trace_reason, 0 = nothing to report */
};

/* Whether end a sorts before end b: the lower address, compared as a
 * big-endian number, then the lower port. Any strict order would do; this
 * one reads naturally in a map dump. IPv4 differs in the first word. */
static __always_inline bool ct_end_before(const struct tycho_addr *a, __be16 a_port,
					  const struct tycho_addr *b, __be16 b_port)
{
	const __u32 *a_words = (const __u32 *)a->bytes;
	const __u32 *b_words = (const __u32 *)b->bytes;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (a_words[i] != b_words[i])
			return bpf_ntohl(a_words[i]) < bpf_ntohl(b_words[i]);
	}
	return bpf_ntohs(a_port) < bpf_ntohs(b_port);
}

/* Fills key with the packet's connection, ends in canonical order. Returns
 * true when the packet travels from the key's daddr end to its saddr end.
 * ICMP echo messages are keyed by their identifier on the requester's end,
 * so a reply finds its request. Every byte is set: the key is hashed whole. */
static __always_inline bool ct_key_from_packet(struct tycho_ct_key *key, const struct packet *pkt, __u32 ifindex)
{
	__be16 sport = pkt->tuple.sport, dport = pkt->tuple.dport;
	bool reversed;

	if (pkt->icmp_echo == ICMP_ECHO_REQUEST) {
		sport = pkt->icmp_id;
		dport = 0;
	} else if (pkt->icmp_echo == ICMP_ECHO_REPLY) {
		sport = 0;
		dport = pkt->icmp_id;
	}

	reversed = ct_end_before(&pkt->tuple.daddr, dport, &pkt->tuple.saddr, sport);
	if (reversed) {
		key->tuple.saddr = pkt->tuple.daddr;
		key->tuple.daddr = pkt->tuple.saddr;
		key->tuple.sport = dport;
		key->tuple.dport = sport;
	} else {
		key->tuple.saddr = pkt->tuple.saddr;
		key->tuple.daddr = pkt->tuple.daddr;
		key->tuple.sport = sport;
		key->tuple.dport = dport;
	}
	key->tuple.proto = pkt->tuple.proto;
	key->tuple.family = pkt->tuple.family;
	key->tuple.pad[0] = 0;
	key->tuple.pad[1] = 0;
	key->ifindex = ifindex;
	return reversed;
}

/* A fresh SYN on a connection that already closed starts a new connection,
 * opened by the SYN's sender. */
static __always_inline bool ct_is_reopened(const struct tycho_ct_entry *entry, const struct packet *pkt)
{
	__u8 closing = TYCHO_TCP_FIN | TYCHO_TCP_RST;

	return pkt->tuple.proto == IPPROTO_TCP &&
	       (pkt->tcp_flags & (TYCHO_TCP_SYN | TYCHO_TCP_ACK)) == TYCHO_TCP_SYN &&
	       ((entry->flags_fwd | entry->flags_rev) & closing);
}

/* A new connection, opened by the packet's sender. */
static __always_inline int ct_create(const struct tycho_ct_key *key, bool reversed, __u8 obs_point,
				     __u64 now, struct ct_state *state)
{
	struct tycho_ct_entry entry = {
		.first_seen_ns = now,
		.last_seen_ns = now,
		.last_report_ns = now,
		.obs_point = obs_point,
		.opened_by_daddr = reversed,
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
				      __u64 report_interval_ns, struct ct_state *state)
{
	struct tycho_ct_key key;
	struct tycho_ct_entry *entry;
	__u64 now = ct_now();
	__u8 *seen, notable;
	bool reversed;
	int err;

	state->trace_reason = 0;
	reversed = ct_key_from_packet(&key, pkt, ifindex);
	entry = bpf_map_lookup_elem(&tycho_ct, &key);
	if (entry && !ct_is_reopened(entry, pkt)) {
		state->entry = entry;
		state->is_reply = reversed != entry->opened_by_daddr;
	} else {
		err = ct_create(&key, reversed, obs_point, now, state);
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
