/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reverse translation: remember, per socket and backend, which virtual address the
 * application asked for, so getpeername and recvmsg can give it back. */
#ifndef WEFT_BPF_LIB_REVNAT_H
#define WEFT_BPF_LIB_REVNAT_H

#include "bpf/lib/maps.h"
#include "bpf/lib/stats.h"

static __always_inline void revnat_record(void *ctx, const struct weft_backend *backend,
					  const struct weft_svc_key *svc_key, __u32 svc_id)
{
	struct weft_revnat_key key = {};
	struct weft_revnat_value value = {};

	key.cookie = bpf_get_socket_cookie(ctx);
	__builtin_memcpy(key.addr, backend->addr, sizeof(key.addr));
	key.port = backend->port;
	key.family = backend->family;

	__builtin_memcpy(value.addr, svc_key->addr, sizeof(value.addr));
	value.port = svc_key->port;
	value.family = svc_key->family;
	value.svc_id = svc_id;

	if (bpf_map_update_elem(&weft_revnat_v1, &key, &value, BPF_ANY))
		stats_count(WEFT_R_REVNAT_UPDATE_FAIL);
}

/* Looks up the virtual address for a peer address seen by this socket. */
static __always_inline const struct weft_revnat_value *revnat_lookup(void *ctx, const __u32 *addr,
								     __u16 port, __u8 family)
{
	struct weft_revnat_key key = {};

	key.cookie = bpf_get_socket_cookie(ctx);
	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	key.port = port;
	key.family = family;

	return bpf_map_lookup_elem(&weft_revnat_v1, &key);
}

#endif /* WEFT_BPF_LIB_REVNAT_H */
