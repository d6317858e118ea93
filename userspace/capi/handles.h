// SPDX-License-Identifier: Apache-2.0
// The C API's opaque handles as C++ structs, and the guard that keeps exceptions and NULL
// handles from crossing the C boundary.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "userspace/common/result.h"
#include "weft/service_mesh.h"

namespace weft::capi {

class MeshBackend;

struct MeshSettings {
  bool mtls = false;
  bool circuit_breaker = false;
  bool tracing = false;
  bool metrics = false;
  double failure_rate = 0.5;
  uint64_t breaker_timeout_ms = 30000;
  int algorithm = LB_ROUND_ROBIN;
  std::string api_socket;
  std::string registry_path;
};

// Status code of a failed weft call: the negated errno it carries, EIO when it has none.
inline int statusOf(const Error& error) {
  return error.code > 0 ? -error.code : DMSC_ERR_IO;
}

// Runs `fn`, turning any exception into `fallback` so none crosses the C ABI.
template <typename T, typename Fn>
T guarded(T fallback, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (...) {
    return fallback;
  }
}

}  // namespace weft::capi

struct DMSCServiceMeshConfig {
  weft::capi::MeshSettings settings;
};

struct DMSCServiceEndpoint {
  std::string name;
  std::string ns = "default";
  std::string host;
  uint16_t port = 0;
  std::string version;
  std::string health_check_url;
  uint32_t weight = 100;
  std::string zone;
};

struct DMSCServiceMesh {
  mutable std::mutex mu;
  weft::capi::MeshSettings settings;
  std::unique_ptr<weft::capi::MeshBackend> backend;  // null until started
  std::atomic<uint64_t> total{0};
  std::atomic<uint64_t> failed{0};
  std::string last_error;
};
