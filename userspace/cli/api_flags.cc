// SPDX-License-Identifier: Apache-2.0
// Flag value parsing for weftctl's registry commands.
#include "userspace/cli/api_flags.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "userspace/config/agent_config.h"

namespace weft::cli {
namespace {

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

}  // namespace

Result<registry::ServicePort> parseServicePort(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return makeError("--port: " + quoted(text) + " " + why +
                     " (expected [NAME:]PORT[/tcp|/udp], e.g. metrics:9090/tcp)");
  };
  registry::ServicePort port;
  std::string_view rest = text;
  if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
    port.name = std::string(rest.substr(0, colon));
    rest = rest.substr(colon + 1);
  }
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    if (!protocolFromName(rest.substr(slash + 1), &port.protocol)) {
      return bad("has a protocol other than tcp or udp");
    }
    rest = rest.substr(0, slash);
  }
  unsigned number = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
  if (ec != std::errc() || end != rest.data() + rest.size() || number == 0 || number > 65535) {
    return bad("has a port outside 1..65535");
  }
  port.port = static_cast<uint16_t>(number);
  return port;
}

Result<registry::Labels> parseLabels(const std::vector<std::string>& items, std::string_view flag) {
  registry::Labels labels;
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return makeError(std::string(flag) + ": " + quoted(item) + " is not KEY=VALUE");
    }
    if (!labels.emplace(item.substr(0, eq), item.substr(eq + 1)).second) {
      return makeError(std::string(flag) + ": key " + quoted(item.substr(0, eq)) +
                       " is given twice");
    }
  }
  return labels;
}

Status parseCheck(std::string_view text, registry::HealthCheck* health) {
  if (text == "none") {
    health->kind = registry::HealthCheckKind::kNone;
  } else if (text == "tcp") {
    health->kind = registry::HealthCheckKind::kTcp;
  } else if (text == "http") {
    health->kind = registry::HealthCheckKind::kHttp;
  } else if (text.substr(0, 5) == "http:") {
    health->kind = registry::HealthCheckKind::kHttp;
    health->http_path = std::string(text.substr(5));
  } else {
    return makeError("--check: " + quoted(text) + " is not none, tcp, http or http:/PATH");
  }
  return {};
}

Result<uint32_t> parseDurationMs(std::string_view text, std::string_view flag) {
  auto bad = [&] {
    return makeError(std::string(flag) + ": " + quoted(text) +
                     " is not a duration such as 500ms, 1s, 2m or 1h");
  };
  size_t unit_at = text.find_first_not_of("0123456789.");
  if (unit_at == 0 || unit_at == std::string_view::npos) {
    return bad();
  }
  std::string_view unit = text.substr(unit_at);
  double scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60 * 1000;
  } else if (unit == "h") {
    scale = 3600 * 1000;
  } else {
    return bad();
  }

  double value = 0;
  std::string number(text.substr(0, unit_at));
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) {
    return bad();
  }
  double ms = std::round(value * scale);
  if (ms > std::numeric_limits<uint32_t>::max()) {
    return makeError(std::string(flag) + ": " + quoted(text) + " is too long");
  }
  return static_cast<uint32_t>(ms);
}

Result<uint32_t> parseDurationSeconds(std::string_view text, std::string_view flag) {
  auto ms = parseDurationMs(text, flag);
  if (!ms) {
    return ms.error();
  }
  if (*ms % 1000 != 0) {
    return makeError(std::string(flag) + ": " + quoted(text) + " is not a whole number of seconds");
  }
  return *ms / 1000;
}

}  // namespace weft::cli
