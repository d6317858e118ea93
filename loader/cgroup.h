// SPDX-License-Identifier: Apache-2.0
// cgroup v2 discovery and the checks that keep weft off the machine's root cgroup.
#pragma once

#include <cstdint>
#include <string>

#include "userspace/common/result.h"

namespace weft {

// The first cgroup2 mount point in /proc/mounts (hybrid hosts mount it at e.g.
// /sys/fs/cgroup/unified).
Result<std::string> findCgroup2Mount();

// Checks that `path` is an existing directory strictly below a cgroup2 mount. weft never
// attaches to a mount's root: that would intercept every process on the host.
Status checkAttachableCgroup(const std::string& path);

// The kernel's id for a cgroup directory (its inode number on cgroup2).
Result<uint64_t> cgroupId(const std::string& path);

}  // namespace weft
