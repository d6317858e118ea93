// SPDX-License-Identifier: Apache-2.0
// Where the mesh's registry calls go: weftd's API (RemoteBackend) or a registry opened in this
// process when no weftd answers (LocalBackend, no kernel data path, no health checks).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "userspace/common/result.h"
#include "userspace/registry/model.h"

namespace weft::capi {

class MeshBackend {
 public:
  virtual ~MeshBackend() = default;
  virtual bool remote() const = 0;
  // Registers the endpoint, creating its service (with a VIP, balanced with `algorithm`) when
  // missing; an existing service keeps its own algorithm.
  virtual Status registerEndpoint(const registry::Endpoint& endpoint, weft_lb_algo algorithm) = 0;
  virtual Status deregisterEndpoint(const registry::Endpoint& endpoint) = 0;
  virtual Result<registry::Endpoint> discover(const std::string& ns, const std::string& name) = 0;
  virtual Result<uint32_t> healthyCount(const std::string& ns, const std::string& name) = 0;
};

// Checks GET /v1/status on the socket; the error's code tells "no weftd" (ECONNREFUSED,
// ETIMEDOUT) from other trouble.
Result<std::unique_ptr<MeshBackend>> connectRemote(const std::string& socket_path);
Result<std::unique_ptr<MeshBackend>> openLocal(const std::string& registry_path);

}  // namespace weft::capi
