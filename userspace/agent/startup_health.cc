// SPDX-License-Identifier: Apache-2.0
// Restart grace for health-checked endpoints.
#include "userspace/agent/startup_health.h"

namespace weft {

StartupHealthView::StartupHealthView(const health::HealthChecker& checker,
                                     std::set<Address> adopted, Clock::duration grace)
    : checker_(checker), adopted_(std::move(adopted)), grace_end_(Clock::now() + grace) {}

bool StartupHealthView::healthy(const registry::Endpoint& endpoint) const {
  if (checker_.healthy(endpoint)) {
    return true;
  }
  if (Clock::now() >= grace_end_ || !adopted_.count({endpoint.host, endpoint.port})) {
    return false;
  }
  auto status = checker_.status(endpoint);
  return !status || status->state == health::HealthState::kUnknown;
}

}  // namespace weft
