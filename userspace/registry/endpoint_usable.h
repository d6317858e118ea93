// SPDX-License-Identifier: Apache-2.0
// When an endpoint may receive new connections: the one rule shared by discovery, the data
// path view and the API's "healthy" flag.
#pragma once

#include <cstdint>

#include "userspace/registry/model.h"
#include "userspace/registry/registry.h"

namespace weft::registry {

// A TTL endpoint whose last heartbeat is more than ttl_seconds old at `now_ms`.
bool endpointExpired(const Endpoint& endpoint, int64_t now_ms);

// Healthy per `health`, not expired, and weight above 0 (weight 0 drains: existing
// connections stay, new ones go elsewhere).
bool endpointUsable(const Endpoint& endpoint, const HealthView& health, int64_t now_ms);

// Drained (the flag) but otherwise usable: healthy, not expired, weight above 0. The data path
// keeps such an endpoint as a draining member: no new connections, its established ones stay
// and are counted. Unhealthy, expired and weight-0 endpoints are not members at all.
bool endpointDraining(const Endpoint& endpoint, const HealthView& health, int64_t now_ms);

// A HealthView for when no checker runs: every endpoint counts as healthy.
class AllHealthy : public HealthView {
 public:
  bool healthy(const Endpoint&) const override { return true; }
};

}  // namespace weft::registry
