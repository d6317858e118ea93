// SPDX-License-Identifier: Apache-2.0
// Reads the weftd YAML config into an AgentConfig and validates it completely, so a bad file
// is rejected before anything in the kernel changes.
#pragma once

#include <string>
#include <string_view>

#include "userspace/common/result.h"
#include "userspace/config/agent_config.h"

namespace weft {

// Parses and validates one YAML document. On failure the message starts with the field path
// and the offending value, e.g. "services[1].backends[0].port: 70000 is not in 1..65535",
// and ends with the line and column when the YAML node carries them. Never throws.
// Pure: it does not look at the filesystem (the agent checks that `cgroup` exists).
Result<AgentConfig> parseConfig(std::string_view yaml_text);

// Reads `path` and parses it; errors are prefixed with "config <path>: ". Never throws.
Result<AgentConfig> loadConfigFile(const std::string& path);

}  // namespace weft
