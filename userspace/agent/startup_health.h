// SPDX-License-Identifier: Apache-2.0
// The health view the data path follows: the checker's verdicts, except that right after an
// agent restart, endpoints that were already in the pinned maps keep their place until their
// first probe ends. Without this a restart would empty every checked backend set.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <utility>

#include "userspace/config/ip_addr.h"
#include "userspace/health/health_checker.h"
#include "userspace/registry/registry.h"

namespace weft {

// Thread-safe reads (the checker's are); the set is fixed at construction.
class StartupHealthView final : public registry::HealthView {
 public:
  using Clock = std::chrono::steady_clock;
  using Address = std::pair<IpAddr, uint16_t>;

  // `adopted`: backend addresses found in the pinned maps at start. `grace`: how long an
  // unprobed adopted endpoint may stay in service at most.
  StartupHealthView(const health::HealthChecker& checker, std::set<Address> adopted,
                    Clock::duration grace);

  bool healthy(const registry::Endpoint& endpoint) const override;
  Clock::time_point graceEnd() const { return grace_end_; }

 private:
  const health::HealthChecker& checker_;
  std::set<Address> adopted_;
  Clock::time_point grace_end_;
};

}  // namespace weft
