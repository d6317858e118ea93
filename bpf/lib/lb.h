/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Backend selection: service lookup and the pick within the service's active half. */
#ifndef WEFT_BPF_LIB_LB_H
#define WEFT_BPF_LIB_LB_H

#include "bpf/lib/conn_count.h"
#include "bpf/lib/maps.h"
#include "bpf/lib/slots.h"

static __always_inline __u32 lb_round_robin_index(const struct weft_svc_value *svc)
{
	__u32 id = svc->svc_id;
	__u64 *pos = bpf_map_lookup_elem(&weft_rr_v1, &id);

	if (!pos)
		return 0;

	/* Atomic so that concurrent connects on several CPUs still take turns exactly. */
	return __sync_fetch_and_add(pos, 1) % svc->count;
}

/* Picks a backend of the service and stores its id in *backend_id. Returns NULL and sets
 * *reason when the connect must be refused. The service value is read once: count and half
 * come from the same update, so the pick stays inside one backend set. */
static __always_inline const struct weft_backend *
lb_select(const struct weft_svc_value *svc, enum weft_reason *reason, __u32 *backend_id)
{
	struct weft_slot_value *slot;
	struct weft_backend *backend;

	if (svc->count == 0) {
		*reason = WEFT_R_NO_BACKEND;
		return NULL;
	}

	/* Weighted services repeat each backend over slots in proportion to its weight, laid out
	 * so that taking the slots in turn is a smooth weighted round robin. */
	if (svc->algo == WEFT_LB_ROUND_ROBIN || svc->algo == WEFT_LB_WEIGHTED)
		slot = slot_at(svc, lb_round_robin_index(svc));
	else if (svc->algo == WEFT_LB_LEAST_CONN)
		slot = conn_least_slot(svc);
	else
		slot = slot_at(svc, bpf_get_prandom_u32() % svc->count);
	if (!slot) {
		*reason = WEFT_R_SLOT_MISS;
		return NULL;
	}

	backend = bpf_map_lookup_elem(&weft_be_v1, &slot->backend_id);
	if (!backend) {
		*reason = WEFT_R_BACKEND_MISS;
		return NULL;
	}

	*backend_id = slot->backend_id;
	return backend;
}

#endif /* WEFT_BPF_LIB_LB_H */
