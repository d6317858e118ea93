// SPDX-License-Identifier: Apache-2.0
// The persistence interface behind the registry: an embedded SQLite file or etcd v3.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/registry/model.h"

namespace weft::registry {

// A service by its key; also names the service an endpoint belongs to.
struct ServiceRef {
  std::string ns;
  std::string name;
  auto operator<=>(const ServiceRef&) const = default;
};

// What a watch reports: the services whose row or endpoints changed, or `everything` when
// the store cannot say (a reconnect, a gap in the change log).
struct ChangeSet {
  bool everything = false;
  std::vector<ServiceRef> services;
};

// Everything stored, at one store revision.
struct Snapshot {
  std::vector<Service> services;
  std::vector<Endpoint> endpoints;
  uint64_t revision = 0;
};

// A store persists services (with their VIPs) and endpoints. Every mutating call is durable
// when it returns success (SQLite: committed with synchronous=FULL; etcd: acknowledged by the
// cluster). Calls are thread-safe. Validation is the Registry's job; the store enforces only
// uniqueness: a service key (ns/name), a VIP, an endpoint (ns/service/host:port).
class Store {
 public:
  virtual ~Store() = default;

  // Creates the service or replaces the stored one with the same ns/name. The VIP must be
  // set (the Registry allocates it). Fails with an EEXIST-coded error when `create_only` and
  // the service exists, or when another service holds the VIP. Returns it with its revision.
  virtual Result<Service> putService(const Service& service, bool create_only) = 0;
  // Deletes the service and all its endpoints; ENOENT-coded error when unknown.
  virtual Status deleteService(const std::string& ns, const std::string& name) = 0;

  // Fails with ENOENT-coded error when the service does not exist, EEXIST when
  // `create_only` and the endpoint exists.
  virtual Result<Endpoint> putEndpoint(const Endpoint& endpoint, bool create_only) = 0;
  virtual Status deleteEndpoint(const std::string& ns, const std::string& service,
                                const std::string& endpoint_id) = 0;

  virtual Result<Snapshot> snapshot() = 0;

  // Keyed reads for the registry's per-request checks. The defaults scan snapshot(); a store
  // overrides them when it can look keys up directly. ENOENT-coded error when absent.
  virtual Result<Service> getService(const std::string& ns, const std::string& name);
  virtual Result<Endpoint> getEndpoint(const std::string& ns, const std::string& service,
                                       const std::string& endpoint_id);
  // Every service without their endpoints, sorted by ns and name.
  virtual Result<std::vector<Service>> listServices();
  // The endpoints of one service (empty when it has none or does not exist).
  virtual Result<std::vector<Endpoint>> listEndpoints(const std::string& ns,
                                                      const std::string& service);
  // Every VIP held by a service, for allocation.
  virtual Result<std::vector<IpAddr>> usedVips();

  // Writes many services (VIPs set) and then endpoints, replacing rows with the same keys.
  // The default writes them one by one; a store that can do it in one transaction (one
  // fsync) overrides it. No validation: callers pass Registry-checked values.
  virtual Status putAll(const std::vector<Service>& services,
                        const std::vector<Endpoint>& endpoints);

  // Calls `on_change` after any change by anyone (for etcd: by any host), naming the
  // services touched. Coalescing is allowed: one call may stand for several changes, and a
  // service may be named again although nothing changed since. The caller re-reads the named
  // services (or snapshot() for `everything`). Calls come from a store-owned thread, or from
  // the writing thread right after a commit of this store's own. Stops when the store is
  // destroyed.
  using ChangeCallback = std::function<void(const ChangeSet&)>;
  virtual Status watch(ChangeCallback on_change) = 0;
};

}  // namespace weft::registry
