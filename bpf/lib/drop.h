/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Drop reasons, numbered as Cilium's (the Hubble drop_reason_desc enum).
 * Datapath functions fail with a negative DROP_* code; the program turns it
 * into a drop event and TC_ACT_SHOT in one place, drop_packet().
 */
#ifndef TYCHO_DROP_H
#define TYCHO_DROP_H

#include "common.h"
#include "events.h"

#define DROP_POLICY_DENIED            -133
#define DROP_INVALID_PACKET           -134
#define DROP_CT_INVALID_HDR           -135
#define DROP_CT_UNKNOWN_PROTO         -137
#define DROP_CT_CREATE_FAILED         -155
#define DROP_SERVICE_BACKEND_NOT_FOUND -158
#define DROP_POLICY_DENY              -181

static __always_inline int drop_packet(const struct packet *pkt, struct event_meta *meta, int code)
{
	meta->type = TYCHO_EVENT_DROP;
	meta->sub_type = (__u8)-code;
	meta->drop_reason = (__u8)-code;
	meta->verdict = TYCHO_VERDICT_DROPPED;
	emit_event(pkt, meta, NULL);
	return TC_ACT_SHOT;
}

#endif /* TYCHO_DROP_H */
