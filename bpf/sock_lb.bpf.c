/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Socket load balancing on cgroup sock_addr hooks: a connect or sendmsg to a service's
 * virtual address is rewritten to one backend before any packet exists; getpeername and
 * recvmsg translate the backend back to the virtual address. */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/lib/conn_count.h"
#include "bpf/lib/lb.h"
#include "bpf/lib/maps.h"
#include "bpf/lib/revnat.h"
#include "bpf/lib/stats.h"

#define SOCK_ALLOW 1
#define SOCK_DENY 0

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Refuses at once with ECONNREFUSED; without bpf_set_retval the kernel would say EPERM,
 * which applications read as a policy decision rather than "nothing listens". */
static __always_inline int sock_refuse(enum weft_reason reason)
{
	stats_count(reason);
	bpf_set_retval(-ECONNREFUSED);
	return SOCK_DENY;
}

static __always_inline bool sock6_is_v4_mapped(const struct bpf_sock_addr *ctx)
{
	return ctx->user_ip6[0] == 0 && ctx->user_ip6[1] == 0 &&
	       ctx->user_ip6[2] == bpf_htonl(0x0000ffff);
}

/* True when the calling task's cgroup, or one above it, is in weft_bypass_v1. Checked only
 * for service addresses, so other traffic never pays for it. */
static __always_inline bool sock_bypassed(void)
{
	for (int level = 0; level < WEFT_BYPASS_MAX_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (id == 0)
			return false; /* below the task's own cgroup */
		if (bpf_map_lookup_elem(&weft_bypass_v1, &id))
			return true;
	}
	return false;
}

/* Looks the destination up and picks a backend of the key's family. Returns the backend,
 * or NULL with *verdict set: SOCK_ALLOW for anything that is not a service (left untouched),
 * SOCK_DENY when the service cannot be served. Records the reverse translation. */
static __always_inline const struct weft_backend *
sock_select(struct bpf_sock_addr *ctx, const struct weft_svc_key *key, int *verdict)
{
	const struct weft_svc_value *svc;
	const struct weft_backend *backend;
	enum weft_reason reason = WEFT_R_LB_OK;
	__u32 backend_id = 0;

	svc = bpf_map_lookup_elem(&weft_svc_v2, key);
	if (!svc) {
		stats_count(WEFT_R_NOT_SERVICE);
		*verdict = SOCK_ALLOW;
		return NULL;
	}
	if (sock_bypassed()) {
		stats_count(WEFT_R_BYPASSED);
		*verdict = SOCK_ALLOW;
		return NULL;
	}

	backend = lb_select(ctx, svc, &reason, &backend_id);
	if (backend && backend->family != key->family) {
		backend = NULL;
		reason = WEFT_R_FAMILY_MISMATCH;
	}
	if (!backend) {
		*verdict = sock_refuse(reason);
		return NULL;
	}

	revnat_record(ctx, backend, key, svc->svc_id);
	/* TCP connects only: sendmsg never sees TCP, and UDP has no establish to count. */
	if (key->proto == WEFT_PROTO_TCP)
		conn_record(ctx, backend_id);
	stats_count(WEFT_R_LB_OK);
	return backend;
}

/* Balances an IPv4 destination. `v4_mapped` says the socket is AF_INET6 and the address
 * must be written back in ::ffff:a.b.c.d form. */
static __always_inline int sock4_forward(struct bpf_sock_addr *ctx, __u32 daddr, bool v4_mapped)
{
	struct weft_svc_key key = {};
	const struct weft_backend *backend;
	int verdict = SOCK_ALLOW;

	key.addr[0] = daddr;
	key.port = (__u16)ctx->user_port;
	key.proto = (__u8)ctx->protocol;
	key.family = WEFT_AF_INET;
	backend = sock_select(ctx, &key, &verdict);
	if (!backend)
		return verdict;

	if (v4_mapped) {
		ctx->user_ip6[3] = backend->addr[0];
		stats_count(WEFT_R_V4_MAPPED);
	} else {
		ctx->user_ip4 = backend->addr[0];
	}
	ctx->user_port = (__u32)backend->port;
	return SOCK_ALLOW;
}

static __always_inline int sock6_forward(struct bpf_sock_addr *ctx)
{
	struct weft_svc_key key = {};
	const struct weft_backend *backend;
	int verdict = SOCK_ALLOW;

	if (sock6_is_v4_mapped(ctx))
		return sock4_forward(ctx, ctx->user_ip6[3], true);

	key.addr[0] = ctx->user_ip6[0];
	key.addr[1] = ctx->user_ip6[1];
	key.addr[2] = ctx->user_ip6[2];
	key.addr[3] = ctx->user_ip6[3];
	key.port = (__u16)ctx->user_port;
	key.proto = (__u8)ctx->protocol;
	key.family = WEFT_AF_INET6;
	backend = sock_select(ctx, &key, &verdict);
	if (!backend)
		return verdict;

	ctx->user_ip6[0] = backend->addr[0];
	ctx->user_ip6[1] = backend->addr[1];
	ctx->user_ip6[2] = backend->addr[2];
	ctx->user_ip6[3] = backend->addr[3];
	ctx->user_port = (__u32)backend->port;
	return SOCK_ALLOW;
}

/* Rewrites a peer address (getpeername, recvmsg source) back to the virtual address. */
static __always_inline void sock4_restore(struct bpf_sock_addr *ctx, enum weft_reason reason)
{
	__u32 addr[4] = {ctx->user_ip4, 0, 0, 0};
	const struct weft_revnat_value *vip;

	vip = revnat_lookup(ctx, addr, (__u16)ctx->user_port, WEFT_AF_INET);
	if (!vip)
		return;

	ctx->user_ip4 = vip->addr[0];
	ctx->user_port = (__u32)vip->port;
	stats_count(reason);
}

static __always_inline void sock6_restore(struct bpf_sock_addr *ctx, enum weft_reason reason)
{
	__u32 addr[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
	const struct weft_revnat_value *vip;
	bool v4_mapped = sock6_is_v4_mapped(ctx);

	if (v4_mapped) {
		addr[0] = addr[3];
		addr[1] = 0;
		addr[2] = 0;
		addr[3] = 0;
	}
	vip = revnat_lookup(ctx, addr, (__u16)ctx->user_port,
			    v4_mapped ? WEFT_AF_INET : WEFT_AF_INET6);
	if (!vip)
		return;

	if (v4_mapped) {
		ctx->user_ip6[3] = vip->addr[0];
	} else {
		ctx->user_ip6[0] = vip->addr[0];
		ctx->user_ip6[1] = vip->addr[1];
		ctx->user_ip6[2] = vip->addr[2];
		ctx->user_ip6[3] = vip->addr[3];
	}
	ctx->user_port = (__u32)vip->port;
	stats_count(reason);
}

SEC("cgroup/connect4")
int weft_connect4(struct bpf_sock_addr *ctx)
{
	return sock4_forward(ctx, ctx->user_ip4, false);
}

SEC("cgroup/connect6")
int weft_connect6(struct bpf_sock_addr *ctx)
{
	return sock6_forward(ctx);
}

/* Unconnected UDP: each datagram is balanced on its own. */
SEC("cgroup/sendmsg4")
int weft_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock4_forward(ctx, ctx->user_ip4, false);
}

SEC("cgroup/sendmsg6")
int weft_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock6_forward(ctx);
}

/* recvmsg and getpeername programs must return 1: they can translate, never deny. */
SEC("cgroup/recvmsg4")
int weft_recvmsg4(struct bpf_sock_addr *ctx)
{
	sock4_restore(ctx, WEFT_R_RECV_RESTORED);
	return SOCK_ALLOW;
}

SEC("cgroup/recvmsg6")
int weft_recvmsg6(struct bpf_sock_addr *ctx)
{
	sock6_restore(ctx, WEFT_R_RECV_RESTORED);
	return SOCK_ALLOW;
}

SEC("cgroup/getpeername4")
int weft_getpeer4(struct bpf_sock_addr *ctx)
{
	sock4_restore(ctx, WEFT_R_PEER_RESTORED);
	return SOCK_ALLOW;
}

SEC("cgroup/getpeername6")
int weft_getpeer6(struct bpf_sock_addr *ctx)
{
	sock6_restore(ctx, WEFT_R_PEER_RESTORED);
	return SOCK_ALLOW;
}

/* Established connections per backend, for least-connection balancing and for operators. */
SEC("sockops")
int weft_sockops(struct bpf_sock_ops *skops)
{
	conn_sockops(skops);
	return 1;
}
