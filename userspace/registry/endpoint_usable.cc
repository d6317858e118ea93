// SPDX-License-Identifier: Apache-2.0
// Endpoint usability: health, TTL expiry, and drain (the flag, or weight 0).
#include "userspace/registry/endpoint_usable.h"

namespace weft::registry {

bool endpointExpired(const Endpoint& endpoint, int64_t now_ms) {
  if (endpoint.ttl_seconds == 0) {
    return false;
  }
  return now_ms - endpoint.last_heartbeat_ms > static_cast<int64_t>(endpoint.ttl_seconds) * 1000;
}

bool endpointUsable(const Endpoint& endpoint, const HealthView& health, int64_t now_ms) {
  return endpoint.weight > 0 && !endpoint.drained && !endpointExpired(endpoint, now_ms) &&
         health.healthy(endpoint);
}

bool endpointDraining(const Endpoint& endpoint, const HealthView& health, int64_t now_ms) {
  return endpoint.weight > 0 && endpoint.drained && !endpointExpired(endpoint, now_ms) &&
         health.healthy(endpoint);
}

}  // namespace weft::registry
