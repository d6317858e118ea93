/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Active connection counts per backend: recorded at connect, raised on establish, lowered
 * once on close; and the least-connection pick that reads them. */
#ifndef WEFT_BPF_LIB_CONN_COUNT_H
#define WEFT_BPF_LIB_CONN_COUNT_H

#include "bpf/lib/maps.h"
#include "bpf/lib/slots.h"

/* Values from the kernel's TCP state enum, which the uapi headers do not export. */
#define CONN_TCP_CLOSE 7

/* A lost race retries; more than a few would mean heavy churn on one backend, where being
 * one off until the next close is harmless. */
#define CONN_DEC_TRIES 4

/* Remembers the backend of a TCP socket at connect. Not counted yet: only the sockops
 * establish callback counts, so a connect that fails never does. */
static __always_inline void conn_record(struct bpf_sock_addr *ctx, __u32 backend_id)
{
	struct bpf_sock *sk = ctx->sk;
	struct weft_sk_conn *conn;

	if (!sk)
		return;
	conn = bpf_sk_storage_get(&weft_skconn_v1, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	/* A counted socket keeps its backend: its close must lower that one. */
	if (!conn || (conn->flags & WEFT_SK_CONN_COUNTED))
		return;
	conn->backend_id = backend_id;
}

static __always_inline __u64 conn_load(__u32 backend_id)
{
	__u64 *count = bpf_map_lookup_elem(&weft_conns_v1, &backend_id);

	return count ? *count : 0;
}

/* Saturates at zero: an id reused while a connection to its old backend was still open
 * starts from zero, and that connection's close must not wrap it. */
static __always_inline void conn_decrement(__u32 backend_id)
{
	__u64 *count = bpf_map_lookup_elem(&weft_conns_v1, &backend_id);
	__u64 seen;
	int i;

	if (!count)
		return;
#pragma unroll
	for (i = 0; i < CONN_DEC_TRIES; i++) {
		seen = *(volatile __u64 *)count;
		if (seen == 0)
			return;
		if (__sync_val_compare_and_swap(count, seen, seen - 1) == seen)
			return;
	}
}

static __always_inline void conn_established(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct weft_sk_conn *conn;
	__u64 *count;

	if (!sk)
		return;
	conn = bpf_sk_storage_get(&weft_skconn_v1, sk, NULL, 0);
	if (!conn || (conn->flags & WEFT_SK_CONN_COUNTED))
		return;
	count = bpf_map_lookup_elem(&weft_conns_v1, &conn->backend_id);
	if (!count)
		return;
	/* Count only what the close callback will see again. */
	if (bpf_sock_ops_cb_flags_set(skops,
				      skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG))
		return;
	conn->flags |= WEFT_SK_CONN_COUNTED;
	__sync_fetch_and_add(count, 1);
}

static __always_inline void conn_state_changed(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct weft_sk_conn *conn;

	if (skops->args[1] != CONN_TCP_CLOSE || !sk)
		return;
	conn = bpf_sk_storage_get(&weft_skconn_v1, sk, NULL, 0);
	if (!conn || !(conn->flags & WEFT_SK_CONN_COUNTED))
		return;
	/* Cleared first: the socket's callbacks run under its lock, so this is exactly once. */
	conn->flags &= ~WEFT_SK_CONN_COUNTED;
	conn_decrement(conn->backend_id);
}

static __always_inline void conn_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		conn_established(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		conn_state_changed(skops);
		break;
	default:
		break;
	}
}

/* Power of two choices: two distinct random slots of the active half, the one whose
 * backend has fewer established connections wins (the first on a tie, itself random).
 * Returns the chosen slot (NULL on a miss, which the caller reports): two slot and two
 * counter lookups, whatever the backend count. */
static __always_inline struct weft_slot_value *conn_least_slot(const struct weft_svc_value *svc)
{
	struct weft_slot_value *first, *second;
	__u32 count = svc->count;
	__u32 a, b;

	a = bpf_get_prandom_u32() % count;
	first = slot_at(svc, a);
	if (count < 2 || !first)
		return first;
	b = (a + 1 + bpf_get_prandom_u32() % (count - 1)) % count;
	second = slot_at(svc, b);
	if (!second)
		return first;
	return conn_load(second->backend_id) < conn_load(first->backend_id) ? second : first;
}

#endif /* WEFT_BPF_LIB_CONN_COUNT_H */
