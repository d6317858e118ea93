// SPDX-License-Identifier: Apache-2.0
// Value checks for services and endpoints: DNS-label names, port and protocol ranges, label
// sizes, health-check timings and host addresses. Errors name the field and carry kInvalid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "userspace/common/result.h"
#include "userspace/config/config_validate.h"
#include "userspace/registry/model.h"

namespace weft::registry {

inline constexpr size_t kMaxPorts = 16;
inline constexpr size_t kMaxLabels = 64;
inline constexpr size_t kMaxLabelKeyLen = 63;
inline constexpr size_t kMaxLabelValueLen = 253;
inline constexpr size_t kMaxTextLen = 253;  // version, zone
inline constexpr size_t kMaxHttpPathLen = 1024;
inline constexpr uint32_t kMaxWeight = 65535;
inline constexpr uint32_t kMaxTtlSeconds = 86400;
inline constexpr uint32_t kMinIntervalMs = 100;
inline constexpr uint32_t kMaxIntervalMs = 3600 * 1000;
inline constexpr uint32_t kMaxThreshold = 100;
inline constexpr int kMinHttpStatus = 100;
inline constexpr int kMaxHttpStatus = 599;
inline constexpr size_t kMaxSplitSubsets = 16;
inline constexpr uint32_t kSplitPercentTotal = 100;
inline constexpr uint32_t kMaxAffinitySeconds = kMaxAffinityTimeoutSeconds;

// "path.key", or "key" at the top level.
std::string fieldPath(const std::string& path, std::string_view key);

// Field values in messages: JSON-quoted, cut to a readable length.
std::string quoteValue(std::string_view text);

// The first problem with the name as a DNS label (RFC 1123: [a-z0-9-], 1..63 characters, no
// '-' at either end), as "<field>: <what is wrong>", or "" when it is a valid label.
std::string dnsLabelProblem(std::string_view field, std::string_view name);

// Each returns the first problem found. `path` prefixes field names ("services[2]"); empty
// means the value is the whole document. Registry-level rules (VIP ranges, the service
// existing, port_name naming one of its ports) are checked by the Registry.
Status validateServicePort(const ServicePort& port, const std::string& path);
Status validateService(const Service& service, const std::string& path = "");
Status validateHealthCheck(const HealthCheck& health, const std::string& path);
Status validateEndpoint(const Endpoint& endpoint, const std::string& path = "");
Status validateLabels(const Labels& labels, const std::string& path);
// Key like a label key; 1..16 subsets with distinct non-empty values; percents 0..100 adding
// up to 100. Values no endpoint carries are allowed (their subset is simply empty).
Status validateSplit(const TrafficSplit& split, const std::string& path);
// "10.0.0.1:80" or "[fd00::1]:80" in the canonical form Endpoint::id() produces, so that
// "[fd00:0::1]:080" finds the same endpoint. kInvalid when it is not host:port.
Result<std::string> canonicalEndpointId(std::string_view id);

// "round_robin, random, weighted": the algorithms the data path runs, for messages.
std::string algorithmNames();

// An address a service can be reached at or forwarded to: set, not unspecified, not
// IPv4-mapped (the data path keeps IPv4 in its own table).
Status validateHost(const IpAddr& host, const std::string& field);

}  // namespace weft::registry
