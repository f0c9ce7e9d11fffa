// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Programs on the node's uplink (its interface to the underlay, inside the
 * node's network namespace): per-packet service translation for traffic
 * that arrives from the network, the kube-proxy NodePort/ExternalIPs/
 * LoadBalancer rules done in eBPF.
 *   from_netdev  tc ingress: client → frontend becomes client → backend
 *                (node address → backend with SNAT for a remote backend);
 *                replies of SNATed connections are translated back and
 *                sent out of the uplink again
 *   to_netdev    tc egress: a local backend's replies get the frontend as
 *                their source again
 * A frontend without a backend drops the packet with
 * SERVICE_BACKEND_NOT_FOUND and a drop event in tycho_events, the ring
 * buffer bpf_lxc.o shares by its pin. Everything else passes untouched.
 */
#include "common.h"
#include "counters.h"
#include "packet.h"
#include "parse.h"
#include "events.h"
#include "drop.h"
#include "lb.h"
#include "nodeport.h"

static __noinline int drop_from_network(struct __sk_buff *skb, const struct packet *pkt, int code)
{
	struct event_meta meta = {
		.ifindex = skb->ifindex,
		.obs_point = TYCHO_OBS_FROM_NETWORK,
	};

	return drop_packet(pkt, &meta, code);
}

/* IPv4 TCP or UDP with ports: the only packets translated. */
static __always_inline bool nat_candidate(struct __sk_buff *skb, struct packet *pkt)
{
	if (parse_packet(skb, pkt) != PARSE_TRACKED)
		return false;
	return pkt->tuple.family == 4 && (pkt->tuple.proto == IPPROTO_TCP || pkt->tuple.proto == IPPROTO_UDP);
}

/* A new connection to a frontend: its backend, the NAT entries, the
 * translated tuple in *fwd. 1 when the packet is not for a service. */
static __noinline int nodeport_new_connection(struct __sk_buff *skb, const struct tycho_lb4_nat_key *tuple,
					      struct tycho_lb4_nat_entry *fwd)
{
	const struct tycho_lb4_service *svc;
	const struct tycho_lb4_backend *backend;
	struct tycho_lb4_key key;
	__be32 node_addr = 0;
	__u32 backend_id = 0;

	svc = nodeport_lookup_frontend(&key, tuple);
	if (!svc)
		return 1;
	if (svc->count == 0)
		return DROP_SERVICE_BACKEND_NOT_FOUND;
	backend = nodeport_select_backend(skb, &key, svc, tuple, &backend_id);
	if (!backend)
		return DROP_SERVICE_BACKEND_NOT_FOUND;

	*fwd = (struct tycho_lb4_nat_entry){
		.saddr = tuple->saddr,
		.sport = tuple->sport,
		.daddr = backend->address,
		.dport = backend->port,
		.backend_id = backend_id,
		.rev_nat_index = svc->rev_nat_index,
		.ifindex = skb->ifindex,
		.last_seen_ns = bpf_ktime_get_coarse_ns(),
	};
	if (nodeport_backend_is_remote(skb, backend->address, &node_addr)) {
		fwd->saddr = node_addr;
		fwd->flags = TYCHO_NAT_F_SNAT;
	}
	return nodeport_create(tuple, fwd, bpf_get_hash_recalc(skb));
}

SEC("tc")
int from_netdev(struct __sk_buff *skb)
{
	struct tycho_lb4_nat_entry *entry, fwd;
	struct tycho_lb4_nat_key tuple;
	struct packet pkt;
	int ret;

	if (!nat_candidate(skb, &pkt))
		return TC_ACT_OK;
	nat_key_from_packet(&tuple, &pkt);

	/* A reply of an SNATed connection, from a backend on another node. */
	entry = bpf_map_lookup_elem(&tycho_lb4_nat_rev, &tuple);
	if (entry && (entry->flags & TYCHO_NAT_F_SNAT)) {
		fwd = *entry;
		entry->last_seen_ns = bpf_ktime_get_coarse_ns();
		if (nat4_rewrite(skb, &tuple, &fwd) < 0)
			return drop_from_network(skb, &pkt, DROP_WRITE_ERROR);
		/* Its source is a node or frontend address now: straight back
		 * out, past the stack that would call it martian. */
		return bpf_redirect_neigh(skb->ifindex, NULL, 0, 0);
	}

	/* An established connection keeps its backend while the backend exists. */
	entry = bpf_map_lookup_elem(&tycho_lb4_nat_fwd, &tuple);
	if (entry && lb4_lookup_backend(entry->backend_id)) {
		entry->last_seen_ns = bpf_ktime_get_coarse_ns();
		fwd = *entry;
	} else {
		ret = nodeport_new_connection(skb, &tuple, &fwd);
		if (ret == 1)
			return TC_ACT_OK;
		if (ret < 0)
			return drop_from_network(skb, &pkt, ret);
	}

	if (nat4_rewrite(skb, &tuple, &fwd) < 0)
		return drop_from_network(skb, &pkt, DROP_WRITE_ERROR);
	/* With the node's address as source the stack would drop it as
	 * martian: out to the other node directly. */
	if (fwd.flags & TYCHO_NAT_F_SNAT)
		return bpf_redirect_neigh(skb->ifindex, NULL, 0, 0);
	return TC_ACT_OK;
}

SEC("tc")
int to_netdev(struct __sk_buff *skb)
{
	struct tycho_lb4_nat_entry *entry, rev;
	struct tycho_lb4_nat_key tuple;
	struct packet pkt;

	if (!nat_candidate(skb, &pkt))
		return TC_ACT_OK;
	nat_key_from_packet(&tuple, &pkt);

	/* A local backend's reply to a client of the network. */
	entry = bpf_map_lookup_elem(&tycho_lb4_nat_rev, &tuple);
	if (!entry || (entry->flags & TYCHO_NAT_F_SNAT))
		return TC_ACT_OK;
	entry->last_seen_ns = bpf_ktime_get_coarse_ns();
	rev = *entry;
	if (nat4_rewrite(skb, &tuple, &rev) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
