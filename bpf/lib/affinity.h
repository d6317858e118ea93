/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Session affinity: a client that connects again within the service's timeout gets the
 * backend it had, as long as that backend is still an active member of the service. */
#ifndef WEFT_BPF_LIB_AFFINITY_H
#define WEFT_BPF_LIB_AFFINITY_H

#include "bpf/lib/client.h"
#include "bpf/lib/maps.h"

#define AFFINITY_NS_PER_S 1000000000ULL

static __always_inline void affinity_key_of(const struct weft_svc_value *svc,
					    const struct lb_client *client,
					    struct weft_affinity_key *key)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->svc_id = svc->svc_id;
	key->client_kind = client->kind;
	key->client[0] = client->id[0];
	key->client[1] = client->id[1];
	key->client[2] = client->id[2];
	key->client[3] = client->id[3];
}

/* The remembered backend id, or 0 when there is none to keep: expired, drained, removed from
 * the service, or gone. A hit refreshes the idle timer. */
static __always_inline __u32 affinity_lookup(const struct weft_svc_value *svc,
					     const struct weft_affinity_key *key)
{
	struct weft_affinity_value *remembered;
	struct weft_member_key member_key = {};
	struct weft_member *member;
	__u64 now = bpf_ktime_get_ns();

	remembered = bpf_map_lookup_elem(&weft_affinity_v1, key);
	if (!remembered)
		return 0;
	if (now - remembered->last_used_ns > svc->affinity_timeout_s * AFFINITY_NS_PER_S)
		return 0;
	member_key.svc_id = svc->svc_id;
	member_key.backend_id = remembered->backend_id;
	member = bpf_map_lookup_elem(&weft_member_v1, &member_key);
	if (!member || !(member->state & WEFT_BE_ACTIVE))
		return 0;
	remembered->last_used_ns = now;
	return remembered->backend_id;
}

static __always_inline void affinity_remember(const struct weft_affinity_key *key, __u32 backend_id)
{
	struct weft_affinity_value value = {};

	value.last_used_ns = bpf_ktime_get_ns();
	value.backend_id = backend_id;
	bpf_map_update_elem(&weft_affinity_v1, key, &value, BPF_ANY);
}

#endif /* WEFT_BPF_LIB_AFFINITY_H */
