// SPDX-License-Identifier: Apache-2.0
// Writes an AgentConfig back out as YAML in the same shape parseConfig reads.
#pragma once

#include <string>

#include "userspace/config/agent_config.h"

namespace weft {

// parseConfig(toYaml(c)) gives back c for every valid c. Used by tests and for showing the
// effective config (with defaults filled in).
std::string toYaml(const AgentConfig& config);

}  // namespace weft
