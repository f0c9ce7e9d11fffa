/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Service load-balancing maps and lookups, shared by the socket-level
 * programs (bpf_sock.c) and, later, per-packet DNAT at tc. Layouts in
 * bpf/include/tycho/lb.h; the agent writes the maps from @tycho/services'
 * compileServiceMaps() records.
 */
#ifndef TYCHO_LIB_LB_H
#define TYCHO_LIB_LB_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <tycho/lb.h>

#define LB_SERVICE_MAP_MAX 65536
#define LB_BACKEND_MAP_MAX 65536
#define LB_REV_NAT_MAP_MAX 65536
#define LB_AFFINITY_MAP_MAX 65536
#define LB_NODE_MAP_MAX 256
#define LB_MAGLEV_MAP_MAX 65536
#define NSEC_PER_SEC 1000000000ULL

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct tycho_lb4_key);
	__type(value, struct tycho_lb4_service);
	__uint(max_entries, LB_SERVICE_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_lb4_svc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct tycho_lb4_backend);
	__uint(max_entries, LB_BACKEND_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_lb4_be SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct tycho_lb4_reverse_nat);
	__uint(max_entries, LB_REV_NAT_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_lb4_rnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct tycho_lb_affinity_key);
	__type(value, struct tycho_lb_affinity_value);
	__uint(max_entries, LB_AFFINITY_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_lb_aff SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __be32);
	__type(value, struct tycho_lb4_node);
	__uint(max_entries, LB_NODE_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_lb4_node SEC(".maps");

/* Template of the Maglev inner tables: BPF_F_INNER_MAP lets the agent insert
 * arrays of any size (M + 1 entries, see tycho/lb.h); the agent creates
 * them with the same type, sizes and flags. */
struct tycho_lb4_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
};

/* rev_nat_index → the service's Maglev table, as Cilium's cilium_lb4_maglev.
 * A table is replaced by inserting a new inner map under the same key, so a
 * lookup sees the old table or the new one, never a mix. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, LB_MAGLEV_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct tycho_lb4_maglev_inner);
} tycho_lb4_maglev SEC(".maps");

/* The frontend entry (slot 0) for `key` (address, dport, proto set). From
 * inside the cluster a TWO_SCOPES frontend is served by its internal entry,
 * which lists every backend; `key->scope` is left at the scope found. */
static __always_inline const struct tycho_lb4_service *lb4_lookup_service(struct tycho_lb4_key *key, bool from_inside)
{
	const struct tycho_lb4_service *svc;

	key->scope = TYCHO_LB_SCOPE_EXTERNAL;
	key->backend_slot = 0;
	svc = bpf_map_lookup_elem(&tycho_lb4_svc, key);
	if (svc && from_inside && (svc->flags & TYCHO_LB_F_TWO_SCOPES)) {
		key->scope = TYCHO_LB_SCOPE_INTERNAL;
		svc = bpf_map_lookup_elem(&tycho_lb4_svc, key);
	}
	return svc;
}

static __always_inline bool lb4_is_node_address(__be32 address)
{
	return bpf_map_lookup_elem(&tycho_lb4_node, &address) != NULL;
}

static __always_inline const struct tycho_lb4_backend *lb4_lookup_backend(__u32 backend_id)
{
	return bpf_map_lookup_elem(&tycho_lb4_be, &backend_id);
}

/* The backend in `slot` (1..count) of the frontend `key` was found for;
 * NULL when the slot or its backend is missing. */
static __always_inline const struct tycho_lb4_backend *lb4_backend_in_slot(struct tycho_lb4_key *key, __u16 slot,
									    __u32 *backend_id)
{
	const struct tycho_lb4_service *entry;

	key->backend_slot = slot;
	entry = bpf_map_lookup_elem(&tycho_lb4_svc, key);
	key->backend_slot = 0;
	if (!entry)
		return NULL;
	*backend_id = entry->backend_id;
	return lb4_lookup_backend(entry->backend_id);
}

/* The backend a client (network namespace) keeps for a service with
 * ClientIP affinity, if its last use is younger than the timeout; an expired
 * entry is removed. 0 = none. */
static __always_inline __u32 lb_affinity_backend(__u64 netns_cookie, __u16 rev_nat_index, __u32 timeout_s, __u64 now)
{
	struct tycho_lb_affinity_key key = { .netns_cookie = netns_cookie, .rev_nat_index = rev_nat_index };
	struct tycho_lb_affinity_value *value = bpf_map_lookup_elem(&tycho_lb_aff, &key);

	if (!value)
		return 0;
	if (now - value->last_used_ns > (__u64)timeout_s * NSEC_PER_SEC) {
		bpf_map_delete_elem(&tycho_lb_aff, &key);
		return 0;
	}
	return value->backend_id;
}

/* Whether `backend_id` still sits in one of the first slots of the frontend
 * `key` was found for (an affinity entry must not outlive the backend's
 * membership in the service, even while another service keeps the backend).
 * Frontends with more backends than are scanned keep the affinity entry only
 * for backends in the scanned slots. */
#define LB_AFFINITY_SLOT_SCAN 128

static __always_inline bool lb4_backend_in_service(struct tycho_lb4_key *key, __u16 count, __u32 backend_id)
{
	const struct tycho_lb4_service *entry;
	bool found = false;
	__u16 slot;

	for (slot = 1; slot <= LB_AFFINITY_SLOT_SCAN; slot++) {
		if (slot > count)
			break;
		key->backend_slot = slot;
		entry = bpf_map_lookup_elem(&tycho_lb4_svc, key);
		if (entry && entry->backend_id == backend_id) {
			found = true;
			break;
		}
	}
	key->backend_slot = 0;
	return found;
}

/* Bob Jenkins' lookup3 final mix of three words (the kernel's and Cilium's
 * jhash_3words), with a fixed seed: the same packet hashes the same on
 * every node, whatever its kernel or boot (bpf_get_hash_recalc() is seeded
 * at boot). @tycho/services' maglevFlowHash() is the same function. */
#define LB_JHASH_INITVAL 0xdeadbeef
#define LB_MAGLEV_HASH_SEED 0x74796368 /* "tych" */

static __always_inline __u32 lb_rol32(__u32 word, unsigned int shift)
{
	return (word << shift) | (word >> (32 - shift));
}

static __always_inline __u32 lb_jhash_3words(__u32 a, __u32 b, __u32 c, __u32 seed)
{
	__u32 init = LB_JHASH_INITVAL + (3 << 2) + seed;

	a += init;
	b += init;
	c += init;
	c ^= b; c -= lb_rol32(b, 14);
	a ^= c; a -= lb_rol32(c, 11);
	b ^= a; b -= lb_rol32(a, 25);
	c ^= b; c -= lb_rol32(b, 16);
	a ^= c; a -= lb_rol32(c, 4);
	b ^= a; b -= lb_rol32(a, 14);
	c ^= b; c -= lb_rol32(b, 24);
	return c;
}

/* The flow hash Maglev indexes with: source address, both ports (as the
 * packet carries them, in one word) and protocol. The destination is left
 * out, as in Cilium's hash_from_tuple_v4, so a client's flow reaches the
 * same backend through any node address of a NodePort service. */
static __always_inline __u32 lb4_maglev_flow_hash(__be32 saddr, __be16 sport, __be16 dport, __u8 proto)
{
	return lb_jhash_3words(saddr, ((__u32)dport << 16) | sport, proto, LB_MAGLEV_HASH_SEED);
}

/* The backend id the service's Maglev table gives the flow hash; 0 when
 * the service has no table (or an empty slot). */
static __always_inline __u32 lb4_maglev_backend_id(__u16 rev_nat_index, __u32 hash)
{
	__u32 key = rev_nat_index, index = TYCHO_LB_MAGLEV_SIZE_SLOT;
	__u32 *size, *id;
	void *table;

	table = bpf_map_lookup_elem(&tycho_lb4_maglev, &key);
	if (!table)
		return 0;
	size = bpf_map_lookup_elem(table, &index);
	if (!size || *size == 0)
		return 0;
	index = 1 + hash % *size;
	id = bpf_map_lookup_elem(table, &index);
	return id ? *id : 0;
}

static __always_inline void lb_affinity_update(__u64 netns_cookie, __u16 rev_nat_index, __u32 backend_id, __u64 now)
{
	struct tycho_lb_affinity_key key = { .netns_cookie = netns_cookie, .rev_nat_index = rev_nat_index };
	struct tycho_lb_affinity_value value = { .last_used_ns = now, .backend_id = backend_id };

	bpf_map_update_elem(&tycho_lb_aff, &key, &value, BPF_ANY);
}

#endif /* TYCHO_LIB_LB_H */
