/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-packet service translation at the node's uplink (bpf_host.c): the NAT
 * conntrack of NodePort, ExternalIPs and LoadBalancer connections that arrive
 * from the network. packages/datapath/src/nodePortCodecs.ts mirrors these
 * layouts; nodePortCodecs.test.ts checks them against bpf_host.o's BTF.
 *
 * Addresses and ports are in network byte order; explicit padding keeps
 * every layout free of compiler-inserted holes.
 */
#ifndef TYCHO_NODEPORT_H
#define TYCHO_NODEPORT_H

#include <linux/types.h>

/* A packet's tuple as it travels, the key of both NAT maps. */
struct tycho_lb4_nat_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* tycho_lb4_nat_entry.flags */
#define TYCHO_NAT_F_SNAT 0x01      /* the source was rewritten too (remote backend) */

/* What a packet of the tuple is rewritten to. Forward entries (keyed by
 * client → frontend) hold the backend and, with SNAT, the node's address and
 * port; reverse entries (keyed by backend → client, or backend → node with
 * SNAT) hold the frontend as source and the client as destination. */
struct tycho_lb4_nat_entry {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u32 backend_id;       /* forward entries: the backend chosen */
	__u16 rev_nat_index;    /* the service id */
	__u8 flags;             /* TYCHO_NAT_F_* */
	__u8 pad;
	__u32 ifindex;          /* the uplink the connection arrived on */
	__u64 last_seen_ns;     /* bpf_ktime_get_coarse_ns() */
};

#endif /* TYCHO_NODEPORT_H */
