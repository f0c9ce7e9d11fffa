// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket-level service load-balancing (kube-proxy replacement for local
 * clients), attached at the node's cgroup so every pod and host-network
 * process of the node passes through it:
 *   cgroup/connect4      TCP/UDP connect() to a frontend → a backend
 *   cgroup/sendmsg4      unconnected UDP sendto() to a frontend → a backend
 *   cgroup/recvmsg4      UDP replies from that backend appear to come from the frontend
 *   cgroup/getpeername4  getpeername() of a translated socket returns the frontend
 * The address is rewritten once per connect (or datagram), so the packets
 * themselves carry the backend's address and need no per-packet NAT.
 * Frontends: ClusterIP, ExternalIPs and LoadBalancer addresses, NodePort on
 * 0.0.0.0 and on every node address (the wildcard lookup of Cilium's socket
 * LB). A frontend without backends refuses the connection (ECONNREFUSED,
 * through bpf_set_retval); any other address is left alone.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/errno.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lb.h"

/* Return values of cgroup sock_addr programs. */
#define SYS_REJECT 0
#define SYS_PROCEED 1

#define LB_REVERSE_SK_MAP_MAX 262144

/* What each translated socket meant to reach, for the reverse direction. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct tycho_lb4_reverse_sk_key);
	__type(value, struct tycho_lb4_reverse_sk_value);
	__uint(max_entries, LB_REVERSE_SK_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_lb4_rsk SEC(".maps");

static __always_inline bool sock_proto_handled(__u32 protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP;
}

/* The frontend the socket addresses: an exact entry, else, for a node
 * address, the node port's wildcard entry 0.0.0.0:<port>. */
static __always_inline const struct tycho_lb4_service *sock4_lookup_frontend(struct tycho_lb4_key *key)
{
	const struct tycho_lb4_service *svc = lb4_lookup_service(key, true);

	if (svc || !lb4_is_node_address(key->address))
		return svc;
	key->address = 0;
	return lb4_lookup_service(key, true);
}

/* TCP picks a random slot per connection; UDP picks by socket cookie, so one
 * unconnected socket keeps talking to one backend (as Cilium's socket LB). */
static __always_inline __u32 sock_select_slot(struct bpf_sock_addr *ctx, __u16 count)
{
	__u32 seed = ctx->protocol == IPPROTO_TCP ? bpf_get_prandom_u32() : (__u32)bpf_get_socket_cookie(ctx);

	return seed % count + 1;
}

/* Rewrites a frontend destination to a backend. 0: translated or not a
 * service; negative errno: refuse. */
static __always_inline int sock4_xlate_fwd(struct bpf_sock_addr *ctx)
{
	struct tycho_lb4_key key = {
		.address = ctx->user_ip4,
		.dport = (__be16)ctx->user_port,
		.proto = (__u8)ctx->protocol,
	};
	struct tycho_lb4_reverse_sk_key rkey = {};
	struct tycho_lb4_reverse_sk_value rval = {};
	const struct tycho_lb4_backend *backend = NULL;
	const struct tycho_lb4_service *svc;
	__u64 netns_cookie = 0, now = 0;
	__u32 backend_id = 0, timeout_s;
	__u16 count, rev_nat_index;
	bool affinity;

	if (!sock_proto_handled(ctx->protocol))
		return 0;
	svc = sock4_lookup_frontend(&key);
	if (!svc)
		return 0;
	count = svc->count;
	rev_nat_index = svc->rev_nat_index;
	affinity = svc->flags & TYCHO_LB_F_AFFINITY;
	timeout_s = svc->affinity_timeout_s;
	if (count == 0)
		return -ECONNREFUSED;

	if (affinity) {
		netns_cookie = bpf_get_netns_cookie(ctx);
		now = bpf_ktime_get_ns();
		backend_id = lb_affinity_backend(netns_cookie, rev_nat_index, timeout_s, now);
		if (backend_id && lb4_backend_in_service(&key, count, backend_id))
			backend = lb4_lookup_backend(backend_id);
	}
	if (!backend)
		backend = lb4_backend_in_slot(&key, sock_select_slot(ctx, count), &backend_id);
	/* A slot the agent has not written yet: refuse rather than guess. */
	if (!backend)
		return -ECONNREFUSED;
	if (affinity)
		lb_affinity_update(netns_cookie, rev_nat_index, backend_id, now);

	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.address = backend->address;
	rkey.port = backend->port;
	rval.address = ctx->user_ip4;
	rval.port = (__be16)ctx->user_port;
	rval.rev_nat_index = rev_nat_index;
	if (bpf_map_update_elem(&tycho_lb4_rsk, &rkey, &rval, BPF_ANY) < 0)
		return -ENOMEM;

	ctx->user_ip4 = backend->address;
	ctx->user_port = backend->port;
	return 0;
}

/* Rewrites a backend source (recvmsg) or peer (getpeername) back to the
 * frontend the socket addressed, while that service still exists. */
static __always_inline void sock4_xlate_rev(struct bpf_sock_addr *ctx)
{
	struct tycho_lb4_reverse_sk_key rkey = {
		.cookie = bpf_get_socket_cookie(ctx),
		.address = ctx->user_ip4,
		.port = (__be16)ctx->user_port,
	};
	const struct tycho_lb4_reverse_sk_value *rval = bpf_map_lookup_elem(&tycho_lb4_rsk, &rkey);
	const struct tycho_lb4_reverse_nat *rnat;
	__u32 index;

	if (!rval)
		return;
	index = rval->rev_nat_index;
	rnat = bpf_map_lookup_elem(&tycho_lb4_rnat, &index);
	if (!rnat || rnat->port != rval->port) {
		bpf_map_delete_elem(&tycho_lb4_rsk, &rkey);
		return;
	}
	ctx->user_ip4 = rval->address;
	ctx->user_port = rval->port;
}

static __always_inline int sock4_forward(struct bpf_sock_addr *ctx)
{
	int err = sock4_xlate_fwd(ctx);

	if (err < 0) {
		bpf_set_retval(err);
		return SYS_REJECT;
	}
	return SYS_PROCEED;
}

SEC("cgroup/connect4")
int tycho_sock4_connect(struct bpf_sock_addr *ctx)
{
	return sock4_forward(ctx);
}

SEC("cgroup/sendmsg4")
int tycho_sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	return sock4_forward(ctx);
}

SEC("cgroup/recvmsg4")
int tycho_sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	sock4_xlate_rev(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername4")
int tycho_sock4_getpeername(struct bpf_sock_addr *ctx)
{
	sock4_xlate_rev(ctx);
	return SYS_PROCEED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
