// SPDX-License-Identifier: Apache-2.0
// The mesh's calls on a registry opened in this process, for hosts without a running weftd.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "userspace/capi/backend.h"
#include "userspace/registry/registry.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::capi {
namespace {

// Same range as weftd's usual configuration; the in-process mode has no config file.
constexpr const char* kLocalVipRange = "10.96.0.0/16";

int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// No checker runs in this process: an endpoint with a check has never passed it.
class UncheckedHealth final : public registry::HealthView {
 public:
  bool healthy(const registry::Endpoint& endpoint) const override {
    return endpoint.health.kind == registry::HealthCheckKind::kNone;
  }
};

class LocalBackend final : public MeshBackend {
 public:
  LocalBackend(std::unique_ptr<registry::SqliteStore> store, Cidr range)
      : store_(std::move(store)), registry_(*store_, {range}, wallClockMs) {}

  bool remote() const override { return false; }

  Status registerEndpoint(const registry::Endpoint& endpoint, weft_lb_algo algorithm) override {
    auto registered = registry_.registerEndpoint(endpoint, /*create_service=*/true, algorithm);
    if (!registered.ok())
      return registered.error();
    return {};
  }

  Status deregisterEndpoint(const registry::Endpoint& endpoint) override {
    return registry_.deregisterEndpoint(endpoint.ns, endpoint.service, endpoint.id());
  }

  Result<registry::Endpoint> discover(const std::string& ns, const std::string& name) override {
    auto usable = registry_.usableEndpoints(ns, name, health_);
    if (!usable.ok())
      return usable.error();
    if (usable->empty()) {
      return makeError("service " + ns + "/" + name + ": no healthy endpoint", EAGAIN);
    }
    // Round robin over the usable set; the mesh's mutex serialises next_.
    return (*usable)[next_++ % usable->size()];
  }

  Result<uint32_t> healthyCount(const std::string& ns, const std::string& name) override {
    auto usable = registry_.usableEndpoints(ns, name, health_);
    if (!usable.ok())
      return usable.error();
    return static_cast<uint32_t>(usable->size());
  }

 private:
  std::unique_ptr<registry::SqliteStore> store_;
  registry::Registry registry_;
  UncheckedHealth health_;
  uint64_t next_ = 0;
};

}  // namespace

Result<std::unique_ptr<MeshBackend>> openLocal(const std::string& registry_path) {
  auto store = registry::SqliteStore::open(registry_path);
  if (!store.ok())
    return store.error();
  auto range = Cidr::parse(kLocalVipRange);
  if (!range.ok())
    return range.error();
  return std::unique_ptr<MeshBackend>(std::make_unique<LocalBackend>(std::move(*store), *range));
}

}  // namespace weft::capi
