// SPDX-License-Identifier: Apache-2.0
// toServiceConfigs: the registry as the controller sees it, one balanced service per port.
#include <algorithm>
#include <iterator>
#include <map>
#include <tuple>
#include <utility>

#include "userspace/registry/endpoint_usable.h"
#include "userspace/registry/registry.h"

namespace weft::registry {
namespace {

// The controller keeps names in a fixed-size map value; longer ones would be rejected.
constexpr size_t kMaxNameBytes = WEFT_SVC_NAME_LEN - 1;

// Overlong names lose the end of "<name>.<ns>", never the port suffix, so the ports of one
// service keep distinct names.
std::string configName(const Service& service, const ServicePort& port) {
  std::string base = service.name + "." + service.ns;
  std::string suffix = service.ports.size() > 1 ? ":" + port.name : "";
  return base.substr(0, kMaxNameBytes - suffix.size()) + suffix;
}

}  // namespace

std::vector<ServiceConfig> toServiceConfigs(const Service& service,
                                            const std::vector<Endpoint>& endpoints,
                                            const HealthView& health, int64_t now_ms) {
  std::vector<ServiceConfig> out;
  if (!service.vip) {
    return out;
  }
  for (size_t i = 0; i < service.ports.size(); ++i) {
    const ServicePort& port = service.ports[i];
    ServiceConfig config{
        configName(service, port), *service.vip, port.port, port.protocol, service.algorithm, {}};

    for (const Endpoint& ep : endpoints) {
      // "" serves the first port; an endpoint of the other family cannot be balanced to.
      bool serves = ep.port_name == port.name || (ep.port_name.empty() && i == 0);
      bool mine = ep.ns == service.ns && ep.service == service.name;
      if (mine && serves && ep.host.family == service.vip->family &&
          endpointUsable(ep, health, now_ms)) {
        config.backends.push_back({ep.host, ep.port, ep.weight});
      }
    }
    // Sorted so that an unchanged set compares equal and the controller writes nothing.
    std::sort(config.backends.begin(), config.backends.end(),
              [](const BackendConfig& a, const BackendConfig& b) {
                return std::tie(a.address, a.port) < std::tie(b.address, b.port);
              });
    auto same_address = [](const BackendConfig& a, const BackendConfig& b) {
      return a.address == b.address && a.port == b.port;
    };
    config.backends.erase(std::unique(config.backends.begin(), config.backends.end(), same_address),
                          config.backends.end());
    if (config.backends.size() > WEFT_MAX_SLOTS_PER_SVC) {
      // TODO(weft): report services cut to the slot limit instead of truncating quietly.
      config.backends.resize(WEFT_MAX_SLOTS_PER_SVC);
    }
    out.push_back(std::move(config));
  }
  return out;
}

std::vector<ServiceConfig> toServiceConfigs(const Snapshot& snapshot, const HealthView& health,
                                            int64_t now_ms) {
  std::map<std::pair<std::string, std::string>, std::vector<Endpoint>> by_service;
  for (const Endpoint& ep : snapshot.endpoints) {
    by_service[{ep.ns, ep.service}].push_back(ep);
  }

  std::vector<const Service*> services;
  for (const Service& svc : snapshot.services) {
    services.push_back(&svc);
  }
  std::sort(services.begin(), services.end(), [](const Service* a, const Service* b) {
    return std::tie(a->ns, a->name) < std::tie(b->ns, b->name);
  });

  std::vector<ServiceConfig> out;
  for (const Service* svc : services) {
    auto configs = toServiceConfigs(*svc, by_service[{svc->ns, svc->name}], health, now_ms);
    std::move(configs.begin(), configs.end(), std::back_inserter(out));
  }
  return out;
}

}  // namespace weft::registry
