/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Network policy structs that cross the kernel boundary: the ipcache (IPv4
 * prefix -> security identity), the policy map (endpoint, direction, remote
 * identity, protocol, destination port -> allow/deny) and per-endpoint policy
 * flags. The maps and the lookups are in bpf/lib/policy.h; the TypeScript
 * codecs in packages/datapath/src/policyCodecs.ts mirror these layouts and
 * policyCodecs.test.ts checks them against the BTF of bpf_lxc.o.
 */
#ifndef TYCHO_POLICY_ABI_H
#define TYCHO_POLICY_ABI_H

#include <linux/types.h>

/* Reserved identities the datapath itself needs (BRIEF.md). */
#define TYCHO_IDENTITY_WORLD 2

/*
 * ipcache key, an LPM trie key: prefixlen counts the leading bits of addr
 * (network order) that must match. The agent writes pods and nodes as /32,
 * and the CIDR identities of policies and DNS answers as their prefixes.
 */
struct tycho_ipcache_key4 {
	__u32 prefixlen;
	__be32 addr;
};

/* TYCHO_IPCACHE_F_*: where the address lives. */
#define TYCHO_IPCACHE_F_LOCAL 0x1   /* a pod of this node, or this node itself */

struct tycho_ipcache_entry {
	__u32 identity;
	__u32 flags;
};

/*
 * Policy map key, an LPM trie key over one map for every endpoint of the
 * node. As in Cilium's policy map the exact part comes first and counts in
 * the prefix: endpoint_id, identity and direction (72 bits) always match
 * whole, then protocol (8 bits) and destination port (16 bits, network
 * order) as far as the rule fixes them:
 *   prefixlen 72  any protocol, any port
 *   prefixlen 80  one protocol, any port
 *   prefixlen 96  one protocol, one port; 81-95 aligned port ranges.
 * identity 0 is the wildcard the datapath falls back to when the remote
 * identity has no key (see @tycho/policy's policyMapKeys).
 */
struct tycho_policy_key {
	__u32 prefixlen;
	__u32 endpoint_id;
	__u32 identity;          /* remote identity, 0 = any */
	__u8 direction;          /* enum tycho_policy_direction */
	__u8 proto;              /* IPPROTO_*, 0 only in keys with prefixlen 72 */
	__be16 dport;
};

enum tycho_policy_direction {
	TYCHO_POLICY_INGRESS = 0,
	TYCHO_POLICY_EGRESS = 1,
};

#define TYCHO_POLICY_KEY_EXACT_BITS 72

/* TYCHO_POLICY_F_*. */
#define TYCHO_POLICY_F_DENY 0x1     /* a deny rule: drop with POLICY_DENY */

struct tycho_policy_entry {
	__u32 policy_list;       /* the agent's number for the policies behind this key (0 = none) */
	__u8 flags;              /* TYCHO_POLICY_F_* */
	__u8 pad[3];
};

/*
 * Per-endpoint policy state, keyed by endpoint id. An endpoint without an
 * entry, or a direction without its LOOKUP flag, is not looked up at all.
 * ENFORCED makes a direction default-deny: a lookup that finds no key drops
 * with POLICY_DENIED. LOOKUP without ENFORCED happens when only deny rules
 * apply (the agent then also writes an allow-all key).
 */
#define TYCHO_POLICY_EP_INGRESS_ENFORCED 0x1
#define TYCHO_POLICY_EP_EGRESS_ENFORCED  0x2
#define TYCHO_POLICY_EP_INGRESS_LOOKUP   0x4
#define TYCHO_POLICY_EP_EGRESS_LOOKUP    0x8

struct tycho_policy_endpoint {
	__u32 flags;             /* TYCHO_POLICY_EP_* */
};

#endif /* TYCHO_POLICY_ABI_H */
