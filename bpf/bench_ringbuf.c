// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Ring-buffer producer for the event decode benchmark. Each run of
 * bench_ringbuf_produce (through BPF_PROG_TEST_RUN) writes
 * tycho_bench_config[0] struct tycho_flow_event records, TCP flows with
 * varying ports, into its own tycho_events ring buffer.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <tycho/abi.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} tycho_events SEC(".maps");

/* Records per run. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} tycho_bench_config SEC(".maps");

/* Records that did not fit into the ring. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} tycho_bench_lost SEC(".maps");

static long produce_one(__u32 index, void *ctx)
{
	struct tycho_flow_event *ev;
	__u32 key = 0;
	__u64 *lost;

	ev = bpf_ringbuf_reserve(&tycho_events, sizeof(*ev), 0);
	if (!ev) {
		lost = bpf_map_lookup_elem(&tycho_bench_lost, &key);
		if (lost)
			__sync_fetch_and_add(lost, 1);
		return 1; /* ring full: stop this run */
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = bpf_ktime_get_boot_ns();
	ev->type = TYCHO_EVENT_TRACE;
	ev->sub_type = TYCHO_TRACE_NEW;
	ev->obs_point = TYCHO_OBS_FROM_ENDPOINT;
	ev->verdict = TYCHO_VERDICT_FORWARDED;
	ev->ifindex = 7;
	ev->endpoint_id = 42;
	ev->tcp_flags = TYCHO_TCP_SYN;
	ev->tuple.family = 4;
	ev->tuple.proto = IPPROTO_TCP;
	ev->tuple.saddr.bytes[0] = 10;
	ev->tuple.saddr.bytes[1] = 244;
	ev->tuple.saddr.bytes[3] = index & 0xff;
	ev->tuple.daddr.bytes[0] = 10;
	ev->tuple.daddr.bytes[1] = 244;
	ev->tuple.daddr.bytes[2] = 1;
	ev->tuple.daddr.bytes[3] = (index >> 8) & 0xff;
	ev->tuple.sport = bpf_htons(32768 + (index & 0x7fff));
	ev->tuple.dport = bpf_htons(8080);
	ev->src_identity = 256 + (index & 0xff);
	ev->dst_identity = 257;
	ev->packets_fwd = 1;
	ev->bytes_fwd = 74;
	ev->pkt_len = 74;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("tc")
int bench_ringbuf_produce(struct __sk_buff *skb)
{
	__u32 key = 0, *count = bpf_map_lookup_elem(&tycho_bench_config, &key);

	if (count)
		bpf_loop(*count, produce_one, NULL, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
