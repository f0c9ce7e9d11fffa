/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What parsing learns about one packet, shared by every datapath stage. */
#ifndef TYCHO_PACKET_H
#define TYCHO_PACKET_H

#include "common.h"

struct packet {
	/* As the packet carried it; for ICMP the type sits in sport and the
	 * code in dport, as events report them. */
	struct tycho_tuple tuple;
	__u32 len;           /* skb->len, bytes on the wire */
	__u32 payload_off;   /* L4 payload: offset from the Ethernet header */
	__u32 payload_len;   /* and length, both 0 when there is none */
	__be16 icmp_id;      /* echo identifier, keys ICMP conntrack */
	__u8 icmp_echo;      /* ICMP_ECHO_* */
	__u8 tcp_flags;
};

#endif /* TYCHO_PACKET_H */
