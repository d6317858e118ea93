// SPDX-License-Identifier: Apache-2.0
// Checks that need values rather than YAML syntax: DNS names, address families, uniqueness,
// VIP ranges and map capacity limits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "userspace/common/result.h"
#include "userspace/config/agent_config.h"

namespace weft {

// One problem: the field path ("services[1].vip") and what is wrong with its value.
struct ConfigProblem {
  std::string path;
  std::string message;
};

// The first problem in `config`, or nothing when it is valid.
std::optional<ConfigProblem> findConfigProblem(const AgentConfig& config);

// The same as a Status whose message reads "<path>: <message>".
Status validateConfig(const AgentConfig& config);

// Session affinity timeouts go up to a day; longer ones would outlive most LRU entries anyway.
inline constexpr uint32_t kMaxAffinityTimeoutSeconds = 86400;

// What is wrong with a Maglev table size, or "" when it is 0 (the default) or a prime in
// [WEFT_MAGLEV_MIN_SIZE, WEFT_MAGLEV_MAX_SIZE]. Shared with the registry's validation.
std::string maglevTableSizeProblem(uint32_t size);

// Why least_conn cannot balance a UDP port: it counts established TCP connections.
std::string leastConnUdpProblem(std::string_view service, uint16_t port);

// DNS label rules (RFC 1123): [a-z0-9-], 1..63 characters, no leading or trailing '-'.
bool isDnsLabel(std::string_view name);

}  // namespace weft
