// SPDX-License-Identifier: Apache-2.0
// The mesh's calls over weftd's local API.
#include <memory>
#include <string>

#include "userspace/api_client/api_client.h"
#include "userspace/capi/backend.h"

namespace weft::capi {
namespace {

api::ClientOptions optionsFor(const std::string& socket_path) {
  api::ClientOptions options;
  options.socket_path = socket_path;
  return options;
}

class RemoteBackend final : public MeshBackend {
 public:
  explicit RemoteBackend(const std::string& socket_path) : client_(optionsFor(socket_path)) {}

  Status checkStatus() {
    auto status = client_.status();
    if (!status.ok())
      return status.error();
    return {};
  }

  bool remote() const override { return true; }

  Status registerEndpoint(const registry::Endpoint& endpoint, weft_lb_algo algorithm) override {
    auto registered = client_.registerEndpoint(endpoint, /*create_service=*/true, algorithm);
    if (!registered.ok())
      return registered.error();
    return {};
  }

  Status deregisterEndpoint(const registry::Endpoint& endpoint) override {
    return client_.deregisterEndpoint(endpoint.ns, endpoint.service, endpoint.id());
  }

  Result<registry::Endpoint> discover(const std::string& ns, const std::string& name) override {
    return client_.discover(ns, name);
  }

  Result<uint32_t> healthyCount(const std::string& ns, const std::string& name) override {
    auto endpoints = client_.listEndpoints(ns, name);
    if (!endpoints.ok())
      return endpoints.error();
    uint32_t healthy = 0;
    for (const auto& e : *endpoints)
      healthy += e.healthy ? 1 : 0;
    return healthy;
  }

 private:
  api::ApiClient client_;
};

}  // namespace

Result<std::unique_ptr<MeshBackend>> connectRemote(const std::string& socket_path) {
  auto backend = std::make_unique<RemoteBackend>(socket_path);
  Status status = backend->checkStatus();
  if (!status.ok())
    return status.error();
  return std::unique_ptr<MeshBackend>(std::move(backend));
}

}  // namespace weft::capi
