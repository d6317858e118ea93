/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Backend selection: service lookup and the pick within the service's active half. */
#ifndef WEFT_BPF_LIB_LB_H
#define WEFT_BPF_LIB_LB_H

#include "bpf/lib/affinity.h"
#include "bpf/lib/client.h"
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

/* The client's slot of the service's Maglev table; 0 on a miss. */
static __always_inline __u32 lb_maglev_pick(const struct weft_svc_value *svc,
					    const struct lb_client *client)
{
	struct weft_maglev_key key = {};
	__u32 *backend_id;

	if (svc->maglev_size == 0)
		return 0;
	key.svc_id = svc->svc_id;
	key.index = client_hash(client, svc->flags & WEFT_SVC_F_HASH_PORT) % svc->maglev_size;
	backend_id = bpf_map_lookup_elem(&weft_maglev_v1, &key);
	return backend_id ? *backend_id : 0;
}

/* Backend ids start at 1, so 0 says the pick missed (an update raced). */
static __always_inline __u32 lb_pick(const struct weft_svc_value *svc,
				     const struct lb_client *client)
{
	struct weft_slot_value *slot;

	/* Weighted services repeat each backend over slots in proportion to its weight, laid out
	 * so that taking the slots in turn is a smooth weighted round robin. */
	if (svc->algo == WEFT_LB_ROUND_ROBIN || svc->algo == WEFT_LB_WEIGHTED)
		slot = slot_at(svc, lb_round_robin_index(svc));
	else if (svc->algo == WEFT_LB_LEAST_CONN)
		slot = conn_least_slot(svc);
	else if (svc->algo == WEFT_LB_MAGLEV)
		return lb_maglev_pick(svc, client);
	else
		slot = slot_at(svc, bpf_get_prandom_u32() % svc->count);
	return slot ? slot->backend_id : 0;
}

/* Picks a backend of the service and stores its id in *backend_id. Returns NULL and sets
 * *reason when the connect must be refused. The service value is read once: count and half
 * come from the same update, so the pick stays inside one backend set. */
static __always_inline const struct weft_backend *lb_select(struct bpf_sock_addr *ctx,
							    const struct weft_svc_value *svc,
							    enum weft_reason *reason,
							    __u32 *backend_id)
{
	struct weft_affinity_key affinity_key = {};
	struct lb_client client = {};
	struct weft_backend *backend;
	bool remember = false;
	__u32 id = 0;

	if (svc->count == 0) {
		*reason = WEFT_R_NO_BACKEND;
		return NULL;
	}

	if (svc->affinity_timeout_s || svc->algo == WEFT_LB_MAGLEV)
		client_of(ctx, &client,
			  svc->algo == WEFT_LB_MAGLEV && (svc->flags & WEFT_SVC_F_HASH_PORT));
	if (svc->affinity_timeout_s) {
		affinity_key_of(svc, &client, &affinity_key);
		id = affinity_lookup(svc, &affinity_key);
		remember = id == 0;
	}
	if (id == 0)
		id = lb_pick(svc, &client);
	if (id == 0) {
		*reason = WEFT_R_SLOT_MISS;
		return NULL;
	}

	backend = bpf_map_lookup_elem(&weft_be_v1, &id);
	if (!backend) {
		*reason = WEFT_R_BACKEND_MISS;
		return NULL;
	}
	if (remember)
		affinity_remember(&affinity_key, id);

	*backend_id = id;
	return backend;
}

#endif /* WEFT_BPF_LIB_LB_H */
