// SPDX-License-Identifier: Apache-2.0
// The agent's copy of the registry, kept current by re-reading only the services a store
// watch names, so one change costs a few keyed reads rather than a full snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/registry/model.h"
#include "userspace/registry/registry.h"
#include "userspace/registry/store.h"

namespace weft::registry {

// Not thread-safe: owned by the agent's sync, on one thread.
class RegistryCache {
 public:
  struct Entry {
    Service service;
    std::vector<Endpoint> endpoints;
  };

  // What a load or refresh changed, so listeners can skip work that does not depend on it.
  struct Delta {
    bool services_changed = false;   // a service row was added, removed or edited
    bool endpoints_changed = false;  // an endpoint was added, removed or edited
    // An endpoint with a health check was added, removed, or had its check or address
    // changed; heartbeats and weights alone leave the health checker's targets as they are.
    bool checks_changed = false;
  };

  // Replaces the whole content with one snapshot.
  Result<Delta> load(Registry& registry);
  // Re-reads each named service and its endpoints; a service that no longer exists is
  // dropped. On error the entries already re-read stay updated, the rest keep their content.
  Result<Delta> refresh(Registry& registry, const std::vector<ServiceRef>& refs);

  const std::map<ServiceRef, Entry>& entries() const { return entries_; }
  const Entry* find(const ServiceRef& ref) const;
  size_t endpointCount() const { return endpoint_count_; }

 private:
  void put(const ServiceRef& ref, Entry entry, Delta* delta);
  void erase(const ServiceRef& ref, Delta* delta);

  std::map<ServiceRef, Entry> entries_;
  size_t endpoint_count_ = 0;
};

}  // namespace weft::registry
