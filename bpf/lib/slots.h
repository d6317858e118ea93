/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Slot lookup within a service's active half, shared by every selection algorithm. */
#ifndef WEFT_BPF_LIB_SLOTS_H
#define WEFT_BPF_LIB_SLOTS_H

#include "bpf/lib/maps.h"

static __always_inline struct weft_slot_value *slot_at(const struct weft_svc_value *svc,
						       __u32 index)
{
	struct weft_slot_key key = {};

	key.svc_id = svc->svc_id;
	key.index = (__u16)index;
	key.half = svc->half;
	return bpf_map_lookup_elem(&weft_slot_v1, &key);
}

#endif /* WEFT_BPF_LIB_SLOTS_H */
