/* SPDX-License-Identifier: Apache-2.0 */
/* C API of weft's service mesh: register, discover and deregister service endpoints through
 * a running weftd, or through an in-process registry when no weftd answers. */
#ifndef WEFT_SERVICE_MESH_H
#define WEFT_SERVICE_MESH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handles. Every function accepts NULL handles and then fails (NULL, 0 or
 * DMSC_ERR_INVALID) instead of crashing. All calls on one mesh are serialised by a mutex held
 * by that mesh, so a mesh may be shared between threads; a config or an endpoint must not be
 * used by two threads at once. */
typedef struct DMSCServiceMesh DMSCServiceMesh;
typedef struct DMSCServiceMeshConfig DMSCServiceMeshConfig;
typedef struct DMSCServiceEndpoint DMSCServiceEndpoint;

/* Load-balancing algorithms for the services dmsc_service_mesh_register creates (a service
 * that already exists keeps its own): round_robin, random, least_conn, weighted and maglev in
 * weft's registry. LB_LEAST_REQUESTS is least connections: the data path works at layer 4 and
 * does not see requests. LB_CONSISTENT_HASH hashes the client's address (Maglev). */
enum {
  LB_ROUND_ROBIN = 0,
  LB_RANDOM = 1,
  LB_LEAST_CONNECTIONS = 2,
  LB_LEAST_REQUESTS = 2,
  LB_WEIGHTED = 3,
  LB_CONSISTENT_HASH = 4
};

/* Status codes: 0 ok, else a negated errno value. Macros, so they are plain ints in C++. */
#define DMSC_OK 0
#define DMSC_ERR_NOT_FOUND (-2)     /* unknown service or endpoint (ENOENT) */
#define DMSC_ERR_IO (-5)            /* transport failure talking to weftd (EIO) */
#define DMSC_ERR_TOO_BIG (-7)       /* request larger than weftd accepts (E2BIG) */
#define DMSC_ERR_UNAVAILABLE (-11)  /* no healthy endpoint to discover (EAGAIN) */
#define DMSC_ERR_NO_MEMORY (-12)    /* allocation failed (ENOMEM) */
#define DMSC_ERR_CONFLICT (-17)     /* endpoint host:port already registered (EEXIST) */
#define DMSC_ERR_INVALID (-22)      /* NULL handle, bad name, host, port or value (EINVAL) */
#define DMSC_ERR_PROTOCOL (-71)     /* unexpected reply from weftd (EPROTO) */
#define DMSC_ERR_NOT_STARTED (-107) /* the mesh was not started or was stopped (ENOTCONN) */
#define DMSC_ERR_TIMEOUT (-110)     /* weftd did not answer in time (ETIMEDOUT) */
#define DMSC_ERR_REFUSED (-111)     /* weftd refused the connection (ECONNREFUSED) */

/* ---- configuration ----
 * Setters store their value and dmsc_service_mesh_* reports it back. mTLS, circuit breaking,
 * tracing and metrics are stored only: their enforcement comes with later issues. */
DMSCServiceMeshConfig* dmsc_service_mesh_config_new(void);
void dmsc_service_mesh_config_free(DMSCServiceMeshConfig* config);
int dmsc_service_mesh_config_set_enable_mtls(DMSCServiceMeshConfig* config, bool enable);
int dmsc_service_mesh_config_set_enable_circuit_breaker(DMSCServiceMeshConfig* config, bool enable);
int dmsc_service_mesh_config_set_enable_tracing(DMSCServiceMeshConfig* config, bool enable);
int dmsc_service_mesh_config_set_enable_metrics(DMSCServiceMeshConfig* config, bool enable);
/* rate in [0, 1]. */
int dmsc_service_mesh_config_set_circuit_breaker_failure_rate(DMSCServiceMeshConfig* config,
                                                              double rate);
int dmsc_service_mesh_config_set_circuit_breaker_timeout_ms(DMSCServiceMeshConfig* config,
                                                            uint64_t timeout_ms);
/* One of the LB_* values. */
int dmsc_service_mesh_config_set_load_balancing_algorithm(DMSCServiceMeshConfig* config,
                                                          int algorithm);
/* weftd's API socket. Default: $WEFT_API_SOCKET, else /run/weft/weftd.sock. */
int dmsc_service_mesh_config_set_api_socket(DMSCServiceMeshConfig* config, const char* path);
/* SQLite file of the in-process registry used when no weftd answers. Default:
 * $WEFT_REGISTRY_PATH, else /var/lib/weft/registry.db. */
int dmsc_service_mesh_config_set_registry_path(DMSCServiceMeshConfig* config, const char* path);

bool dmsc_service_mesh_config_get_enable_mtls(const DMSCServiceMeshConfig* config);
bool dmsc_service_mesh_config_get_enable_circuit_breaker(const DMSCServiceMeshConfig* config);
bool dmsc_service_mesh_config_get_enable_tracing(const DMSCServiceMeshConfig* config);
bool dmsc_service_mesh_config_get_enable_metrics(const DMSCServiceMeshConfig* config);
double dmsc_service_mesh_config_get_circuit_breaker_failure_rate(
    const DMSCServiceMeshConfig* config);
uint64_t dmsc_service_mesh_config_get_circuit_breaker_timeout_ms(
    const DMSCServiceMeshConfig* config);
int dmsc_service_mesh_config_get_load_balancing_algorithm(const DMSCServiceMeshConfig* config);

/* ---- the mesh ----
 * dmsc_service_mesh_new copies the config: the caller still owns and frees it, and may free it
 * any time after this call. */
DMSCServiceMesh* dmsc_service_mesh_new(const DMSCServiceMeshConfig* config);
void dmsc_service_mesh_free(DMSCServiceMesh* mesh);
/* Connects to weftd at the API socket and checks GET /v1/status. When no weftd answers it
 * opens an in-process registry (SQLite file, VIPs from 10.96.0.0/16) instead: that mode has no
 * kernel data path and runs no health checks, so endpoints with a check are never counted
 * healthy there. */
int dmsc_service_mesh_start(DMSCServiceMesh* mesh);
/* Closes the connection or the in-process registry; registrations stay. */
int dmsc_service_mesh_stop(DMSCServiceMesh* mesh);
/* Whether start succeeded against a running weftd (true) or in-process (false). */
bool dmsc_service_mesh_is_remote(const DMSCServiceMesh* mesh);

/* Registers the endpoint in namespace/service of its name, creating the service (which gets a
 * virtual IP) when it does not exist. The endpoint stays owned by the caller. */
int dmsc_service_mesh_register(DMSCServiceMesh* mesh, const DMSCServiceEndpoint* endpoint);
int dmsc_service_mesh_deregister(DMSCServiceMesh* mesh, const DMSCServiceEndpoint* endpoint);
/* On success *out is a NEW endpoint (picked with the service's algorithm among the usable
 * ones) that the caller frees with dmsc_service_endpoint_free; on failure *out is NULL. */
int dmsc_service_mesh_discover(DMSCServiceMesh* mesh, const char* service_name,
                               DMSCServiceEndpoint** out);
/* Healthy endpoints of a service in the default namespace; 0 on any error. */
uint32_t dmsc_service_mesh_get_healthy_count(DMSCServiceMesh* mesh, const char* service_name);
/* Re-applies the stored settings (nothing is enforced yet, see above); returns 0. */
int dmsc_service_mesh_reload_config(DMSCServiceMesh* mesh);
/* Mesh-level counterpart of the config setter, for changes at runtime; rate in [0, 1]. */
int dmsc_service_mesh_set_circuit_breaker_failure_rate(DMSCServiceMesh* mesh, double rate);
double dmsc_service_mesh_get_circuit_breaker_failure_rate(const DMSCServiceMesh* mesh);
/* Registry calls made through this mesh handle (register, deregister, discover, healthy
 * count, and start's status check), and how many of them failed. Not traffic counters. */
uint64_t dmsc_service_mesh_get_total_requests(const DMSCServiceMesh* mesh);
uint64_t dmsc_service_mesh_get_failed_requests(const DMSCServiceMesh* mesh);
/* Message of the mesh's last failed call, naming the field and value at fault ("" when none).
 * Owned by the mesh; valid until the next call on it. NULL for a NULL mesh. */
const char* dmsc_service_mesh_last_error(const DMSCServiceMesh* mesh);

/* ---- endpoints ----
 * Strings returned by getters belong to the endpoint: they stay valid until the endpoint is
 * freed or that field is set again. Getters return "" (never NULL) for unset strings, and
 * NULL only for a NULL endpoint. */
DMSCServiceEndpoint* dmsc_service_endpoint_new(void);
void dmsc_service_endpoint_free(DMSCServiceEndpoint* endpoint);
/* The service name (a DNS label). */
int dmsc_service_endpoint_set_name(DMSCServiceEndpoint* endpoint, const char* name);
/* An IPv4 or IPv6 address, not a hostname. */
int dmsc_service_endpoint_set_host(DMSCServiceEndpoint* endpoint, const char* host);
/* 1..65535. */
int dmsc_service_endpoint_set_port(DMSCServiceEndpoint* endpoint, uint32_t port);
int dmsc_service_endpoint_set_version(DMSCServiceEndpoint* endpoint, const char* version);
/* A path starting with '/': an HTTP health check of that path (default interval and
 * thresholds). "" removes the check. */
int dmsc_service_endpoint_set_health_check_url(DMSCServiceEndpoint* endpoint, const char* url);
int dmsc_service_endpoint_set_weight(DMSCServiceEndpoint* endpoint, uint32_t weight);
int dmsc_service_endpoint_set_zone(DMSCServiceEndpoint* endpoint, const char* zone);
/* Default "default". */
int dmsc_service_endpoint_set_namespace(DMSCServiceEndpoint* endpoint, const char* ns);

const char* dmsc_service_endpoint_get_name(const DMSCServiceEndpoint* endpoint);
const char* dmsc_service_endpoint_get_host(const DMSCServiceEndpoint* endpoint);
uint16_t dmsc_service_endpoint_get_port(const DMSCServiceEndpoint* endpoint);
const char* dmsc_service_endpoint_get_version(const DMSCServiceEndpoint* endpoint);
const char* dmsc_service_endpoint_get_health_check_url(const DMSCServiceEndpoint* endpoint);
uint32_t dmsc_service_endpoint_get_weight(const DMSCServiceEndpoint* endpoint);
const char* dmsc_service_endpoint_get_zone(const DMSCServiceEndpoint* endpoint);
const char* dmsc_service_endpoint_get_namespace(const DMSCServiceEndpoint* endpoint);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_SERVICE_MESH_H */
