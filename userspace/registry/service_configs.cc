// SPDX-License-Identifier: Apache-2.0
// toServiceConfigs: the registry as the controller sees it, one balanced service per port;
// a traffic split becomes backend weights for the weighted algorithm.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <numeric>
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

// Split weights stay within the range config backends use, so the controller needs no
// special case; weightedSlots bounds the slot count on its own.
constexpr uint64_t kMaxSplitWeight = 65535;

// Each subset's percent shared among its usable members in proportion to their weights.
// Exact when it fits: percent * weight * (L / subset total) with L the lcm of the subset
// totals, reduced by the gcd (95/5 over 3 + 2 endpoints of weight 100 gives 38,38,38,3,3).
// Otherwise scaled so the largest is kMaxSplitWeight (relative error below 1/65535 of it).
// Subsets without a usable member get nothing and the others keep their proportions; a
// subset at 0 percent never gets traffic. Endpoints in no subset get nothing.
std::vector<BackendConfig> splitBackends(const TrafficSplit& split,
                                         const std::vector<const Endpoint*>& usable) {
  struct Member {
    const Endpoint* endpoint;
    uint32_t percent;
    uint64_t subset_total;
  };
  std::vector<Member> members;
  std::map<std::string, uint64_t> totals;
  for (const SplitSubset& subset : split.subsets) {
    if (subset.percent == 0) {
      continue;
    }
    for (const Endpoint* ep : usable) {
      if (splitLabelValue(*ep, split.key) == subset.value) {
        totals[subset.value] += ep->weight;
      }
    }
  }
  for (const SplitSubset& subset : split.subsets) {
    auto total = totals.find(subset.value);
    if (total == totals.end() || total->second == 0) {
      continue;
    }
    for (const Endpoint* ep : usable) {
      if (splitLabelValue(*ep, split.key) == subset.value) {
        members.push_back({ep, subset.percent, total->second});
      }
    }
  }
  if (members.empty()) {
    return {};
  }

  // Totals are at most 16 subsets x 1024 endpoints x 65535; past 2^40 exactness is moot.
  constexpr uint64_t kExactLimit = uint64_t{1} << 40;
  uint64_t lcm = 1;
  bool fits = true;
  for (const auto& [value, total] : totals) {
    if (total == 0) {
      continue;
    }
    uint64_t step = lcm / std::gcd(lcm, total);
    fits = fits && step <= kExactLimit / total;
    lcm = fits ? step * total : lcm;
  }
  // percent <= 100, weight <= 65535, lcm / total <= 2^40: the product stays below 2^63.
  std::vector<uint64_t> exact;
  uint64_t divisor = 0;
  for (const Member& m : members) {
    uint64_t w = fits ? m.percent * uint64_t{m.endpoint->weight} * (lcm / m.subset_total) : 0;
    exact.push_back(w);
    divisor = std::gcd(divisor, w);
  }
  uint64_t largest = 0;
  for (uint64_t& w : exact) {
    w = divisor == 0 ? 0 : w / divisor;
    largest = std::max(largest, w);
  }

  std::vector<BackendConfig> out;
  if (fits && largest <= kMaxSplitWeight) {
    for (size_t i = 0; i < members.size(); ++i) {
      const Endpoint& ep = *members[i].endpoint;
      out.push_back({ep.host, ep.port, static_cast<uint32_t>(exact[i])});
    }
    return out;
  }
  double top = 0;
  for (const Member& m : members) {
    top = std::max(top, double(m.percent) * m.endpoint->weight / double(m.subset_total));
  }
  for (const Member& m : members) {
    double share = double(m.percent) * m.endpoint->weight / double(m.subset_total);
    auto w = static_cast<uint32_t>(std::llround(share / top * kMaxSplitWeight));
    out.push_back({m.endpoint->host, m.endpoint->port, std::max<uint32_t>(w, 1)});
  }
  return out;
}

// Sorted so that an unchanged set compares equal and the controller writes nothing; one
// entry per address (an active one wins over a draining one). Only active backends take
// slots, so only they are cut to the slot limit.
std::vector<BackendConfig> sortedBackends(std::vector<BackendConfig> backends) {
  std::sort(backends.begin(), backends.end(), [](const BackendConfig& a, const BackendConfig& b) {
    return std::tie(a.address, a.port, a.draining) < std::tie(b.address, b.port, b.draining);
  });
  auto same_address = [](const BackendConfig& a, const BackendConfig& b) {
    return a.address == b.address && a.port == b.port;
  };
  backends.erase(std::unique(backends.begin(), backends.end(), same_address), backends.end());

  size_t active = 0;
  auto over_limit = [&](const BackendConfig& be) {
    // TODO(weft): report services cut to the slot limit instead of truncating quietly.
    return !be.draining && ++active > WEFT_MAX_SLOTS_PER_SVC;
  };
  backends.erase(std::remove_if(backends.begin(), backends.end(), over_limit), backends.end());
  return backends;
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
    ServiceConfig config;
    config.name = configName(service, port);
    config.vip = *service.vip;
    config.port = port.port;
    config.protocol = port.protocol;
    config.algorithm = service.algorithm;
    config.maglev_table_size = service.maglev_table_size;
    config.hash_key = service.hash_key;
    config.affinity_timeout_s = service.affinity_timeout_seconds;

    std::vector<const Endpoint*> usable;
    std::vector<const Endpoint*> draining;
    for (const Endpoint& ep : endpoints) {
      // "" serves the first port; an endpoint of the other family cannot be balanced to.
      bool serves = ep.port_name == port.name || (ep.port_name.empty() && i == 0);
      bool mine = ep.ns == service.ns && ep.service == service.name;
      if (!mine || !serves || ep.host.family != service.vip->family) {
        continue;
      }
      if (endpointUsable(ep, health, now_ms)) {
        usable.push_back(&ep);
      } else if (endpointDraining(ep, health, now_ms)) {
        draining.push_back(&ep);
      }
    }
    if (service.split) {
      config.algorithm = WEFT_LB_WEIGHTED;
      config.backends = splitBackends(*service.split, usable);
    } else {
      for (const Endpoint* ep : usable) {
        config.backends.push_back({ep->host, ep->port, ep->weight});
      }
    }
    // Draining members take no share of a split: they get no new connections at all.
    for (const Endpoint* ep : draining) {
      config.backends.push_back({ep->host, ep->port, ep->weight, true});
    }
    config.backends = sortedBackends(std::move(config.backends));
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
