// SPDX-License-Identifier: Apache-2.0
// The service registry's data model: services, their ports and virtual IPs, and endpoints
// with their health checks. Plain values; validation lives in model_validate.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "maps/weft_maps.h"
#include "userspace/config/agent_config.h"
#include "userspace/config/ip_addr.h"

namespace weft::registry {

using Labels = std::map<std::string, std::string>;

struct ServicePort {
  std::string name;   // DNS label, unique within the service; "" allowed when only one port
  uint16_t port = 0;  // the port clients use on the virtual IP, host byte order
  uint8_t protocol = WEFT_PROTO_TCP;

  bool operator==(const ServicePort&) const = default;
};

// One subset of a traffic split: the endpoints whose split label has `value`, and the
// percent of new connections they share (in proportion to their weights).
struct SplitSubset {
  std::string value;
  uint32_t percent = 0;  // 0..100; a split's percents add up to 100

  bool operator==(const SplitSubset&) const = default;
};

// Canary, A/B and blue-green: new connections divided between subsets of endpoints chosen
// by one label. "version" and "zone" also match Endpoint::version and Endpoint::zone when
// the endpoint has no label of that name.
struct TrafficSplit {
  std::string key = "version";
  std::vector<SplitSubset> subsets;  // 1..16, distinct values

  bool operator==(const TrafficSplit&) const = default;
};

struct Service {
  std::string name;                // DNS label, 1..63 chars
  std::string ns = "default";      // namespace, DNS label
  std::vector<ServicePort> ports;  // at least one
  Labels labels;
  weft_lb_algo algorithm = WEFT_LB_ROUND_ROBIN;
  std::optional<IpAddr> vip;  // allocated by the registry when empty; then stable
  // When set, the data path balances the service as "weighted" over the split's subsets,
  // whatever `algorithm` says; clearing the split brings `algorithm` back.
  std::optional<TrafficSplit> split;
  // Maglev only: a prime in [WEFT_MAGLEV_MIN_SIZE, WEFT_MAGLEV_MAX_SIZE], 0 for the default.
  uint32_t maglev_table_size = 0;
  HashKey hash_key = HashKey::kClientAddr;  // what Maglev hashes
  // Session affinity idle timeout under any algorithm; 0 = off, at most kMaxAffinitySeconds.
  uint32_t affinity_timeout_seconds = 0;
  uint64_t revision = 0;  // store revision of the last change; 0 before stored

  bool operator==(const Service&) const = default;
};

enum class HealthCheckKind { kNone, kTcp, kHttp };

struct HealthCheck {
  HealthCheckKind kind = HealthCheckKind::kNone;
  std::string http_path = "/";  // kHttp only; must start with '/'
  int expected_status = 200;    // kHttp only
  uint32_t interval_ms = 5000;
  uint32_t timeout_ms = 1000;
  uint32_t healthy_threshold = 2;    // consecutive successes to become healthy
  uint32_t unhealthy_threshold = 3;  // consecutive failures to become unhealthy

  bool operator==(const HealthCheck&) const = default;
};

struct Endpoint {
  std::string service;         // service name
  std::string ns = "default";  // service namespace
  IpAddr host;                 // an address, never a hostname: the data path needs one
  uint16_t port = 0;           // target port on the host, host byte order
  std::string port_name;       // which service port this serves; "" = the service's first
  std::string version;
  std::string zone;
  uint32_t weight = 100;
  bool drained = false;  // no new connections; established ones are left alone
  Labels labels;
  HealthCheck health;
  uint32_t ttl_seconds = 0;       // 0 = no TTL; else expires without a heartbeat
  int64_t last_heartbeat_ms = 0;  // wall clock, set by the registry on register/heartbeat
  uint64_t revision = 0;

  // Endpoints are identified within their service by host and port.
  std::string id() const;

  bool operator==(const Endpoint&) const = default;
};

// The value an endpoint has for a split's label key ("" when it has none).
std::string splitLabelValue(const Endpoint& endpoint, const std::string& key);

}  // namespace weft::registry
