/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* weft map contract: the only definition of map names, keys, values and reason codes.
 * Included by the BPF programs (clang -target bpf) and by the C++ agent and CLI. */
#ifndef WEFT_MAPS_H
#define WEFT_MAPS_H

#include <linux/types.h>

#ifdef __cplusplus
#define WEFT_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define WEFT_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Bumped whenever a key or value below changes shape. Map names carry the same
 * number as a suffix so that an old pin is never reused with a new layout. */
#define WEFT_LAYOUT_VERSION 2
#define WEFT_META_MAGIC 0x77656674 /* "weft" */

#define WEFT_MAP_META "weft_meta"
#define WEFT_MAP_SVC "weft_svc_v2"
#define WEFT_MAP_SLOT "weft_slot_v1"
#define WEFT_MAP_BACKEND "weft_be_v1"
#define WEFT_MAP_RR "weft_rr_v1"
#define WEFT_MAP_REVNAT "weft_revnat_v1"
#define WEFT_MAP_STATS "weft_stats_v1"
#define WEFT_MAP_SVC_INFO "weft_svcinfo_v1"
#define WEFT_MAP_CONNS "weft_conns_v1"
#define WEFT_MAP_SK_CONN "weft_skconn_v1"
#define WEFT_MAP_BYPASS "weft_bypass_v1"
#define WEFT_MAP_MAGLEV "weft_maglev_v1"
#define WEFT_MAP_MEMBER "weft_member_v1"
#define WEFT_MAP_AFFINITY "weft_affinity_v1"

#define WEFT_MAX_SERVICES 65536
/* Backends and slots use memory only as they are filled (no-prealloc hashes), so the bounds
 * leave room for 10,000+ services of 10+ endpoints each with both halves written. */
#define WEFT_MAX_BACKENDS 262144
/* Slots of one half of a service's backend set. */
#define WEFT_MAX_SLOTS_PER_SVC 1024
#define WEFT_MAX_SLOTS 1048576
#define WEFT_MAX_REVNAT 262144
/* (service, backend) pairs: every backend of every service, drained ones included. */
#define WEFT_MAX_MEMBERS WEFT_MAX_SLOTS
/* Maglev table slots over all consistent-hash services (no-prealloc, so a bound, not a cost):
 * 256 services at the default size. */
#define WEFT_MAX_MAGLEV_SLOTS 4194304
/* LRU maps are preallocated: 65,536 remembered clients cost about 6 MB of kernel memory. */
#define WEFT_MAX_AFFINITY 65536

/* Maglev table sizes: primes, so that every skip walks all slots. The default holds up to 163
 * backends at 100 slots each; the controller grows a table along a fixed ladder of primes when
 * a service has more, so hosts that share a registry still build the same table. */
#define WEFT_MAGLEV_DEFAULT_SIZE 16381
#define WEFT_MAGLEV_MIN_SIZE 251
#define WEFT_MAGLEV_MAX_SIZE 131071

/* Address families as the kernel numbers them (AF_INET, AF_INET6). */
#define WEFT_AF_INET 2
#define WEFT_AF_INET6 10

#define WEFT_PROTO_TCP 6
#define WEFT_PROTO_UDP 17

/* Balancing algorithms. The values are ABI: they live in pinned maps. Weighted
 * services take their slots in turn, like round robin; the controller repeats each backend
 * over the slots in proportion to its weight. Least-connection picks the less loaded of two
 * random slots by the counts in weft_conns_v1. Maglev hashes the client (see weft_svc_value) into
 * the service's table in weft_maglev_v1. */
enum weft_lb_algo {
	WEFT_LB_RANDOM = 0,
	WEFT_LB_ROUND_ROBIN = 1,
	WEFT_LB_WEIGHTED = 2,
	WEFT_LB_LEAST_CONN = 3,
	WEFT_LB_MAGLEV = 4,
	WEFT_LB_ALGO_MAX,
};

/* Per-backend state bits. weft_be_v1 holds WEFT_BE_ACTIVE; weft_member_v1 says, per service,
 * whether a backend takes new connections (ACTIVE) or only keeps its established ones
 * (DRAINING). The controller only places ACTIVE members in slots and Maglev tables. */
enum weft_backend_state {
	WEFT_BE_ACTIVE = 1 << 0,
	WEFT_BE_DRAINING = 1 << 1,
	WEFT_BE_UNHEALTHY = 1 << 2,
	WEFT_BE_CIRCUIT_OPEN = 1 << 3,
};

/* Reason codes: index of weft_stats, one per-CPU counter each. Append only. */
enum weft_reason {
	WEFT_R_LB_OK = 0,	   /* connect/sendmsg rewritten to a backend */
	WEFT_R_NOT_SERVICE,	   /* destination is not a service: untouched */
	WEFT_R_NO_BACKEND,	   /* service has an empty backend set: ECONNREFUSED */
	WEFT_R_SLOT_MISS,	   /* slot entry missing (update raced): ECONNREFUSED */
	WEFT_R_BACKEND_MISS,	   /* slot names an unknown backend: ECONNREFUSED */
	WEFT_R_FAMILY_MISMATCH,	   /* IPv6 backend for an IPv4-mapped connect: refused */
	WEFT_R_REVNAT_UPDATE_FAIL, /* could not record the original address */
	WEFT_R_PEER_RESTORED,	   /* getpeername answered with the virtual address */
	WEFT_R_RECV_RESTORED,	   /* recvmsg source rewritten to the virtual address */
	WEFT_R_V4_MAPPED,	   /* IPv6 socket balanced through the IPv4 table */
	WEFT_R_BYPASSED,	   /* service address from a bypassed cgroup: untouched */
	WEFT_R_MAX,
};

/* weft_meta, ARRAY[1]: identifies the layout of everything pinned beside it. */
struct weft_meta {
	__u32 magic;
	__u32 layout_version;
	__u64 created_ns; /* CLOCK_MONOTONIC of first creation; informational */
};
WEFT_STATIC_ASSERT(sizeof(struct weft_meta) == 16, "weft_meta layout");

/* weft_svc_v2, HASH (no prealloc, so readers never see a recycled element):
 * (virtual IP, port, protocol) -> service. IPv4 addresses sit in addr[0]; the
 * other words are zero. Ports and addresses are in network byte order. */
struct weft_svc_key {
	__u32 addr[4];
	__u16 port;
	__u8 proto;
	__u8 family;
};
WEFT_STATIC_ASSERT(sizeof(struct weft_svc_key) == 20, "weft_svc_key layout");

/* The backend set is double-buffered: slots of `half` 0 and 1. The controller
 * fills the inactive half, then replaces this value in one update, so a connect
 * sees either the old set or the new one.
 *
 * The client of a connect, for Maglev and session affinity, is the socket's bound source
 * address when it has one (and its bound port too under WEFT_SVC_F_HASH_PORT); otherwise the
 * client's network namespace (one per pod or container), and under WEFT_SVC_F_HASH_PORT the
 * socket itself. A cgroup connect hook runs before the kernel picks a source address, so an
 * unbound socket has none to hash. */
#define WEFT_SVC_F_HASH_PORT (1u << 0) /* Maglev key: client address and port */
struct weft_svc_value {
	__u32 svc_id;
	__u16 count; /* backends in the active half; 0 means refuse */
	__u8 half;
	__u8 algo;	   /* enum weft_lb_algo */
	__u32 flags;	   /* WEFT_SVC_F_* */
	__u32 generation;  /* bumped on every flip; for operators */
	__u32 maglev_size; /* entries of the service's table in weft_maglev_v1; 0 unless Maglev */
	__u32 affinity_timeout_s; /* session affinity idle timeout in seconds; 0 = off */
	__u32 pad[2];
};
WEFT_STATIC_ASSERT(sizeof(struct weft_svc_value) == 32, "weft_svc_value layout");

/* weft_slot_v1, HASH: (service, half, index) -> backend. */
struct weft_slot_key {
	__u32 svc_id;
	__u16 index;
	__u8 half;
	__u8 pad;
};
WEFT_STATIC_ASSERT(sizeof(struct weft_slot_key) == 8, "weft_slot_key layout");

struct weft_slot_value {
	__u32 backend_id;
	__u16 weight; /* reserved for weighted balancing */
	__u16 pad;
};
WEFT_STATIC_ASSERT(sizeof(struct weft_slot_value) == 8, "weft_slot_value layout");

/* weft_be_v1, HASH: backend id -> address. Backends are shared between
 * services that name the same address, port and protocol. */
struct weft_backend {
	__u32 addr[4];
	__u16 port;
	__u8 proto;
	__u8 family;
	__u8 state; /* enum weft_backend_state bits */
	__u8 pad[3];
};
WEFT_STATIC_ASSERT(sizeof(struct weft_backend) == 24, "weft_backend layout");

/* weft_rr_v1, ARRAY[WEFT_MAX_SERVICES] of __u64: round-robin position per
 * service id, advanced with an atomic fetch-and-add. */

/* weft_revnat_v1, LRU_HASH: (socket cookie, backend address) -> virtual address.
 * Lets getpeername and recvmsg report the address the application asked for. */
struct weft_revnat_key {
	__u64 cookie;
	__u32 addr[4];
	__u16 port;
	__u8 family;
	__u8 pad[5];
};
WEFT_STATIC_ASSERT(sizeof(struct weft_revnat_key) == 32, "weft_revnat_key layout");

struct weft_revnat_value {
	__u32 addr[4];
	__u16 port;
	__u8 family;
	__u8 pad;
	__u32 svc_id;
};
WEFT_STATIC_ASSERT(sizeof(struct weft_revnat_value) == 24, "weft_revnat_value layout");

/* weft_svcinfo_v1, HASH: service id -> its key and name, for operators and
 * tools (bpftool prints the name as a string). Never read by the data path. */
#define WEFT_SVC_NAME_LEN 128
struct weft_svc_info {
	struct weft_svc_key key;
	__u32 pad;
	char name[WEFT_SVC_NAME_LEN]; /* "name" or "name.namespace", NUL-terminated */
};
WEFT_STATIC_ASSERT(sizeof(struct weft_svc_info) == 152, "weft_svc_info layout");

/* weft_stats_v1, PERCPU_ARRAY[WEFT_STATS_SLOTS] of __u64, indexed by enum weft_reason. Sized
 * beyond WEFT_R_MAX so that appending a reason keeps the pinned map's shape. */
#define WEFT_STATS_SLOTS 64
WEFT_STATIC_ASSERT(WEFT_R_MAX <= WEFT_STATS_SLOTS, "weft_stats_v1 has a slot per reason");

/* weft_conns_v1, ARRAY[WEFT_MAX_BACKENDS + 1] of __u64: established TCP connections per
 * backend id, raised by the sockops program on establish and lowered on close. One shared
 * counter (not per-CPU) so that a connect reads a backend's load in one lookup; the agent
 * zeroes an id's counter when it hands the id out. */
#define WEFT_MAX_CONN_COUNTS (WEFT_MAX_BACKENDS + 1)

/* weft_skconn_v1, SK_STORAGE: the backend a TCP socket was balanced to at connect, kept
 * with the socket so its close lowers the right counter, and only if its establish raised
 * it (a failed connect never counts). */
#define WEFT_SK_CONN_COUNTED 1
struct weft_sk_conn {
	__u32 backend_id;
	__u32 flags; /* WEFT_SK_CONN_* bits */
};
WEFT_STATIC_ASSERT(sizeof(struct weft_sk_conn) == 8, "weft_sk_conn layout");

/* weft_bypass_v1, HASH: cgroup id -> who asked (WEFT_BYPASS_*). Sockets of that cgroup and
 * of every cgroup below it are left alone, e.g. a subtree that runs its own proxy. The
 * programs look at the ancestors of the socket's cgroup down to WEFT_BYPASS_MAX_DEPTH. */
#define WEFT_MAX_BYPASS 1024
#define WEFT_BYPASS_MAX_DEPTH 16
#define WEFT_BYPASS_CONFIG 1  /* from the agent's config file; the agent reconciles these */
#define WEFT_BYPASS_COMMAND 2 /* added by weftctl; the agent leaves these alone */

/* weft_maglev_v1, HASH: (service, index) -> backend id, index < the service's maglev_size.
 * Written in place: a backend change rewrites only the slots whose owner changed; a new
 * backend is in weft_be_v1 before a slot names it, and a leaving one stays there until no
 * slot does. */
struct weft_maglev_key {
	__u32 svc_id;
	__u32 index;
};
WEFT_STATIC_ASSERT(sizeof(struct weft_maglev_key) == 8, "weft_maglev_key layout");

/* weft_member_v1, HASH: (service, backend) -> WEFT_BE_ACTIVE or WEFT_BE_DRAINING. Lets session
 * affinity check that a remembered backend still serves the service, and operators see which
 * drained backends still hold connections (weft_conns_v1). */
struct weft_member_key {
	__u32 svc_id;
	__u32 backend_id;
};
WEFT_STATIC_ASSERT(sizeof(struct weft_member_key) == 8, "weft_member_key layout");

struct weft_member {
	__u8 state; /* enum weft_backend_state bits */
	__u8 pad[3];
};
WEFT_STATIC_ASSERT(sizeof(struct weft_member) == 4, "weft_member layout");

/* weft_affinity_v1, LRU_HASH: (service, client) -> the backend the client was last sent to.
 * Kept while the client connects again within the service's timeout and the backend is an
 * ACTIVE member; otherwise the algorithm picks again and the entry is replaced. */
#define WEFT_CLIENT_ADDR4 1 /* client[0]: bound IPv4 source address */
#define WEFT_CLIENT_ADDR6 2 /* client[0..3]: bound IPv6 source address */
#define WEFT_CLIENT_NETNS 3 /* client[0..1]: network namespace cookie (unbound socket) */
struct weft_affinity_key {
	__u32 svc_id;
	__u8 client_kind; /* WEFT_CLIENT_* */
	__u8 pad[3];
	__u32 client[4];
};
WEFT_STATIC_ASSERT(sizeof(struct weft_affinity_key) == 24, "weft_affinity_key layout");

struct weft_affinity_value {
	__u64 last_used_ns; /* bpf_ktime_get_ns() of the last connect that used it */
	__u32 backend_id;
	__u32 pad;
};
WEFT_STATIC_ASSERT(sizeof(struct weft_affinity_value) == 16, "weft_affinity_value layout");

#endif /* WEFT_MAPS_H */
