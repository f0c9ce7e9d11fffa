/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU datapath counters (enum tycho_counter), summed by userspace. */
#ifndef TYCHO_COUNTERS_H
#define TYCHO_COUNTERS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, TYCHO_COUNTER_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_counters SEC(".maps");

static __always_inline void counter_inc(enum tycho_counter counter)
{
	__u32 key = counter;
	__u64 *value = bpf_map_lookup_elem(&tycho_counters, &key);

	/* Per-CPU slot: no other CPU writes it, and tc programs do not nest. */
	if (value)
		*value += 1;
}

#endif /* TYCHO_COUNTERS_H */
