// SPDX-License-Identifier: Apache-2.0
// The per-endpoint verdict: consecutive probe results against the check's thresholds.
// Pure logic, no I/O, so the rules are testable on their own.
#pragma once

#include <cstdint>

#include "userspace/registry/model.h"

namespace weft::health {

enum class HealthState { kUnknown, kHealthy, kUnhealthy };

const char* healthStateName(HealthState state);

// Rules (the data path follows healthy()):
// - A checked endpoint starts kUnknown, which is not healthy: traffic goes to it only after
//   a probe has succeeded once. The first success makes it kHealthy at once, so a new
//   endpoint joins after one probe instead of waiting for healthy_threshold probes.
// - unhealthy_threshold consecutive failures make any state kUnhealthy.
// - From kUnhealthy, healthy_threshold consecutive successes make it kHealthy.
// A threshold of 0 counts as 1.
class HealthVerdict {
 public:
  explicit HealthVerdict(HealthState initial = HealthState::kUnknown) : state_(initial) {}

  // Records one probe result; returns true when healthy() changed.
  bool record(bool success, const registry::HealthCheck& check);

  HealthState state() const { return state_; }
  bool healthy() const { return state_ == HealthState::kHealthy; }
  uint32_t consecutiveSuccesses() const { return successes_; }
  uint32_t consecutiveFailures() const { return failures_; }

 private:
  HealthState state_;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
};

}  // namespace weft::health
