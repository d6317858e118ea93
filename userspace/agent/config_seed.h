// SPDX-License-Identifier: Apache-2.0
// Declares the config file's static services in the registry, so the file is one more way
// to write registry content and the data path has a single source.
#pragma once

#include <vector>

#include "userspace/common/result.h"
#include "userspace/config/agent_config.h"
#include "userspace/registry/registry.h"

namespace weft {

// Label that marks what the config file declared; only such services and endpoints are
// changed or removed when the file changes. Content registered through the API is left alone.
inline constexpr const char* kSourceLabel = "weft.io/source";
inline constexpr const char* kSourceConfig = "config";

// Makes the registry hold exactly the config's services (namespace "default", labelled as
// declared), with their endpoints. A service whose VIP, port or protocol changed is replaced.
// Stops at the first registry error and returns it; what was written stays consistent.
Status declareConfigServices(registry::Registry& registry,
                             const std::vector<ServiceConfig>& services);

}  // namespace weft
