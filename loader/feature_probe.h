// SPDX-License-Identifier: Apache-2.0
// Start-up probes: names the kernel feature that is missing instead of a verifier dump.
#pragma once

#include "userspace/common/result.h"

namespace weft {

// Checks every program type, attach type, map type and helper the socket
// load balancer needs. The error lists all that are missing, one per clause.
Status probeSockLbFeatures();

}  // namespace weft
