/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Keys and values of the service load-balancing maps (issue 6), the byte
 * layouts of @tycho/services' logical records (packages/services/src/
 * serviceMaps.ts). packages/datapath/src/lbCodecs.ts mirrors them and
 * lbCodecs.test.ts checks them against the BTF of bpf_sock.o.
 *
 * Addresses and ports are in network byte order; explicit padding keeps
 * every layout free of compiler-inserted holes.
 */
#ifndef TYCHO_LB_H
#define TYCHO_LB_H

#include <linux/types.h>

/* Which traffic a service entry serves, as Cilium's lb4_key.scope: external
 * is looked up first; a frontend flagged TWO_SCOPES has internal entries
 * too, with every backend, for traffic from inside the cluster. */
enum tycho_lb_scope {
	TYCHO_LB_SCOPE_EXTERNAL = 0,
	TYCHO_LB_SCOPE_INTERNAL = 1,
};

enum tycho_lb_svc_type {
	TYCHO_LB_SVC_CLUSTER_IP = 0,
	TYCHO_LB_SVC_NODE_PORT = 1,
	TYCHO_LB_SVC_EXTERNAL_IPS = 2,
	TYCHO_LB_SVC_LOAD_BALANCER = 3,
};

/* tycho_lb4_service.flags */
#define TYCHO_LB_F_AFFINITY 0x01   /* sessionAffinity: ClientIP */
#define TYCHO_LB_F_EXT_LOCAL 0x02  /* external scope holds node-local backends only */
#define TYCHO_LB_F_TWO_SCOPES 0x04 /* internal-scope entries exist */
#define TYCHO_LB_F_ROUTABLE 0x08   /* not ClusterIP: reachable from outside the node */
#define TYCHO_LB_F_MAGLEV 0x10     /* a Maglev table in tycho_lb4_maglev serves traffic from outside */

/* Maglev tables (tycho_lb4_maglev, hash of maps keyed by rev_nat_index as a
 * __u32): each inner map is an array of __u32 with M + 1 entries, M prime.
 * Entry 0 holds M, entry 1 + i the backend id of table slot i, so a flow
 * with hash h goes to entry 1 + h % M. A table carries its own size, so
 * tables of different sizes can coexist while the agent replaces them. */
#define TYCHO_LB_MAGLEV_SIZE_SLOT 0

/* tycho_lb4_node.flags */
#define TYCHO_LB_NODE_LOCAL 0x01   /* an address of this node */

/* Service map key: a frontend, and which of its entries (slot 0 = the frontend
 * entry, 1..count = backend slots). */
struct tycho_lb4_key {
	__be32 address;
	__be16 dport;
	__u16 backend_slot;
	__u8 proto;             /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	__u8 scope;             /* enum tycho_lb_scope */
	__u8 pad[2];
};

/* Service map value. Frontend entry: count, rev_nat_index, type, flags and
 * the affinity timeout; slot entry: backend_id (and the same rev_nat_index). */
struct tycho_lb4_service {
	__u32 backend_id;
	__u32 affinity_timeout_s;
	__u16 count;            /* 0: no backend, the connection is refused */
	__u16 rev_nat_index;    /* the service id */
	__u8 type;              /* enum tycho_lb_svc_type */
	__u8 flags;             /* TYCHO_LB_F_* */
	__u8 pad[2];
};

/* Backend map value, keyed by backend id (__u32). */
struct tycho_lb4_backend {
	__be32 address;
	__be16 port;
	__u8 proto;
	__u8 state;             /* 0 = active */
};

/* Reverse-NAT map value, keyed by rev_nat_index (__u32): the frontend replies
 * appear to come from. */
struct tycho_lb4_reverse_nat {
	__be32 address;
	__be16 port;
	__u16 pad;
};

/* ClientIP session affinity at the socket: the client is its network
 * namespace (every socket of a pod shares its cookie), as Cilium's
 * lb_affinity_key for socket LB. */
struct tycho_lb_affinity_key {
	__u64 netns_cookie;
	__u32 rev_nat_index;
	__u32 pad;
};

struct tycho_lb_affinity_value {
	__u64 last_used_ns;     /* bpf_ktime_get_ns() */
	__u32 backend_id;
	__u32 pad;
};

/* Reverse translation of a socket (Cilium's lb4_reverse_sk): which frontend
 * the socket `cookie` meant when it talked to this backend. */
struct tycho_lb4_reverse_sk_key {
	__u64 cookie;
	__be32 address;
	__be16 port;
	__u16 pad;
};

struct tycho_lb4_reverse_sk_value {
	__be32 address;
	__be16 port;
	__u16 rev_nat_index;
};

/* Node address map (key: the address, __be32): connecting to a node address
 * on a node port means the 0.0.0.0:<nodePort> frontend, as Cilium's wildcard
 * lookup. */
struct tycho_lb4_node {
	__u32 flags;            /* TYCHO_LB_NODE_* */
};

#endif /* TYCHO_LB_H */
