/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Map definitions for the socket programs. Pinned by name under <bpffs root>/maps, so every
 * object that includes this file shares one instance of each map with the agent. */
#ifndef WEFT_BPF_LIB_MAPS_H
#define WEFT_BPF_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "maps/weft_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_meta SEC(".maps");

/* No prealloc: a preallocated hash recycles an element while a program may still read it,
 * which would break the one-update flip of a backend set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_SERVICES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_svc_key);
	__type(value, struct weft_svc_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_svc_v2 SEC(".maps");

/* Slots and backends are no-prealloc too: memory follows use, not the bounds. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_SLOTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_slot_key);
	__type(value, struct weft_slot_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_slot_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_BACKENDS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct weft_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_be_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WEFT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_rr_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WEFT_MAX_REVNAT);
	__type(key, struct weft_revnat_key);
	__type(value, struct weft_revnat_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_revnat_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_SERVICES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct weft_svc_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_svcinfo_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_STATS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_stats_v1 SEC(".maps");

/* Indexed by backend id; ids run from 1 to WEFT_MAX_BACKENDS. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WEFT_MAX_CONN_COUNTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_conns_v1 SEC(".maps");

/* Pinned so that a restarted agent's programs still find what sockets opened under the old
 * ones recorded, and lower their counts when they close. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct weft_sk_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_skconn_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_BYPASS);
	__type(key, __u64);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_bypass_v1 SEC(".maps");

/* Written in place slot by slot; no-prealloc for the same reason as the slots. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_MAGLEV_SLOTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_maglev_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_maglev_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEFT_MAX_MEMBERS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct weft_member_key);
	__type(value, struct weft_member);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_member_v1 SEC(".maps");

/* LRU: clients that stopped connecting age out without the agent sweeping. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WEFT_MAX_AFFINITY);
	__type(key, struct weft_affinity_key);
	__type(value, struct weft_affinity_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_affinity_v1 SEC(".maps");

#endif /* WEFT_BPF_LIB_MAPS_H */
