/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU reason counters: BPF never prints, it counts. */
#ifndef WEFT_BPF_LIB_STATS_H
#define WEFT_BPF_LIB_STATS_H

#include "bpf/lib/maps.h"

static __always_inline void stats_count(enum weft_reason reason)
{
	__u32 key = reason;
	__u64 *count = bpf_map_lookup_elem(&weft_stats_v1, &key);

	if (count)
		*count += 1;
}

#endif /* WEFT_BPF_LIB_STATS_H */
