// SPDX-License-Identifier: Apache-2.0
// Diffs the config's services against the declared part of the registry and applies it.
#include "userspace/agent/config_seed.h"

#include <map>
#include <set>
#include <string>
#include <tuple>

namespace weft {
namespace {

constexpr const char* kDefaultNs = "default";

bool declared(const registry::Labels& labels) {
  auto it = labels.find(kSourceLabel);
  return it != labels.end() && it->second == kSourceConfig;
}

registry::Service toService(const ServiceConfig& config) {
  registry::Service service;
  service.name = config.name;
  service.ns = kDefaultNs;
  service.ports = {{"", config.port, config.protocol}};
  service.labels = {{kSourceLabel, kSourceConfig}};
  service.algorithm = config.algorithm;
  service.maglev_table_size = config.maglev_table_size;
  service.hash_key = config.hash_key;
  service.affinity_timeout_seconds = config.affinity_timeout_s;
  service.vip = config.vip;
  return service;
}

registry::Endpoint toEndpoint(const ServiceConfig& config, const BackendConfig& backend) {
  registry::Endpoint endpoint;
  endpoint.service = config.name;
  endpoint.ns = kDefaultNs;
  endpoint.host = backend.address;
  endpoint.port = backend.port;
  endpoint.weight = backend.weight;
  endpoint.labels = {{kSourceLabel, kSourceConfig}};
  return endpoint;
}

// The VIP, port and protocol are a service's identity in the data path; the registry keeps
// a VIP for the life of a service, so a change there means delete and create.
bool sameIdentity(const registry::Service& stored, const registry::Service& wanted) {
  return stored.vip == wanted.vip && stored.ports == wanted.ports;
}

// Endpoints of `config` that the registry lacks go to `add`; declared ones the config no
// longer names are deregistered.
Status syncEndpoints(registry::Registry& registry, const ServiceConfig& config,
                     std::vector<registry::Endpoint>* add) {
  auto stored = registry.listEndpoints(kDefaultNs, config.name);
  if (!stored) {
    return stored.error();
  }
  std::set<std::string> wanted;
  for (const BackendConfig& backend : config.backends) {
    wanted.insert(toEndpoint(config, backend).id());
  }

  // Present means stored with the weight the config gives; a new weight is written again.
  std::map<std::string, uint32_t> weights;
  for (const BackendConfig& backend : config.backends) {
    weights[toEndpoint(config, backend).id()] = backend.weight;
  }
  std::set<std::string> present;
  for (const registry::Endpoint& endpoint : *stored) {
    auto weight = weights.find(endpoint.id());
    if (weight == weights.end() || weight->second == endpoint.weight) {
      present.insert(endpoint.id());
    }
    if (declared(endpoint.labels) && !wanted.count(endpoint.id())) {
      if (auto st = registry.deregisterEndpoint(kDefaultNs, config.name, endpoint.id()); !st) {
        return st;
      }
    }
  }
  for (const BackendConfig& backend : config.backends) {
    registry::Endpoint endpoint = toEndpoint(config, backend);
    if (!present.count(endpoint.id())) {
      add->push_back(std::move(endpoint));
    }
  }
  return {};
}

}  // namespace

Status declareConfigServices(registry::Registry& registry,
                             const std::vector<ServiceConfig>& services) {
  auto services_stored = registry.listServices();
  if (!services_stored) {
    return services_stored.error();
  }
  std::map<std::string, const registry::Service*> stored;
  for (const registry::Service& service : *services_stored) {
    if (service.ns == kDefaultNs) {
      stored[service.name] = &service;
    }
  }

  std::set<std::string> wanted;
  for (const ServiceConfig& config : services) {
    wanted.insert(config.name);
  }
  for (const auto& [name, service] : stored) {
    if (declared(service->labels) && !wanted.count(name)) {
      if (auto st = registry.deregisterService(kDefaultNs, name); !st) {
        return st;
      }
    }
  }

  std::vector<registry::Service> write;
  for (const ServiceConfig& config : services) {
    registry::Service service = toService(config);
    auto it = stored.find(config.name);
    if (it != stored.end() && !sameIdentity(*it->second, service)) {
      if (auto st = registry.deregisterService(kDefaultNs, config.name); !st) {
        return st;
      }
      it = stored.end();
    }
    auto balancing = [](const registry::Service& s) {
      return std::tie(s.algorithm, s.maglev_table_size, s.hash_key, s.affinity_timeout_seconds,
                      s.labels);
    };
    if (it != stored.end() && balancing(*it->second) == balancing(service)) {
      continue;  // unchanged: writing would only wake every watcher
    }
    write.push_back(std::move(service));
  }

  // Read after the deletes above: replaced services lost their endpoints with them.
  std::vector<registry::Endpoint> add;
  for (const ServiceConfig& config : services) {
    if (auto st = syncEndpoints(registry, config, &add); !st) {
      return st;
    }
  }
  // One batch: with thousands of declared services a commit per row would cost minutes.
  if (write.empty() && add.empty()) {
    return {};
  }
  return registry.declare(write, add);
}

}  // namespace weft
