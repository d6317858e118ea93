// SPDX-License-Identifier: Apache-2.0
// Discovery's endpoint choice per balancing algorithm.
#include "userspace/api/endpoint_picker.h"

#include <algorithm>
#include <tuple>

namespace weft::api {
namespace {

std::string serviceKey(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

}  // namespace

EndpointPicker::EndpointPicker(uint64_t seed) : rng_(seed) {}

std::optional<registry::Endpoint> EndpointPicker::pick(const registry::Service& service,
                                                       std::vector<registry::Endpoint> endpoints) {
  if (endpoints.empty()) {
    return std::nullopt;
  }
  std::sort(endpoints.begin(), endpoints.end(), [](const auto& a, const auto& b) {
    return std::tie(a.host, a.port) < std::tie(b.host, b.port);
  });

  std::lock_guard lock(mu_);
  size_t index = 0;
  switch (service.algorithm) {
    case WEFT_LB_RANDOM:
      index = std::uniform_int_distribution<size_t>(0, endpoints.size() - 1)(rng_);
      break;
    case WEFT_LB_WEIGHTED:
      index = weightedIndex(endpoints);
      break;
    default:
      // A counter, not the last endpoint picked, so removals do not reset the rotation.
      index = next_[serviceKey(service.ns, service.name)]++ % endpoints.size();
      break;
  }
  return std::move(endpoints[index]);
}

void EndpointPicker::forget(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mu_);
  next_.erase(serviceKey(ns, name));
}

size_t EndpointPicker::weightedIndex(const std::vector<registry::Endpoint>& endpoints) {
  uint64_t total = 0;
  for (const auto& e : endpoints) {
    total += e.weight;
  }
  if (total == 0) {
    // All weights zero: nobody is preferred, so treat them as equal.
    return std::uniform_int_distribution<size_t>(0, endpoints.size() - 1)(rng_);
  }

  uint64_t point = std::uniform_int_distribution<uint64_t>(0, total - 1)(rng_);
  for (size_t i = 0; i < endpoints.size(); i++) {
    if (point < endpoints[i].weight) {
      return i;
    }
    point -= endpoints[i].weight;
  }
  return endpoints.size() - 1;
}

}  // namespace weft::api
