// SPDX-License-Identifier: Apache-2.0
// Parsers for weftctl's registry flags: service ports ("metrics:9090/tcp"), labels
// ("app=web"), health checks ("http:/health") and durations ("500ms", "30s").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/registry/model.h"

namespace weft::cli {

// "[NAME:]PORT[/tcp|/udp]"; protocol defaults to tcp.
Result<registry::ServicePort> parseServicePort(std::string_view text);

// "KEY=VALUE" each; a repeated key is an error.
Result<registry::Labels> parseLabels(const std::vector<std::string>& items, std::string_view flag);

// "none", "tcp", "http" or "http:/path". Sets kind and (for http) http_path in `health`.
Status parseCheck(std::string_view text, registry::HealthCheck* health);

// "250ms", "1s", "2m", "1h" (also fractions such as "1.5s") to milliseconds; a unit is
// required, the result must fit in 32 bits.
Result<uint32_t> parseDurationMs(std::string_view text, std::string_view flag);
// As parseDurationMs, but whole seconds only (TTLs are kept in seconds).
Result<uint32_t> parseDurationSeconds(std::string_view text, std::string_view flag);

}  // namespace weft::cli
