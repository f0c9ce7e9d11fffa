/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Local endpoints, keyed by the ifindex of their host-side veth. */
#ifndef TYCHO_ENDPOINT_H
#define TYCHO_ENDPOINT_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct tycho_endpoint_info);
	__uint(max_entries, 4096);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_endpoints SEC(".maps");

/* NULL when the agent has not (or no longer) registered the interface. */
static __always_inline const struct tycho_endpoint_info *endpoint_lookup(__u32 ifindex)
{
	return bpf_map_lookup_elem(&tycho_endpoints, &ifindex);
}

#endif /* TYCHO_ENDPOINT_H */
