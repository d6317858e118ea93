// SPDX-License-Identifier: Apache-2.0
// Registry operations: validate, check against what is stored, then write. The store's
// uniqueness on (ns, name), VIP and endpoint id settles races with other hosts; the mutex
// only orders this process's own read-modify-write sequences.
#include "userspace/registry/registry.h"

#include <set>
#include <utility>

#include <fmt/format.h>

#include "userspace/common/log.h"
#include "userspace/registry/endpoint_usable.h"
#include "userspace/registry/model_validate.h"
#include "userspace/registry/vip_allocator.h"

namespace weft::registry {
namespace {

// Each retry re-reads the used VIPs; a loser of a race finds the winner's pick taken and
// moves on, so only a burst of more concurrent allocations than this exhausts it.
constexpr int kMaxVipAttempts = 16;

std::string serviceKey(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

std::string portNames(const Service& service) {
  std::string out;
  for (const ServicePort& port : service.ports) {
    out += (out.empty() ? "" : ", ") + (port.name.empty() ? "\"\"" : port.name);
  }
  return out;
}

bool servesPort(const Service& service, const std::string& port_name) {
  if (port_name.empty()) {
    return true;
  }
  for (const ServicePort& port : service.ports) {
    if (port.name == port_name) {
      return true;
    }
  }
  return false;
}

template <typename T>
bool declaredByConfig(const T& item) {
  auto it = item.labels.find(kSourceLabel);
  return it != item.labels.end() && it->second == kSourceConfig;
}

// The first field the patch changes that the config file owns for services it declares, or
// "" when it changes none (setting a field to its current value is no change).
std::string fileOwnedChange(const Service& service, const ServicePatch& patch) {
  if (patch.algorithm && *patch.algorithm != service.algorithm) {
    return "algorithm";
  }
  if (patch.maglev_table_size && *patch.maglev_table_size != service.maglev_table_size) {
    return "maglev_table_size";
  }
  if (patch.hash_key && *patch.hash_key != service.hash_key) {
    return "hash_key";
  }
  if (patch.affinity_timeout_seconds &&
      *patch.affinity_timeout_seconds != service.affinity_timeout_seconds) {
    return "affinity_timeout_seconds";
  }
  return "";
}

}  // namespace

Registry::Registry(Store& store, std::vector<Cidr> vip_ranges, std::function<int64_t()> now_ms)
    : store_(store), vip_ranges_(std::move(vip_ranges)), now_ms_(std::move(now_ms)) {}

Result<Service> Registry::registerService(Service service) {
  std::lock_guard lock(mutex_);
  return registerServiceLocked(std::move(service), 0);
}

Result<Service> Registry::registerServiceLocked(Service service, uint8_t preferred_family) {
  if (auto st = validateService(service); !st) {
    return st.error();
  }
  service.revision = 0;

  if (!service.vip) {
    return storeWithAllocatedVip(std::move(service), preferred_family);
  }
  if (auto st = checkVipInRanges(vip_ranges_, *service.vip); !st) {
    return st.error();
  }
  // The store names the holder when the VIP is taken and says so when the service exists.
  return store_.putService(service, true);
}

Result<Service> Registry::storeWithAllocatedVip(Service service, uint8_t preferred_family) {
  std::set<IpAddr> tried;
  for (int attempt = 0; attempt < kMaxVipAttempts; ++attempt) {
    auto vips = store_.usedVips();
    if (!vips) {
      return vips.error();
    }
    std::set<IpAddr> used(vips->begin(), vips->end());
    used.insert(tried.begin(), tried.end());

    auto vip = lowestFreeVip(vip_ranges_, used, preferred_family);
    if (!vip) {
      return vip.error();
    }
    service.vip = *vip;
    auto stored = store_.putService(service, true);
    if (stored || stored.error().code != kConflict) {
      return stored;
    }

    // Either the service exists (final) or another host stored our pick first (retry).
    auto existing = store_.getService(service.ns, service.name);
    if (existing || existing.error().code != kNotFound) {
      return stored;
    }
    log::debug("registry", "vip claimed by another writer; trying the next free one",
               {{"service", serviceKey(service.ns, service.name)}, {"vip", vip->toString()}});
    tried.insert(*vip);
  }
  return makeError(fmt::format("vip: no address could be claimed after {} attempts; other "
                               "registrations keep taking the free ones",
                               kMaxVipAttempts),
                   kConflict);
}

Result<Service> Registry::updateService(Service service) {
  std::lock_guard lock(mutex_);
  if (auto st = validateService(service); !st) {
    return st.error();
  }

  auto existing = store_.getService(service.ns, service.name);
  if (!existing) {
    return existing.error();
  }
  if (service.vip && service.vip != existing->vip) {
    return makeError(fmt::format("vip: {} differs from the allocated {}; a service's vip never "
                                 "changes",
                                 service.vip->toString(), existing->vip->toString()),
                     kInvalid);
  }
  service.vip = existing->vip;
  service.revision = 0;
  return store_.putService(service, false);
}

Status Registry::declare(const std::vector<Service>& services,
                         const std::vector<Endpoint>& endpoints) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < services.size(); ++i) {
    const Service& service = services[i];
    std::string path = fmt::format("services[{}]", i);
    if (auto st = validateService(service, path); !st) {
      return st;
    }
    if (!service.vip) {
      return makeError(path + ".vip: a declared service needs a vip", kInvalid);
    }
    bool in_range = false;
    for (const Cidr& range : vip_ranges_) {
      in_range = in_range || range.contains(*service.vip);
    }
    if (!in_range) {
      return makeError(
          fmt::format("{}.vip: {} is outside every vip range", path, service.vip->toString()),
          kInvalid);
    }
    if (auto existing = store_.getService(service.ns, service.name);
        existing && existing->vip != service.vip) {
      return makeError(fmt::format("{}.vip: {} differs from the allocated {}", path,
                                   service.vip->toString(), existing->vip->toString()),
                       kInvalid);
    }
  }
  for (size_t i = 0; i < endpoints.size(); ++i) {
    Endpoint endpoint = endpoints[i];
    if (auto st = validateEndpoint(endpoint, fmt::format("endpoints[{}]", i)); !st) {
      return st;
    }
  }
  std::vector<Service> kept = services;
  for (Service& service : kept) {
    if (auto existing = store_.getService(service.ns, service.name); existing && !service.split) {
      service.split = existing->split;
    }
  }
  std::vector<Endpoint> stamped = endpoints;
  for (Endpoint& endpoint : stamped) {
    endpoint.last_heartbeat_ms = now_ms_();
    if (auto existing = store_.getEndpoint(endpoint.ns, endpoint.service, endpoint.id());
        existing) {
      endpoint.drained = endpoint.drained || existing->drained;
    }
  }
  return store_.putAll(kept, stamped);
}

Result<Service> Registry::patchService(const std::string& ns, const std::string& name,
                                       const ServicePatch& patch) {
  std::lock_guard lock(mutex_);
  auto service = store_.getService(ns, name);
  if (!service) {
    return service.error();
  }
  if (std::string field = fileOwnedChange(*service, patch);
      !field.empty() && declaredByConfig(*service)) {
    return makeError(fmt::format("{}: service {} is declared in weftd's config file "
                                 "(label {}={}); change its {} there",
                                 field, serviceKey(ns, name), kSourceLabel, kSourceConfig, field),
                     kConflict);
  }
  if (patch.algorithm) {
    service->algorithm = *patch.algorithm;
  }
  if (patch.maglev_table_size) {
    service->maglev_table_size = *patch.maglev_table_size;
  }
  if (patch.hash_key) {
    service->hash_key = *patch.hash_key;
  }
  if (patch.affinity_timeout_seconds) {
    service->affinity_timeout_seconds = *patch.affinity_timeout_seconds;
  }
  if (patch.set_split) {
    service->split = patch.split;
  }
  if (auto st = validateService(*service); !st) {
    return st.error();
  }
  service->revision = 0;
  return store_.putService(*service, false);
}

Status Registry::deregisterService(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mutex_);
  // The VIP is stored only with the service, so deleting it releases the address.
  return store_.deleteService(ns, name);
}

Result<Endpoint> Registry::registerEndpoint(Endpoint endpoint, bool create_service,
                                            weft_lb_algo created_algorithm) {
  std::lock_guard lock(mutex_);
  if (auto st = validateEndpoint(endpoint); !st) {
    return st.error();
  }

  auto service = store_.getService(endpoint.ns, endpoint.service);
  if (!service && service.error().code == kNotFound && create_service) {
    Service created;
    created.name = endpoint.service;
    created.ns = endpoint.ns;
    created.ports = {{endpoint.port_name, endpoint.port, WEFT_PROTO_TCP}};
    created.algorithm = created_algorithm;
    // A VIP of the endpoint's family: the data path balances only within one family.
    auto registered = registerServiceLocked(std::move(created), endpoint.host.family);
    if (!registered && registered.error().code == kConflict) {
      // Another host may have created it first; otherwise keep the allocation error.
      auto again = store_.getService(endpoint.ns, endpoint.service);
      service = again ? std::move(again) : std::move(registered);
    } else {
      service = std::move(registered);
    }
  }
  if (!service) {
    return service.error();
  }

  std::string key = serviceKey(endpoint.ns, endpoint.service);
  if (!servesPort(*service, endpoint.port_name)) {
    return makeError(fmt::format("port_name: {} is not a port of service {} ({})",
                                 quoteValue(endpoint.port_name), key, portNames(*service)),
                     kInvalid);
  }
  if (service->vip && service->vip->family != endpoint.host.family) {
    return makeError(fmt::format("host: {} is {} but service {} has the {} vip {}",
                                 endpoint.host.toString(), familyName(endpoint.host.family), key,
                                 familyName(service->vip->family), service->vip->toString()),
                     kInvalid);
  }

  endpoint.last_heartbeat_ms = now_ms_();
  endpoint.revision = 0;
  return store_.putEndpoint(endpoint, true);
}

Status Registry::deregisterEndpoint(const std::string& ns, const std::string& service,
                                    const std::string& endpoint_id) {
  auto id = canonicalEndpointId(endpoint_id);
  if (!id) {
    return id.error();
  }
  std::lock_guard lock(mutex_);
  return store_.deleteEndpoint(ns, service, *id);
}

Status Registry::heartbeat(const std::string& ns, const std::string& service,
                           const std::string& endpoint_id) {
  auto id = canonicalEndpointId(endpoint_id);
  if (!id) {
    return id.error();
  }
  std::lock_guard lock(mutex_);
  auto endpoint = store_.getEndpoint(ns, service, *id);
  if (!endpoint) {
    return endpoint.error();
  }
  // Without a TTL nothing reads the time, so a write (and the resync it causes) is wasted.
  if (endpoint->ttl_seconds == 0) {
    return {};
  }

  endpoint->last_heartbeat_ms = now_ms_();
  auto stored = store_.putEndpoint(*endpoint, false);
  if (!stored) {
    return stored.error();
  }
  return {};
}

Result<Endpoint> Registry::patchEndpoint(const std::string& ns, const std::string& service,
                                         const std::string& endpoint_id,
                                         const EndpointPatch& patch) {
  auto id = canonicalEndpointId(endpoint_id);
  if (!id) {
    return id.error();
  }
  std::lock_guard lock(mutex_);
  auto endpoint = store_.getEndpoint(ns, service, *id);
  if (!endpoint) {
    return endpoint.error();
  }
  if (patch.weight && *patch.weight != endpoint->weight && declaredByConfig(*endpoint)) {
    return makeError(fmt::format("weight: endpoint {} of {} is declared in weftd's config file "
                                 "(label {}={}); change its weight there",
                                 *id, serviceKey(ns, service), kSourceLabel, kSourceConfig),
                     kConflict);
  }
  if (patch.weight) {
    endpoint->weight = *patch.weight;
  }
  if (patch.drained) {
    endpoint->drained = *patch.drained;
  }
  if (auto st = validateEndpoint(*endpoint); !st) {
    return st.error();
  }
  endpoint->revision = 0;
  return store_.putEndpoint(*endpoint, false);
}

Result<Snapshot> Registry::snapshot() {
  return store_.snapshot();
}

Result<Service> Registry::getService(const std::string& ns, const std::string& name) {
  return store_.getService(ns, name);
}

Result<std::vector<Service>> Registry::listServices() {
  return store_.listServices();
}

Result<std::vector<Endpoint>> Registry::listEndpoints(const std::string& ns,
                                                      const std::string& name) {
  return store_.listEndpoints(ns, name);
}

Result<std::vector<Endpoint>> Registry::usableEndpoints(const std::string& ns,
                                                        const std::string& name,
                                                        const HealthView& health) {
  auto service = store_.getService(ns, name);
  if (!service) {
    return service.error();
  }
  auto endpoints = store_.listEndpoints(ns, name);
  if (!endpoints) {
    return endpoints.error();
  }

  int64_t now = now_ms_();
  std::vector<Endpoint> usable;
  for (Endpoint& ep : *endpoints) {
    if (endpointUsable(ep, health, now)) {
      usable.push_back(std::move(ep));
    }
  }
  return usable;
}

}  // namespace weft::registry
