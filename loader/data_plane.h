// SPDX-License-Identifier: Apache-2.0
// Loads the socket programs, pins maps and links under the bpffs root and attaches them to
// a cgroup, adopting whatever an earlier agent left pinned.
#pragma once

#include <string>

#include "loader/pin_layout.h"
#include "userspace/common/result.h"

namespace weft {

struct DataPlaneOptions {
  std::string bpffs_root;
  std::string cgroup_path;
};

struct LoadReport {
  int maps_reused = 0;    // pinned maps adopted with their content
  int links_updated = 0;  // pinned links switched to the new programs in place
  int links_created = 0;  // programs attached for the first time
};

// Loads and attaches. Pinned maps of the same layout are reused, so their content (the
// running backend sets) survives; pinned links get the new program through one
// BPF_LINK_UPDATE, so connects never see an unattached moment. Pinned maps of another
// layout version make this fail with a message; nothing pinned is changed then.
// Call from one thread; the returned report is informational.
Result<LoadReport> loadDataPlane(const DataPlaneOptions& options);

// Detaches the pinned links and removes the pins weft owns under the root (the names in
// pin_layout.h), then the root's own directories if they are empty. Returns the number of
// pins removed. Missing pins are not an error, so cleanup can be repeated.
Result<int> cleanupDataPlane(const std::string& bpffs_root);

// Reads the layout version pinned under the root; 0 when nothing is pinned.
Result<unsigned> pinnedLayoutVersion(const PinLayout& pins);

}  // namespace weft
