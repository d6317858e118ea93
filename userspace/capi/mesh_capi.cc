// SPDX-License-Identifier: Apache-2.0
// dmsc_service_mesh_*: one mutex per mesh serialises its calls; each registry call is counted
// and its failure message kept for dmsc_service_mesh_last_error.
#include <cerrno>
#include <memory>
#include <string>

#include "userspace/capi/backend.h"
#include "userspace/capi/handles.h"
#include "userspace/common/log.h"
#include "userspace/config/ip_addr.h"

using weft::Error;
using weft::Result;
using weft::capi::guarded;
using weft::capi::statusOf;

namespace {

constexpr const char* kLog = "capi";

// Holds the mesh's lock for one call and records its outcome in the counters.
class Call {
 public:
  explicit Call(DMSCServiceMesh& mesh) : mesh_(mesh), lock_(mesh.mu) {}

  int fail(const Error& error) {
    mesh_.last_error = error.message;
    return statusOf(error);
  }
  // A registry request: counted, and counted as failed when `status` is not 0.
  int request(int status) {
    ++mesh_.total;
    if (status != DMSC_OK)
      ++mesh_.failed;
    return status;
  }
  // The backend, or DMSC_ERR_NOT_STARTED through `status`.
  weft::capi::MeshBackend* backend(int* status) {
    if (mesh_.backend == nullptr) {
      mesh_.last_error = "mesh: not started";
      *status = DMSC_ERR_NOT_STARTED;
    }
    return mesh_.backend.get();
  }

  DMSCServiceMesh& mesh() { return mesh_; }

 private:
  DMSCServiceMesh& mesh_;
  std::lock_guard<std::mutex> lock_;
};

Result<weft::registry::Endpoint> toRegistry(const DMSCServiceEndpoint& in) {
  if (in.name.empty())
    return weft::makeError("endpoint.name: not set", EINVAL);
  if (in.port == 0)
    return weft::makeError("endpoint.port: not set", EINVAL);
  auto host = weft::IpAddr::parse(in.host);
  if (!host.ok())
    return weft::makeError("endpoint.host: \"" + in.host + "\" is not an address", EINVAL);
  weft::registry::Endpoint out;
  out.service = in.name;
  out.ns = in.ns;
  out.host = *host;
  out.port = in.port;
  out.version = in.version;
  out.zone = in.zone;
  out.weight = in.weight;
  if (!in.health_check_url.empty()) {
    out.health.kind = weft::registry::HealthCheckKind::kHttp;
    out.health.http_path = in.health_check_url;
  }
  return out;
}

DMSCServiceEndpoint* fromRegistry(const weft::registry::Endpoint& in) {
  auto out = std::make_unique<DMSCServiceEndpoint>();
  out->name = in.service;
  out->ns = in.ns;
  out->host = in.host.toString();
  out->port = in.port;
  out->version = in.version;
  out->zone = in.zone;
  out->weight = in.weight;
  if (in.health.kind == weft::registry::HealthCheckKind::kHttp) {
    out->health_check_url = in.health.http_path;
  }
  return out.release();
}

// The mesh config's LB_* value as the registry's algorithm for services register creates.
// The data path balances connections, so least requests is least connections.
weft_lb_algo registryAlgorithm(int lb) {
  switch (lb) {
    case LB_RANDOM:
      return WEFT_LB_RANDOM;
    case LB_LEAST_CONNECTIONS:
      return WEFT_LB_LEAST_CONN;
    case LB_WEIGHTED:
      return WEFT_LB_WEIGHTED;
    case LB_CONSISTENT_HASH:
      return WEFT_LB_MAGLEV;
    default:
      return WEFT_LB_ROUND_ROBIN;
  }
}

// Register and deregister share validation, counting and error recording.
template <typename Op>
int endpointCall(DMSCServiceMesh* mesh, const DMSCServiceEndpoint* endpoint, Op&& op) noexcept {
  if (mesh == nullptr || endpoint == nullptr)
    return DMSC_ERR_INVALID;
  return guarded(DMSC_ERR_NO_MEMORY, [&] {
    Call call(*mesh);
    int status = DMSC_OK;
    auto* backend = call.backend(&status);
    if (backend == nullptr)
      return status;
    auto converted = toRegistry(*endpoint);
    if (!converted.ok())
      return call.fail(converted.error());
    weft::Status done = op(*backend, *converted);
    return call.request(done.ok() ? DMSC_OK : call.fail(done.error()));
  });
}

}  // namespace

extern "C" {

DMSCServiceMesh* dmsc_service_mesh_new(const DMSCServiceMeshConfig* config) {
  if (config == nullptr)
    return nullptr;
  return guarded<DMSCServiceMesh*>(nullptr, [&] {
    auto* mesh = new DMSCServiceMesh;
    mesh->settings = config->settings;
    return mesh;
  });
}

void dmsc_service_mesh_free(DMSCServiceMesh* mesh) {
  guarded(0, [&] {
    delete mesh;
    return 0;
  });
}

int dmsc_service_mesh_start(DMSCServiceMesh* mesh) {
  if (mesh == nullptr)
    return DMSC_ERR_INVALID;
  return guarded(DMSC_ERR_NO_MEMORY, [&] {
    Call call(*mesh);
    if (mesh->backend != nullptr)
      return DMSC_OK;
    auto remote = weft::capi::connectRemote(mesh->settings.api_socket);
    if (remote.ok()) {
      mesh->backend = std::move(*remote);
      return call.request(DMSC_OK);
    }
    int code = remote.error().code;
    if (code != ECONNREFUSED && code != ETIMEDOUT && code != ENOENT) {
      return call.request(call.fail(remote.error()));
    }
    call.request(DMSC_OK);  // the status check itself got its answer: nobody there
    weft::log::info(
        kLog, "no weftd answers; using an in-process registry",
        {{"socket", mesh->settings.api_socket}, {"registry", mesh->settings.registry_path}});
    auto local = weft::capi::openLocal(mesh->settings.registry_path);
    if (!local.ok())
      return call.fail(local.error());
    mesh->backend = std::move(*local);
    return DMSC_OK;
  });
}

int dmsc_service_mesh_stop(DMSCServiceMesh* mesh) {
  if (mesh == nullptr)
    return DMSC_ERR_INVALID;
  return guarded(DMSC_ERR_NO_MEMORY, [&] {
    Call call(*mesh);
    mesh->backend.reset();
    return DMSC_OK;
  });
}

bool dmsc_service_mesh_is_remote(const DMSCServiceMesh* mesh) {
  if (mesh == nullptr)
    return false;
  std::lock_guard<std::mutex> lock(mesh->mu);
  return mesh->backend != nullptr && mesh->backend->remote();
}

int dmsc_service_mesh_register(DMSCServiceMesh* mesh, const DMSCServiceEndpoint* endpoint) {
  // endpointCall holds the mesh's lock while the lambda runs, so settings are read under it.
  return endpointCall(mesh, endpoint, [mesh](auto& backend, const auto& e) {
    return backend.registerEndpoint(e, registryAlgorithm(mesh->settings.algorithm));
  });
}

int dmsc_service_mesh_deregister(DMSCServiceMesh* mesh, const DMSCServiceEndpoint* endpoint) {
  return endpointCall(mesh, endpoint,
                      [](auto& backend, const auto& e) { return backend.deregisterEndpoint(e); });
}

int dmsc_service_mesh_discover(DMSCServiceMesh* mesh, const char* service_name,
                               DMSCServiceEndpoint** out) {
  if (out != nullptr)
    *out = nullptr;
  if (mesh == nullptr || service_name == nullptr || out == nullptr)
    return DMSC_ERR_INVALID;
  return guarded(DMSC_ERR_NO_MEMORY, [&] {
    Call call(*mesh);
    int status = DMSC_OK;
    auto* backend = call.backend(&status);
    if (backend == nullptr)
      return status;
    auto found = backend->discover("default", service_name);
    if (!found.ok())
      return call.request(call.fail(found.error()));
    *out = fromRegistry(*found);
    return call.request(DMSC_OK);
  });
}

uint32_t dmsc_service_mesh_get_healthy_count(DMSCServiceMesh* mesh, const char* service_name) {
  if (mesh == nullptr || service_name == nullptr)
    return 0;
  return guarded(0u, [&] {
    Call call(*mesh);
    int status = DMSC_OK;
    auto* backend = call.backend(&status);
    if (backend == nullptr)
      return 0u;
    auto count = backend->healthyCount("default", service_name);
    if (!count.ok()) {
      call.request(call.fail(count.error()));
      return 0u;
    }
    call.request(DMSC_OK);
    return *count;
  });
}

int dmsc_service_mesh_reload_config(DMSCServiceMesh* mesh) {
  if (mesh == nullptr)
    return DMSC_ERR_INVALID;
  // Settings are read where used and nothing enforces them yet, so there is nothing to redo.
  return DMSC_OK;
}

int dmsc_service_mesh_set_circuit_breaker_failure_rate(DMSCServiceMesh* mesh, double rate) {
  if (mesh == nullptr || !(rate >= 0.0 && rate <= 1.0))
    return DMSC_ERR_INVALID;
  std::lock_guard<std::mutex> lock(mesh->mu);
  mesh->settings.failure_rate = rate;
  return DMSC_OK;
}

double dmsc_service_mesh_get_circuit_breaker_failure_rate(const DMSCServiceMesh* mesh) {
  if (mesh == nullptr)
    return 0.0;
  std::lock_guard<std::mutex> lock(mesh->mu);
  return mesh->settings.failure_rate;
}

uint64_t dmsc_service_mesh_get_total_requests(const DMSCServiceMesh* mesh) {
  return mesh != nullptr ? mesh->total.load() : 0;
}

uint64_t dmsc_service_mesh_get_failed_requests(const DMSCServiceMesh* mesh) {
  return mesh != nullptr ? mesh->failed.load() : 0;
}

const char* dmsc_service_mesh_last_error(const DMSCServiceMesh* mesh) {
  return mesh != nullptr ? mesh->last_error.c_str() : nullptr;
}

}  // extern "C"
