// SPDX-License-Identifier: Apache-2.0
// dmsc_service_mesh_config_*: settings stored in a plain struct, defaults from the environment.
#include <cstdlib>
#include <new>
#include <string>

#include "userspace/capi/handles.h"

using weft::capi::guarded;

namespace {

std::string envOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

template <typename Fn>
int setField(DMSCServiceMeshConfig* config, Fn&& fn) noexcept {
  if (config == nullptr)
    return DMSC_ERR_INVALID;
  return guarded(DMSC_ERR_NO_MEMORY, [&] { return fn(config->settings); });
}

}  // namespace

extern "C" {

DMSCServiceMeshConfig* dmsc_service_mesh_config_new(void) {
  return guarded<DMSCServiceMeshConfig*>(nullptr, [] {
    auto* config = new DMSCServiceMeshConfig;
    config->settings.api_socket = envOr("WEFT_API_SOCKET", "/run/weft/weftd.sock");
    config->settings.registry_path = envOr("WEFT_REGISTRY_PATH", "/var/lib/weft/registry.db");
    return config;
  });
}

void dmsc_service_mesh_config_free(DMSCServiceMeshConfig* config) {
  delete config;
}

int dmsc_service_mesh_config_set_enable_mtls(DMSCServiceMeshConfig* config, bool enable) {
  return setField(config, [&](auto& s) { return s.mtls = enable, DMSC_OK; });
}

int dmsc_service_mesh_config_set_enable_circuit_breaker(DMSCServiceMeshConfig* config,
                                                        bool enable) {
  return setField(config, [&](auto& s) { return s.circuit_breaker = enable, DMSC_OK; });
}

int dmsc_service_mesh_config_set_enable_tracing(DMSCServiceMeshConfig* config, bool enable) {
  return setField(config, [&](auto& s) { return s.tracing = enable, DMSC_OK; });
}

int dmsc_service_mesh_config_set_enable_metrics(DMSCServiceMeshConfig* config, bool enable) {
  return setField(config, [&](auto& s) { return s.metrics = enable, DMSC_OK; });
}

int dmsc_service_mesh_config_set_circuit_breaker_failure_rate(DMSCServiceMeshConfig* config,
                                                              double rate) {
  // Written so that NaN fails too.
  if (!(rate >= 0.0 && rate <= 1.0))
    return DMSC_ERR_INVALID;
  return setField(config, [&](auto& s) { return s.failure_rate = rate, DMSC_OK; });
}

int dmsc_service_mesh_config_set_circuit_breaker_timeout_ms(DMSCServiceMeshConfig* config,
                                                            uint64_t timeout_ms) {
  return setField(config, [&](auto& s) { return s.breaker_timeout_ms = timeout_ms, DMSC_OK; });
}

int dmsc_service_mesh_config_set_load_balancing_algorithm(DMSCServiceMeshConfig* config,
                                                          int algorithm) {
  if (algorithm < LB_ROUND_ROBIN || algorithm > LB_CONSISTENT_HASH)
    return DMSC_ERR_INVALID;
  return setField(config, [&](auto& s) { return s.algorithm = algorithm, DMSC_OK; });
}

int dmsc_service_mesh_config_set_api_socket(DMSCServiceMeshConfig* config, const char* path) {
  if (path == nullptr || *path == '\0')
    return DMSC_ERR_INVALID;
  return setField(config, [&](auto& s) { return s.api_socket = path, DMSC_OK; });
}

int dmsc_service_mesh_config_set_registry_path(DMSCServiceMeshConfig* config, const char* path) {
  if (path == nullptr || *path == '\0')
    return DMSC_ERR_INVALID;
  return setField(config, [&](auto& s) { return s.registry_path = path, DMSC_OK; });
}

bool dmsc_service_mesh_config_get_enable_mtls(const DMSCServiceMeshConfig* config) {
  return config != nullptr && config->settings.mtls;
}

bool dmsc_service_mesh_config_get_enable_circuit_breaker(const DMSCServiceMeshConfig* config) {
  return config != nullptr && config->settings.circuit_breaker;
}

bool dmsc_service_mesh_config_get_enable_tracing(const DMSCServiceMeshConfig* config) {
  return config != nullptr && config->settings.tracing;
}

bool dmsc_service_mesh_config_get_enable_metrics(const DMSCServiceMeshConfig* config) {
  return config != nullptr && config->settings.metrics;
}

double dmsc_service_mesh_config_get_circuit_breaker_failure_rate(
    const DMSCServiceMeshConfig* config) {
  return config != nullptr ? config->settings.failure_rate : 0.0;
}

uint64_t dmsc_service_mesh_config_get_circuit_breaker_timeout_ms(
    const DMSCServiceMeshConfig* config) {
  return config != nullptr ? config->settings.breaker_timeout_ms : 0;
}

int dmsc_service_mesh_config_get_load_balancing_algorithm(const DMSCServiceMeshConfig* config) {
  return config != nullptr ? config->settings.algorithm : DMSC_ERR_INVALID;
}

}  // extern "C"
