// SPDX-License-Identifier: Apache-2.0
// The cgroups excluded from socket load balancing (map weft_bypass_v1): the agent keeps the
// config file's list there; weftctl adds and removes its own entries beside them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "userspace/common/result.h"

namespace weft {

struct BypassEntry {
  uint64_t cgroup_id = 0;
  uint32_t source = 0;  // WEFT_BYPASS_CONFIG or WEFT_BYPASS_COMMAND
};

// The cgroup v2 id of a cgroup directory (its inode number). Errors name `field` and the path.
Result<uint64_t> cgroupId(const std::string& field, const std::string& path);

// Makes the config-sourced entries exactly `paths` (each a cgroup directory); entries weftctl
// added are left as they are. Nothing is written when a path cannot be resolved.
Status syncConfigBypass(const std::string& maps_dir, const std::vector<std::string>& paths);

// weftctl's side: add or remove one cgroup directory, and list everything.
Status addBypass(const std::string& maps_dir, const std::string& path);
Status removeBypass(const std::string& maps_dir, const std::string& path);
Result<std::vector<BypassEntry>> listBypass(const std::string& maps_dir);

}  // namespace weft
