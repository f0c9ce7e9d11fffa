/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parsing: Ethernet, IPv4/IPv6 (with extension headers), TCP, UDP,
 * ICMP/ICMPv6. Headers are copied with bpf_skb_load_bytes(), which fails for
 * anything beyond the packet, so every read is bounds checked and paged
 * (non-linear) skbs parse like linear ones.
 */
#ifndef TYCHO_PARSE_H
#define TYCHO_PARSE_H

#include "common.h"
#include "packet.h"
#include "drop.h"

#define PARSE_TRACKED 0
#define PARSE_UNTRACKED 1   /* not IP, or an IP fragment without L4 header */

#define IPV6_EXT_HEADERS_MAX 4

#define ICMP_ECHO_NONE 0
#define ICMP_ECHO_REQUEST 1
#define ICMP_ECHO_REPLY 2

static __always_inline int parse_tcp(struct __sk_buff *skb, struct packet *pkt, __u32 off, __u32 end)
{
	struct tcphdr tcp;
	__u32 hlen;

	if (off + sizeof(tcp) > end || bpf_skb_load_bytes(skb, off, &tcp, sizeof(tcp)) < 0)
		return DROP_CT_INVALID_HDR;
	hlen = tcp.doff * 4;
	if (hlen < sizeof(tcp) || off + hlen > end)
		return DROP_CT_INVALID_HDR;
	pkt->tuple.sport = tcp.source;
	pkt->tuple.dport = tcp.dest;
	/* The flags byte follows the data offset nibble. */
	pkt->tcp_flags = ((__u8 *)&tcp)[13];
	pkt->payload_off = off + hlen;
	pkt->payload_len = end - (off + hlen);
	return PARSE_TRACKED;
}

static __always_inline int parse_udp(struct __sk_buff *skb, struct packet *pkt, __u32 off, __u32 end)
{
	struct udphdr udp;

	if (off + sizeof(udp) > end || bpf_skb_load_bytes(skb, off, &udp, sizeof(udp)) < 0)
		return DROP_CT_INVALID_HDR;
	pkt->tuple.sport = udp.source;
	pkt->tuple.dport = udp.dest;
	pkt->payload_off = off + sizeof(udp);
	pkt->payload_len = end - (off + sizeof(udp));
	return PARSE_TRACKED;
}

/* ICMP and ICMPv6 share the layout of the first 8 bytes: type, code,
 * checksum, then identifier and sequence for echo messages. */
static __always_inline int parse_icmp(struct __sk_buff *skb, struct packet *pkt, __u32 off, __u32 end,
				      __u8 echo_request, __u8 echo_reply)
{
	struct {
		__u8 type;
		__u8 code;
		__u16 checksum;
		__be16 id;
		__be16 sequence;
	} icmp;

	if (off + sizeof(icmp) > end || bpf_skb_load_bytes(skb, off, &icmp, sizeof(icmp)) < 0)
		return DROP_CT_INVALID_HDR;
	pkt->tuple.sport = bpf_htons(icmp.type);
	pkt->tuple.dport = bpf_htons(icmp.code);
	if (icmp.type == echo_request)
		pkt->icmp_echo = ICMP_ECHO_REQUEST;
	else if (icmp.type == echo_reply)
		pkt->icmp_echo = ICMP_ECHO_REPLY;
	pkt->icmp_id = icmp.id;
	return PARSE_TRACKED;
}

static __always_inline int parse_l4(struct __sk_buff *skb, struct packet *pkt, __u32 off, __u32 end)
{
	switch (pkt->tuple.proto) {
	case IPPROTO_TCP:
		return parse_tcp(skb, pkt, off, end);
	case IPPROTO_UDP:
		return parse_udp(skb, pkt, off, end);
	case IPPROTO_ICMP:
		return parse_icmp(skb, pkt, off, end, ICMP_ECHO, ICMP_ECHOREPLY);
	case IPPROTO_ICMPV6:
		return parse_icmp(skb, pkt, off, end, ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY);
	default:
		/* Tracked by addresses and protocol alone. */
		return PARSE_TRACKED;
	}
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, struct packet *pkt)
{
	struct iphdr ip;
	__u32 hlen, total;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
		return DROP_CT_INVALID_HDR;
	hlen = ip.ihl * 4;
	total = bpf_ntohs(ip.tot_len);
	if (ip.version != 4 || hlen < sizeof(ip) || total < hlen || ETH_HLEN + total > pkt->len)
		return DROP_CT_INVALID_HDR;
	/* Later fragments carry no L4 header to track them by. */
	if (bpf_ntohs(ip.frag_off) & 0x1fff)
		return PARSE_UNTRACKED;

	pkt->tuple.family = 4;
	pkt->tuple.proto = ip.protocol;
	__builtin_memcpy(pkt->tuple.saddr.bytes, &ip.saddr, 4);
	__builtin_memcpy(pkt->tuple.daddr.bytes, &ip.daddr, 4);
	return parse_l4(skb, pkt, ETH_HLEN + hlen, ETH_HLEN + total);
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, struct packet *pkt)
{
	struct ipv6hdr ip;
	__u32 off = ETH_HLEN + sizeof(ip), end;
	__u8 next;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
		return DROP_CT_INVALID_HDR;
	end = off + bpf_ntohs(ip.payload_len);
	if (ip.version != 6 || end > pkt->len)
		return DROP_CT_INVALID_HDR;

	pkt->tuple.family = 6;
	__builtin_memcpy(pkt->tuple.saddr.bytes, &ip.saddr, 16);
	__builtin_memcpy(pkt->tuple.daddr.bytes, &ip.daddr, 16);

	next = ip.nexthdr;
#pragma unroll
	for (int i = 0; i < IPV6_EXT_HEADERS_MAX; i++) {
		struct {
			__u8 next;
			__u8 len;
			__be16 frag_off;
		} ext;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT && next != IPPROTO_AH)
			break;
		if (off + sizeof(ext) > end || bpf_skb_load_bytes(skb, off, &ext, sizeof(ext)) < 0)
			return DROP_CT_INVALID_HDR;
		if (next == IPPROTO_FRAGMENT) {
			if (bpf_ntohs(ext.frag_off) & 0xfff8)
				return PARSE_UNTRACKED;
			off += 8;
		} else if (next == IPPROTO_AH) {
			off += (ext.len + 2) * 4;
		} else {
			off += (ext.len + 1) * 8;
		}
		next = ext.next;
	}
	if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	    next == IPPROTO_FRAGMENT || next == IPPROTO_AH || next == IPPROTO_NONE)
		return PARSE_UNTRACKED;
	if (off > end)
		return DROP_CT_INVALID_HDR;

	pkt->tuple.proto = next;
	return parse_l4(skb, pkt, off, end);
}

/* PARSE_TRACKED with pkt filled in, PARSE_UNTRACKED, or DROP_CT_INVALID_HDR
 * for a truncated or malformed packet. */
static __always_inline int parse_packet(struct __sk_buff *skb, struct packet *pkt)
{
	__be16 eth_proto;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	pkt->len = skb->len;
	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &eth_proto, sizeof(eth_proto)) < 0)
		return DROP_CT_INVALID_HDR;

	switch (eth_proto) {
	case bpf_htons(ETH_P_IP):
		return parse_ipv4(skb, pkt);
	case bpf_htons(ETH_P_IPV6):
		return parse_ipv6(skb, pkt);
	default:
		return PARSE_UNTRACKED;
	}
}

#endif /* TYCHO_PARSE_H */
