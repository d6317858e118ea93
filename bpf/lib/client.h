/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Who is connecting, for Maglev and session affinity: the socket's bound source address, or
 * its network namespace when it has none yet (see weft_svc_value in maps/weft_maps.h). */
#ifndef WEFT_BPF_LIB_CLIENT_H
#define WEFT_BPF_LIB_CLIENT_H

#include <stdbool.h>
#include <bpf/bpf_endian.h>

#include "bpf/lib/maps.h"

struct lb_client {
	__u8 kind; /* WEFT_CLIENT_* */
	__u32 id[4];
	/* Bound source port (host order), or the socket cookie when the socket has no port. */
	__u64 flow;
};

static __always_inline bool client_v4_mapped(const __u32 addr[4])
{
	return addr[0] == 0 && addr[1] == 0 && addr[2] == bpf_htonl(0x0000ffff);
}

/* Computed only for services that hash or remember clients, so other connects never pay;
 * the flow part (a helper call for an unbound socket) only when the hash key includes it.
 * `client` must come zeroed: the caller zeroes it anyway so the verifier sees it set. */
static __always_inline void client_of(struct bpf_sock_addr *ctx, struct lb_client *client,
				      bool with_flow)
{
	struct bpf_sock *sk = ctx->sk;
	__u32 port = 0;

	if (sk) {
		port = sk->src_port;
		if (sk->family == WEFT_AF_INET && sk->src_ip4) {
			client->kind = WEFT_CLIENT_ADDR4;
			client->id[0] = sk->src_ip4;
		} else if (sk->family == WEFT_AF_INET6) {
			client->id[0] = sk->src_ip6[0];
			client->id[1] = sk->src_ip6[1];
			client->id[2] = sk->src_ip6[2];
			client->id[3] = sk->src_ip6[3];
			if (client_v4_mapped(client->id)) {
				client->kind = WEFT_CLIENT_ADDR4;
				client->id[0] = client->id[3];
				client->id[1] = 0;
				client->id[2] = 0;
				client->id[3] = 0;
			} else if (client->id[0] | client->id[1] | client->id[2] | client->id[3]) {
				client->kind = WEFT_CLIENT_ADDR6;
			}
		}
	}
	if (client->kind == 0) {
		__u64 netns = bpf_get_netns_cookie(ctx);

		client->kind = WEFT_CLIENT_NETNS;
		client->id[0] = (__u32)netns;
		client->id[1] = (__u32)(netns >> 32);
	}
	if (with_flow)
		client->flow = port ? port : bpf_get_socket_cookie(ctx);
}

/* A 64-bit finalizer (murmur3's): every input bit moves about half the output bits, so
 * neighbouring addresses spread over the whole table. */
static __always_inline __u64 client_mix(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Deterministic: the same client lands on the same slot on every host and after restarts. */
static __always_inline __u64 client_hash(const struct lb_client *client, bool with_flow)
{
	__u64 h = client_mix(client->kind);

	h = client_mix(h ^ client->id[0]);
	h = client_mix(h ^ client->id[1]);
	h = client_mix(h ^ client->id[2]);
	h = client_mix(h ^ client->id[3]);
	if (with_flow)
		h = client_mix(h ^ client->flow);
	return h;
}

#endif /* WEFT_BPF_LIB_CLIENT_H */
