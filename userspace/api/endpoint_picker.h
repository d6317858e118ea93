// SPDX-License-Identifier: Apache-2.0
// Picks one endpoint for discovery with the service's balancing algorithm, the way the
// data path would: a round-robin counter per service, uniform random, or weighted random.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "userspace/registry/model.h"

namespace weft::api {

// Thread-safe. Algorithms without a userspace meaning (least_conn, maglev) fall back to
// round robin, since discovery has no connection counts or flow hash to work with.
class EndpointPicker {
 public:
  explicit EndpointPicker(uint64_t seed = std::random_device{}());

  // `endpoints` are the usable ones; nullopt when there are none. Order does not matter:
  // the picker sorts by host and port so the round-robin sequence is stable.
  std::optional<registry::Endpoint> pick(const registry::Service& service,
                                         std::vector<registry::Endpoint> endpoints);

  // Drops the round-robin counter of a deleted service.
  void forget(const std::string& ns, const std::string& name);

 private:
  size_t weightedIndex(const std::vector<registry::Endpoint>& endpoints);

  std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, uint64_t> next_;  // "ns/name" -> round-robin counter
};

}  // namespace weft::api
