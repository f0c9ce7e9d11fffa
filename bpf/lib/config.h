/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Datapath configuration written by the agent (struct tycho_config). */
#ifndef TYCHO_CONFIG_H
#define TYCHO_CONFIG_H

#include "common.h"

#define TYCHO_DEFAULT_REPORT_INTERVAL_NS (5ULL * 1000 * 1000 * 1000)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct tycho_config);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tycho_config SEC(".maps");

/* Never NULL for an array map with one entry, but the verifier wants the check. */
static __always_inline const struct tycho_config *config_get(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&tycho_config, &key);
}

static __always_inline __u64 config_report_interval_ns(const struct tycho_config *cfg)
{
	if (!cfg || cfg->report_interval_ns == 0)
		return TYCHO_DEFAULT_REPORT_INTERVAL_NS;
	return cfg->report_interval_ns;
}

static __always_inline __u32 config_payload_max(const struct tycho_config *cfg)
{
	if (!cfg || cfg->payload_max > TYCHO_PAYLOAD_MAX)
		return TYCHO_PAYLOAD_MAX;
	return cfg->payload_max;
}

/* Whether either port (network byte order) is a configured L7 port. */
static __always_inline bool config_is_l7_port(const struct tycho_config *cfg,
					      __be16 sport, __be16 dport)
{
	__u16 s = bpf_ntohs(sport), d = bpf_ntohs(dport);

	if (!cfg)
		return false;
#pragma unroll
	for (int i = 0; i < TYCHO_L7_PORTS_MAX; i++) {
		__u16 port = cfg->l7_ports[i];

		if (port != 0 && (port == s || port == d))
			return true;
	}
	return false;
}

#endif /* TYCHO_CONFIG_H */
