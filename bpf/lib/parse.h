/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parsing: Ethernet, IPv4/IPv6 (with extension headers), TCP, UDP,
 * ICMP/ICMPv6. Every packet goes through here, so headers are read in place
 * where they can be: in the skb's linear area, bounds checked against
 * data_end (direct packet access, no helper call). A header that is not
 * there in full (paged skbs) is copied with bpf_skb_load_bytes() instead, so
 * such packets parse like linear ones. Either way a read beyond the end of
 * the packet fails, and the packet counts as a parse error.
 */
#ifndef TYCHO_PARSE_H
#define TYCHO_PARSE_H

#include "common.h"
#include "packet.h"
#include "drop.h"

#define PARSE_TRACKED 0
#define PARSE_UNTRACKED 1   /* not IP, or an IP fragment without L4 header */

#define IPV6_EXT_HEADERS_MAX 4

/* Headers further into the packet than this are always copied: the bound
 * lets the verifier accept data + off as a packet pointer. Real headers end
 * long before it; only a chain of huge IPv6 extension headers reaches it. */
#define PARSE_DIRECT_OFF_MAX 1024

/* Compiled in by bpf/test_lxc_load_bytes.c only, so tests can run the
 * bpf_skb_load_bytes() path that BPF_PROG_TEST_RUN's linear skbs never take. */
#ifndef PARSE_ALWAYS_COPY
#define PARSE_ALWAYS_COPY 0
#endif

#define ICMP_ECHO_NONE 0
#define ICMP_ECHO_REQUEST 1
#define ICMP_ECHO_REPLY 2

/* The len bytes at off: a pointer into the packet when they are in the linear
 * area, else into buf after copying them there. NULL when the packet ends
 * before off + len. Read-only: the pointer may be to either. */
static __always_inline const void *parse_header(struct __sk_buff *skb, __u32 off, void *buf, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (!PARSE_ALWAYS_COPY && off <= PARSE_DIRECT_OFF_MAX && data + off + len <= data_end)
		return data + off;
	if (bpf_skb_load_bytes(skb, off, buf, len) < 0)
		return NULL;
	return buf;
}

static __always_inline int parse_tcp(struct __sk_buff *skb, struct packet *pkt, __u32 off, __u32 end)
{
	const struct tcphdr *tcp;
	struct tcphdr buf;
	__u32 hlen;

	if (off + sizeof(*tcp) > end)
		return DROP_CT_INVALID_HDR;
	tcp = parse_header(skb, off, &buf, sizeof(buf));
	if (!tcp)
		return DROP_CT_INVALID_HDR;
	hlen = tcp->doff * 4;
	if (hlen < sizeof(*tcp) || off + hlen > end)
		return DROP_CT_INVALID_HDR;
	pkt->tuple.sport = tcp->source;
	pkt->tuple.dport = tcp->dest;
	/* The flags byte follows the data offset nibble. */
	pkt->tcp_flags = ((const __u8 *)tcp)[13];
	pkt->payload_off = off + hlen;
	pkt->payload_len = end - (off + hlen);
	return PARSE_TRACKED;
}

static __always_inline int parse_udp(struct __sk_buff *skb, struct packet *pkt, __u32 off, __u32 end)
{
	const struct udphdr *udp;
	struct udphdr buf;

	if (off + sizeof(*udp) > end)
		return DROP_CT_INVALID_HDR;
	udp = parse_header(skb, off, &buf, sizeof(buf));
	if (!udp)
		return DROP_CT_INVALID_HDR;
	pkt->tuple.sport = udp->source;
	pkt->tuple.dport = udp->dest;
	pkt->payload_off = off + sizeof(*udp);
	pkt->payload_len = end - (off + sizeof(*udp));
	return PARSE_TRACKED;
}

/* ICMP and ICMPv6 share the layout of the first 8 bytes: type, code,
 * checksum, then identifier and sequence for echo messages. */
struct icmp_echo_hdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__be16 id;
	__be16 sequence;
};

static __always_inline int parse_icmp(struct __sk_buff *skb, struct packet *pkt, __u32 off, __u32 end,
				      __u8 echo_request, __u8 echo_reply)
{
	const struct icmp_echo_hdr *icmp;
	struct icmp_echo_hdr buf;

	if (off + sizeof(*icmp) > end)
		return DROP_CT_INVALID_HDR;
	icmp = parse_header(skb, off, &buf, sizeof(buf));
	if (!icmp)
		return DROP_CT_INVALID_HDR;
	pkt->tuple.sport = bpf_htons(icmp->type);
	pkt->tuple.dport = bpf_htons(icmp->code);
	if (icmp->type == echo_request)
		pkt->icmp_echo = ICMP_ECHO_REQUEST;
	else if (icmp->type == echo_reply)
		pkt->icmp_echo = ICMP_ECHO_REPLY;
	pkt->icmp_id = icmp->id;
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
	const struct iphdr *ip;
	struct iphdr buf;
	__u32 hlen, total;

	ip = parse_header(skb, ETH_HLEN, &buf, sizeof(buf));
	if (!ip)
		return DROP_CT_INVALID_HDR;
	hlen = ip->ihl * 4;
	total = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || hlen < sizeof(*ip) || total < hlen || ETH_HLEN + total > pkt->len)
		return DROP_CT_INVALID_HDR;
	/* Later fragments carry no L4 header to track them by. */
	if (bpf_ntohs(ip->frag_off) & 0x1fff)
		return PARSE_UNTRACKED;

	pkt->tuple.family = 4;
	pkt->tuple.proto = ip->protocol;
	__builtin_memcpy(pkt->tuple.saddr.bytes, &ip->saddr, 4);
	__builtin_memcpy(pkt->tuple.daddr.bytes, &ip->daddr, 4);
	return parse_l4(skb, pkt, ETH_HLEN + hlen, ETH_HLEN + total);
}

/* Out of line (a BPF subprogram), so that the IPv4 path stays short in the
 * JITed program (see ct_create4() in conntrack.h). */
static __noinline int parse_ipv6(struct __sk_buff *skb, struct packet *pkt)
{
	const struct ipv6hdr *ip;
	struct ipv6hdr buf;
	__u32 off = ETH_HLEN + sizeof(*ip), end;
	__u8 next;

	ip = parse_header(skb, ETH_HLEN, &buf, sizeof(buf));
	if (!ip)
		return DROP_CT_INVALID_HDR;
	end = off + bpf_ntohs(ip->payload_len);
	if (ip->version != 6 || end > pkt->len)
		return DROP_CT_INVALID_HDR;

	pkt->tuple.family = 6;
	__builtin_memcpy(pkt->tuple.saddr.bytes, &ip->saddr, 16);
	__builtin_memcpy(pkt->tuple.daddr.bytes, &ip->daddr, 16);

	next = ip->nexthdr;
#pragma unroll
	for (int i = 0; i < IPV6_EXT_HEADERS_MAX; i++) {
		struct ipv6_ext_hdr {
			__u8 next;
			__u8 len;
			__be16 frag_off;
		};
		const struct ipv6_ext_hdr *ext;
		struct ipv6_ext_hdr ext_buf;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT && next != IPPROTO_AH)
			break;
		if (off + sizeof(*ext) > end)
			return DROP_CT_INVALID_HDR;
		ext = parse_header(skb, off, &ext_buf, sizeof(ext_buf));
		if (!ext)
			return DROP_CT_INVALID_HDR;
		if (next == IPPROTO_FRAGMENT) {
			if (bpf_ntohs(ext->frag_off) & 0xfff8)
				return PARSE_UNTRACKED;
			off += 8;
		} else if (next == IPPROTO_AH) {
			off += (ext->len + 2) * 4;
		} else {
			off += (ext->len + 1) * 8;
		}
		next = ext->next;
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
	const struct ethhdr *eth;
	struct ethhdr buf;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	pkt->len = skb->len;
	eth = parse_header(skb, 0, &buf, sizeof(buf));
	if (!eth)
		return DROP_CT_INVALID_HDR;

	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		return parse_ipv4(skb, pkt);
	case bpf_htons(ETH_P_IPV6):
		return parse_ipv6(skb, pkt);
	default:
		return PARSE_UNTRACKED;
	}
}

#endif /* TYCHO_PARSE_H */
