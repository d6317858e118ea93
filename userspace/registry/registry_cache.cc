// SPDX-License-Identifier: Apache-2.0
// RegistryCache: full loads and per-service refreshes.
#include "userspace/registry/registry_cache.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

namespace weft::registry {
namespace {

// What the health checker probes: checked endpoints by identity and check.
bool sameChecks(const std::vector<Endpoint>& a, const std::vector<Endpoint>& b) {
  auto checked = [](const std::vector<Endpoint>& endpoints) {
    std::vector<std::tuple<std::string, std::string, std::string, HealthCheck>> out;
    for (const Endpoint& ep : endpoints) {
      if (ep.health.kind != HealthCheckKind::kNone) {
        out.emplace_back(ep.ns, ep.service, ep.id(), ep.health);
      }
    }
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
      return std::tie(std::get<0>(x), std::get<1>(x), std::get<2>(x)) <
             std::tie(std::get<0>(y), std::get<1>(y), std::get<2>(y));
    });
    return out;
  };
  return checked(a) == checked(b);
}

}  // namespace

Result<RegistryCache::Delta> RegistryCache::load(Registry& registry) {
  auto snapshot = registry.snapshot();
  if (!snapshot) {
    return snapshot.error();
  }
  std::map<ServiceRef, Entry> fresh;
  for (Service& service : snapshot->services) {
    ServiceRef ref{service.ns, service.name};
    fresh[ref].service = std::move(service);
  }
  // Sized exactly first: grown one push at a time, the vectors of 100,000 endpoints would
  // hold about half again as much memory as they use.
  std::map<ServiceRef, size_t> sizes;
  for (const Endpoint& endpoint : snapshot->endpoints) {
    ++sizes[{endpoint.ns, endpoint.service}];
  }
  for (auto& [ref, entry] : fresh) {
    entry.endpoints.reserve(sizes[ref]);
  }
  size_t count = 0;
  for (Endpoint& endpoint : snapshot->endpoints) {
    auto it = fresh.find({endpoint.ns, endpoint.service});
    // A store lists an endpoint only with its service; one read mid-delete is dropped.
    if (it != fresh.end()) {
      it->second.endpoints.push_back(std::move(endpoint));
      ++count;
    }
  }
  entries_ = std::move(fresh);
  endpoint_count_ = count;
  return Delta{true, true, true};
}

Result<RegistryCache::Delta> RegistryCache::refresh(Registry& registry,
                                                    const std::vector<ServiceRef>& refs) {
  Delta delta;
  for (const ServiceRef& ref : refs) {
    auto service = registry.getService(ref.ns, ref.name);
    if (!service) {
      if (service.error().code != kNotFound) {
        return service.error();
      }
      erase(ref, &delta);
      continue;
    }
    auto endpoints = registry.listEndpoints(ref.ns, ref.name);
    if (!endpoints) {
      return endpoints.error();
    }
    put(ref, Entry{std::move(*service), std::move(*endpoints)}, &delta);
  }
  return delta;
}

const RegistryCache::Entry* RegistryCache::find(const ServiceRef& ref) const {
  auto it = entries_.find(ref);
  return it == entries_.end() ? nullptr : &it->second;
}

void RegistryCache::put(const ServiceRef& ref, Entry entry, Delta* delta) {
  auto [it, inserted] = entries_.try_emplace(ref);
  Entry& current = it->second;
  if (inserted || current.service != entry.service) {
    delta->services_changed = true;
  }
  if (current.endpoints != entry.endpoints) {
    delta->endpoints_changed = true;
    delta->checks_changed =
        delta->checks_changed || !sameChecks(current.endpoints, entry.endpoints);
  }
  endpoint_count_ = endpoint_count_ - current.endpoints.size() + entry.endpoints.size();
  current = std::move(entry);
}

void RegistryCache::erase(const ServiceRef& ref, Delta* delta) {
  auto it = entries_.find(ref);
  if (it == entries_.end()) {
    return;
  }
  delta->services_changed = true;
  delta->endpoints_changed = delta->endpoints_changed || !it->second.endpoints.empty();
  delta->checks_changed = delta->checks_changed || !sameChecks(it->second.endpoints, {});
  endpoint_count_ -= it->second.endpoints.size();
  entries_.erase(it);
}

}  // namespace weft::registry
