// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf_lxc.c with every header copied by bpf_skb_load_bytes(), for tests only.
 * BPF_PROG_TEST_RUN builds linear skbs, so the programs there always read
 * headers in place; this build runs the copy path that paged skbs take on
 * real interfaces (bpf/lib/parse.h).
 */
#define PARSE_ALWAYS_COPY 1
#include "bpf_lxc.c"
