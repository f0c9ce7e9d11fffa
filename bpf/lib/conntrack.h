/*
 * Connection tracking. One entry per connection and endpoint veth, in
 * tycho_ct4 or tycho_ct6 by address family, keyed by the connection's two
 * ends in canonical order plus the veth's ifindex, so a packet finds its
 * connection with a single lookup whichever way it travels. The entry
 * remembers which end opened the connection: packets from that end go the
 * original ("fwd") direction, packets to it are replies. It counts packets
 * and bytes each way and the TCP flags seen each way, which decides when a
 * packet is worth a trace event.
 *
 * An established packet touches the map's bucket, the element's header and
 * key, and the entry's hot fields (struct tycho_ct_entry), nothing else: what
 * needs the config (the L7 ports, the report interval) is settled when the
 * connection opens and when it reports, and kept in the entry. A config
 * change therefore applies to a connection from its next report (interval)
 * or to connections opened after it (L7 ports).
 */
#ifndef TYCHO_CONNTRACK_H
#define TYCHO_CONNTRACK_H

#include "common.h"
#include "config.h"
#include "packet.h"
#include "parse.h"
#include "drop.h"

#define CT_MAX_ENTRIES 65536

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct tycho_ct_key4);
	__type(value, struct tycho_ct_entry);
	__uint(max_entries, CT_MAX_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_ct4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct tycho_ct_key6);
	__type(value, struct tycho_ct_entry);
	__uint(max_entries, CT_MAX_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_ct6 SEC(".maps");

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

/* One packet's passage through conntrack: what ct_process() is given about
 * it, and what it learns. */
struct ct_state {
	struct tycho_ct_entry *entry;
	__u64 now;           /* ct_now() for this packet */
	__u8 obs_point;      /* where the packet is seen, for a new entry */
	__u8 reversed;       /* the packet travels from the key's daddr end to its saddr end */
	__u8 is_reply;
	__u8 trace_reason;   /* enum tycho_trace_reason, 0 = nothing to report */
};

/* The ports that key the packet's connection: its own, except for ICMP echo
 * messages, keyed by their identifier on the requester's end so that a
 * reply finds its request. */
static __always_inline void ct_ports(const struct packet *pkt, __be16 *sport, __be16 *dport)
{
	*sport = pkt->tuple.sport;
	*dport = pkt->tuple.dport;
	if (pkt->icmp_echo == ICMP_ECHO_REQUEST) {
		*sport = pkt->icmp_id;
		*dport = 0;
	} else if (pkt->icmp_echo == ICMP_ECHO_REPLY) {
		*sport = 0;
		*dport = pkt->icmp_id;
	}
}

/* Fills key with the IPv4 packet's connection, ends in canonical order.
 * Returns true when the packet travels from the key's daddr end to its saddr
 * end. Every byte is set: the key is hashed whole. */
static __always_inline bool ct_key4_from_packet(struct tycho_ct_key4 *key, const struct packet *pkt, __u32 ifindex)
{
	__be32 saddr, daddr;
	__be16 sport, dport;
	bool reversed;

	__builtin_memcpy(&saddr, pkt->tuple.saddr.bytes, sizeof(saddr));
	__builtin_memcpy(&daddr, pkt->tuple.daddr.bytes, sizeof(daddr));
	ct_ports(pkt, &sport, &dport);
	if (saddr != daddr)
		reversed = bpf_ntohl(daddr) < bpf_ntohl(saddr);
	else
		reversed = bpf_ntohs(dport) < bpf_ntohs(sport);

	*key = (struct tycho_ct_key4){ .ifindex = ifindex, .proto = pkt->tuple.proto };
	if (reversed) {
		key->saddr = daddr;
		key->daddr = saddr;
		key->sport = dport;
		key->dport = sport;
	} else {
		key->saddr = saddr;
		key->daddr = daddr;
		key->sport = sport;
		key->dport = dport;
	}
	return reversed;
}

/* Whether IPv6 end a sorts before end b: the lower address, compared as a
 * big-endian number, then the lower port. */
static __always_inline bool ct_end6_before(const struct tycho_addr *a, __be16 a_port,
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

/* ct_key4_from_packet() for an IPv6 packet. */
static __always_inline bool ct_key6_from_packet(struct tycho_ct_key6 *key, const struct packet *pkt, __u32 ifindex)
{
	__be16 sport, dport;
	bool reversed;

	ct_ports(pkt, &sport, &dport);
	reversed = ct_end6_before(&pkt->tuple.daddr, dport, &pkt->tuple.saddr, sport);

	*key = (struct tycho_ct_key6){ .ifindex = ifindex, .proto = pkt->tuple.proto };
	if (reversed) {
		key->saddr = pkt->tuple.daddr;
		key->daddr = pkt->tuple.saddr;
		key->sport = dport;
		key->dport = sport;
	} else {
		key->saddr = pkt->tuple.saddr;
		key->daddr = pkt->tuple.daddr;
		key->sport = sport;
		key->dport = dport;
	}
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

/* The packet's entry in map; NULL when its connection is new, or when a
 * closed connection opens again. */
static __always_inline struct tycho_ct_entry *ct_lookup(void *map, const void *key, const struct packet *pkt)
{
	struct tycho_ct_entry *entry = bpf_map_lookup_elem(map, key);

	if (entry && ct_is_reopened(entry, pkt))
		return NULL;
	return entry;
}

/* A new connection, opened by the packet's sender. With a report, the only
 * place that reads the config. 0 or a DROP_* code. */
static __always_inline int ct_create(void *map, const void *key, const struct packet *pkt, struct ct_state *state)
{
	const struct tycho_config *cfg = config_get();
	struct tycho_ct_entry entry = {
		.last_seen_ns = state->now,
		.report_at_ns = state->now + config_report_interval_ns(cfg),
		.opened_by_daddr = state->reversed,
		.l7_payload = config_is_l7_port(cfg, pkt->tuple.sport, pkt->tuple.dport),
		.obs_point = state->obs_point,
		.first_seen_ns = state->now,
	};
	int err;

	/* BPF_ANY: also overwrites an entry ct_is_reopened() retired. A
	 * concurrent creation on another CPU just resets the same entry. */
	err = bpf_map_update_elem(map, key, &entry, BPF_ANY);
	if (err < 0)
		return DROP_CT_CREATE_FAILED;
	state->entry = bpf_map_lookup_elem(map, key);
	if (!state->entry)
		return DROP_CT_CREATE_FAILED;
	state->trace_reason = TYCHO_TRACE_NEW;
	return 0;
}

/* Out of line (a BPF subprogram), as every path that only some packets take:
 * the established IPv4 path stays short and contiguous in the JITed
 * program, and on live traffic its instruction cache misses cost more than
 * its instructions (docs/benchmarks.md). */
static __noinline int ct_create4(const struct tycho_ct_key4 *key, const struct packet *pkt, struct ct_state *state)
{
	return ct_create(&tycho_ct4, key, pkt, state);
}

/* Finds or creates an IPv6 packet's entry. Out of line like ct_create4(). */
static __noinline int ct_find6(const struct packet *pkt, __u32 ifindex, struct ct_state *state)
{
	struct tycho_ct_key6 key;

	state->reversed = ct_key6_from_packet(&key, pkt, ifindex);
	state->entry = ct_lookup(&tycho_ct6, &key, pkt);
	if (state->entry)
		return 0;
	return ct_create(&tycho_ct6, &key, pkt, state);
}

/* Counts the packet in its entry and decides whether it deserves a trace
 * event: a new connection, a notable TCP flag new in its direction, or a
 * report that is due. */
static __always_inline void ct_account(const struct packet *pkt, struct ct_state *state)
{
	struct tycho_ct_entry *entry = state->entry;
	__u8 *seen, notable;

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
	entry->last_seen_ns = state->now;

	if (state->trace_reason)
		return;
	if (notable) {
		state->trace_reason = TYCHO_TRACE_FLAGS;
	} else if (state->now >= entry->report_at_ns) {
		entry->report_at_ns = state->now + config_report_interval_ns(config_get());
		state->trace_reason = TYCHO_TRACE_REPORT;
	}
}

/* Finds or creates the packet's connection, accounts the packet to it and
 * decides whether the packet deserves a trace event. 0 or a DROP_* code. */
static __always_inline int ct_process(const struct packet *pkt, __u32 ifindex, __u8 obs_point,
				      struct ct_state *state)
{
	int err = 0;

	state->now = ct_now();
	state->obs_point = obs_point;
	state->trace_reason = 0;
	if (pkt->tuple.family == 4) {
		struct tycho_ct_key4 key;

		state->reversed = ct_key4_from_packet(&key, pkt, ifindex);
		state->entry = ct_lookup(&tycho_ct4, &key, pkt);
		if (!state->entry)
			err = ct_create4(&key, pkt, state);
	} else {
		err = ct_find6(pkt, ifindex, state);
	}
	if (err < 0)
		return err;
	state->is_reply = state->reversed != state->entry->opened_by_daddr;
	ct_account(pkt, state);
	return 0;
}

#endif /* TYCHO_CONNTRACK_H */
