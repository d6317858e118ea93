// SPDX-License-Identifier: Apache-2.0
// Threshold counting for health verdicts.
#include "userspace/health/health_verdict.h"

#include <algorithm>

namespace weft::health {

const char* healthStateName(HealthState state) {
  switch (state) {
    case HealthState::kUnknown:
      return "unknown";
    case HealthState::kHealthy:
      return "healthy";
    case HealthState::kUnhealthy:
      return "unhealthy";
  }
  return "unknown";
}

bool HealthVerdict::record(bool success, const registry::HealthCheck& check) {
  bool was_healthy = healthy();

  if (success) {
    failures_ = 0;
    successes_ = successes_ == UINT32_MAX ? successes_ : successes_ + 1;
    bool enough = successes_ >= std::max<uint32_t>(check.healthy_threshold, 1);
    if (state_ == HealthState::kUnknown || (state_ == HealthState::kUnhealthy && enough)) {
      state_ = HealthState::kHealthy;
    }
  } else {
    successes_ = 0;
    failures_ = failures_ == UINT32_MAX ? failures_ : failures_ + 1;
    if (failures_ >= std::max<uint32_t>(check.unhealthy_threshold, 1)) {
      state_ = HealthState::kUnhealthy;
    }
  }
  return healthy() != was_healthy;
}

}  // namespace weft::health
