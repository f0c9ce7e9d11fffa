/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Kernel headers and helpers every datapath header relies on. */
#ifndef TYCHO_COMMON_H
#define TYCHO_COMMON_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <tycho/abi.h>

/* From <linux/icmp.h>, which drags in libc socket headers. */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

#endif /* TYCHO_COMMON_H */
