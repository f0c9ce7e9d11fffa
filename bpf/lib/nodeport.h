/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-packet service translation for traffic that reaches a node from the
 * network (NodePort on a node address, ExternalIPs, LoadBalancer): frontend
 * lookup in the external scope of the lb maps (lb.h), backend choice, and a
 * NAT conntrack so a connection keeps its backend and its replies are
 * translated back. Layouts in bpf/include/tycho/nodeport.h.
 *
 * A backend this node reaches through the uplink itself (a pod of another
 * node) gets the packet with the node's address as source too (SNAT, as
 * Cilium without DSR), so its replies come back here to be translated.
 */
#ifndef TYCHO_LIB_NODEPORT_H
#define TYCHO_LIB_NODEPORT_H

#include "common.h"
#include "packet.h"
#include "lb.h"

#include <tycho/nodeport.h>

#define NAT_MAP_MAX 262144
#define AF_INET 2

/* Failed to write or modify the packet (Cilium's DROP_WRITE_ERROR). */
#define DROP_WRITE_ERROR -141

/* ClientIP affinity of per-packet traffic shares tycho_lb_aff with the
 * socket programs; its client is the source address, marked by the top bit
 * so it never meets a network namespace cookie (small counters). */
#define NODEPORT_AFFINITY_CLIENT (1ULL << 63)

/* SNAT ports: above the node's own ephemeral ports (ip_local_port_range,
 * 32768-60999 by default), so a translated connection never takes the
 * tuple of one the node opened itself. */
#define SNAT_PORT_MIN 61000
#define SNAT_PORT_RANGE 4536
#define SNAT_PORT_TRIES 8

/* Forward entries: client → frontend. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct tycho_lb4_nat_key);
	__type(value, struct tycho_lb4_nat_entry);
	__uint(max_entries, NAT_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_lb4_nat_fwd SEC(".maps");

/* Reverse entries: backend → client (or → the node's SNAT address). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct tycho_lb4_nat_key);
	__type(value, struct tycho_lb4_nat_entry);
	__uint(max_entries, NAT_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_lb4_nat_rev SEC(".maps");

static __always_inline void nat_key_from_packet(struct tycho_lb4_nat_key *key, const struct packet *pkt)
{
	*key = (struct tycho_lb4_nat_key){
		.sport = pkt->tuple.sport,
		.dport = pkt->tuple.dport,
		.proto = pkt->tuple.proto,
	};
	__builtin_memcpy(&key->saddr, pkt->tuple.saddr.bytes, 4);
	__builtin_memcpy(&key->daddr, pkt->tuple.daddr.bytes, 4);
}

/* The external-scope frontend entry a packet from the network addresses:
 * an ExternalIP or LoadBalancer address exactly, a node address through the
 * 0.0.0.0:<nodePort> entry. ClusterIPs are not served from outside. */
static __always_inline const struct tycho_lb4_service *nodeport_lookup_frontend(struct tycho_lb4_key *key,
										 const struct tycho_lb4_nat_key *tuple)
{
	const struct tycho_lb4_service *svc;

	*key = (struct tycho_lb4_key){ .address = tuple->daddr, .dport = tuple->dport, .proto = tuple->proto };
	svc = lb4_lookup_service(key, false);
	if (!svc && lb4_is_node_address(tuple->daddr)) {
		key->address = 0;
		svc = lb4_lookup_service(key, false);
	}
	if (svc && svc->type == TYCHO_LB_SVC_CLUSTER_IP)
		return NULL;
	return svc;
}

/* The backend of a new connection: the client's affinity entry when the
 * service has ClientIP affinity and the backend is still one of its, else
 * the service's Maglev table (TYCHO_LB_F_MAGLEV) at the tuple's flow hash,
 * else the slot the kernel's packet hash picks. NULL when the slot or
 * backend is missing. */
static __always_inline const struct tycho_lb4_backend *
nodeport_select_backend(struct __sk_buff *skb, struct tycho_lb4_key *key, const struct tycho_lb4_service *svc,
			const struct tycho_lb4_nat_key *tuple, __u32 *backend_id)
{
	const struct tycho_lb4_backend *backend = NULL;
	__u64 client_key = NODEPORT_AFFINITY_CLIENT | tuple->saddr;
	__u64 now = bpf_ktime_get_ns();
	__u16 slot;
	__u32 id;

	if (svc->flags & TYCHO_LB_F_AFFINITY) {
		id = lb_affinity_backend(client_key, svc->rev_nat_index, svc->affinity_timeout_s, now);
		if (id && lb4_backend_in_service(key, svc->count, id)) {
			backend = lb4_lookup_backend(id);
			if (backend) {
				*backend_id = id;
				lb_affinity_update(client_key, svc->rev_nat_index, id, now);
				return backend;
			}
		}
	}
	if (svc->flags & TYCHO_LB_F_MAGLEV) {
		id = lb4_maglev_backend_id(svc->rev_nat_index,
					   lb4_maglev_flow_hash(tuple->saddr, tuple->sport, tuple->dport, tuple->proto));
		if (id) {
			backend = lb4_lookup_backend(id);
			if (backend)
				*backend_id = id;
		}
	}
	if (!backend) {
		slot = (bpf_get_hash_recalc(skb) % svc->count) + 1;
		backend = lb4_backend_in_slot(key, slot, backend_id);
	}
	if (backend && (svc->flags & TYCHO_LB_F_AFFINITY))
		lb_affinity_update(client_key, svc->rev_nat_index, *backend_id, now);
	return backend;
}

/* Rewrites one end (source or destination) of an IPv4 TCP/UDP packet, with
 * the IP and L4 checksums fixed incrementally. 0 or DROP_WRITE_ERROR. */
static __always_inline int nat4_rewrite_end(struct __sk_buff *skb, __u32 l4_off, __u8 proto, bool dst,
					    __be32 old_addr, __be32 new_addr, __be16 old_port, __be16 new_port)
{
	__u32 addr_off = ETH_HLEN + (dst ? offsetof(struct iphdr, daddr) : offsetof(struct iphdr, saddr));
	__u32 port_off = l4_off + (dst ? offsetof(struct tcphdr, dest) : offsetof(struct tcphdr, source));
	__u32 csum_off = l4_off + (proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
	/* A UDP checksum of 0 means "none" and stays 0. */
	__u64 mangled = proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (old_addr != new_addr) {
		if (bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr, BPF_F_PSEUDO_HDR | mangled | sizeof(new_addr)) < 0)
			return DROP_WRITE_ERROR;
		if (bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old_addr, new_addr, sizeof(new_addr)) < 0)
			return DROP_WRITE_ERROR;
		if (bpf_skb_store_bytes(skb, addr_off, &new_addr, sizeof(new_addr), 0) < 0)
			return DROP_WRITE_ERROR;
	}
	if (old_port != new_port) {
		if (bpf_l4_csum_replace(skb, csum_off, old_port, new_port, mangled | sizeof(new_port)) < 0)
			return DROP_WRITE_ERROR;
		if (bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0) < 0)
			return DROP_WRITE_ERROR;
	}
	return 0;
}

/* Where the packet's L4 header starts. */
static __always_inline int nat4_l4_offset(struct __sk_buff *skb, __u32 *l4_off)
{
	__u8 version_ihl;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &version_ihl, 1) < 0)
		return DROP_WRITE_ERROR;
	*l4_off = ETH_HLEN + (version_ihl & 0x0f) * 4;
	return 0;
}

/* Rewrites the packet from tuple `from` to the addresses and ports of `to`. */
static __always_inline int nat4_rewrite(struct __sk_buff *skb, const struct tycho_lb4_nat_key *from,
					const struct tycho_lb4_nat_entry *to)
{
	__u32 l4_off;
	int err;

	err = nat4_l4_offset(skb, &l4_off);
	if (err < 0)
		return err;
	err = nat4_rewrite_end(skb, l4_off, from->proto, true, from->daddr, to->daddr, from->dport, to->dport);
	if (err < 0)
		return err;
	return nat4_rewrite_end(skb, l4_off, from->proto, false, from->saddr, to->saddr, from->sport, to->sport);
}

/* Whether the node reaches `backend` back out of the uplink (a pod of
 * another node); then *node_addr is the source address it would use. */
static __always_inline bool nodeport_backend_is_remote(struct __sk_buff *skb, __be32 backend, __be32 *node_addr)
{
	struct bpf_fib_lookup fib = {
		.family = AF_INET,
		.ifindex = skb->ifindex,
		.ipv4_dst = backend,
	};
	long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH | BPF_FIB_LOOKUP_SRC);

	if (rc != BPF_FIB_LKUP_RET_SUCCESS || fib.ifindex != skb->ifindex)
		return false;
	*node_addr = fib.ipv4_src;
	return true;
}

/* Records a new connection: the forward entry, and the reverse entry its
 * replies find. With SNAT, the node's port comes from the SNAT range, chosen
 * by the flow hash, and the next candidates are tried while another client
 * holds one at that backend. 0, or DROP_WRITE_ERROR when no entry could be
 * made. */
static __always_inline int nodeport_create(const struct tycho_lb4_nat_key *tuple, struct tycho_lb4_nat_entry *fwd,
					   __u32 hash)
{
	struct tycho_lb4_nat_entry rev = {
		.saddr = tuple->daddr,
		.sport = tuple->dport,
		.daddr = tuple->saddr,
		.dport = tuple->sport,
		.backend_id = fwd->backend_id,
		.rev_nat_index = fwd->rev_nat_index,
		.flags = fwd->flags,
		.ifindex = fwd->ifindex,
		.last_seen_ns = fwd->last_seen_ns,
	};
	struct tycho_lb4_nat_key rev_key = {
		.saddr = fwd->daddr,
		.sport = fwd->dport,
		.daddr = fwd->saddr,
		.proto = tuple->proto,
	};
	int i;

	for (i = 0; i < SNAT_PORT_TRIES; i++) {
		__be16 port = tuple->sport;

		if (fwd->flags & TYCHO_NAT_F_SNAT)
			port = bpf_htons(SNAT_PORT_MIN + (hash + i * 7919) % SNAT_PORT_RANGE);
		else if (i > 0)
			return DROP_WRITE_ERROR;
		rev_key.dport = port;
		if (bpf_map_update_elem(&tycho_lb4_nat_rev, &rev_key, &rev, BPF_NOEXIST) == 0) {
			fwd->sport = port;
			break;
		}
		/* The same client again (its forward entry was evicted). */
		struct tycho_lb4_nat_entry *old = bpf_map_lookup_elem(&tycho_lb4_nat_rev, &rev_key);

		if (old && old->daddr == rev.daddr && old->dport == rev.dport) {
			bpf_map_update_elem(&tycho_lb4_nat_rev, &rev_key, &rev, BPF_ANY);
			fwd->sport = port;
			break;
		}
	}
	if (i == SNAT_PORT_TRIES)
		return DROP_WRITE_ERROR;
	if (bpf_map_update_elem(&tycho_lb4_nat_fwd, tuple, fwd, BPF_ANY) < 0)
		return DROP_WRITE_ERROR;
	return 0;
}

#endif /* TYCHO_LIB_NODEPORT_H */
