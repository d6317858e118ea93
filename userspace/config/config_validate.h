// SPDX-License-Identifier: Apache-2.0
// Checks that need values rather than YAML syntax: DNS names, address families, uniqueness,
// VIP ranges and map capacity limits.
#pragma once

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

// DNS label rules (RFC 1123): [a-z0-9-], 1..63 characters, no leading or trailing '-'.
bool isDnsLabel(std::string_view name);

}  // namespace weft
