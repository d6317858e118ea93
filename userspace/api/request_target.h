// SPDX-License-Identifier: Apache-2.0
// Splits an HTTP request target ("/v1/services/default/web?x=1") into decoded path
// segments and query parameters, and reads the "host:port" endpoint ids used in paths.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/config/ip_addr.h"

namespace weft::api {

struct RequestTarget {
  std::vector<std::string> segments;  // percent-decoded, empty segments dropped
  std::map<std::string, std::string> query;
};

// Fails on bad percent escapes or a decoded segment holding '/' or NUL, which would let a
// name smuggle in a path separator.
Result<RequestTarget> parseTarget(std::string_view target);

// "%2F" -> "/"; '+' stays '+' (paths are not form-encoded). Fails on a bad escape.
Result<std::string> percentDecode(std::string_view text);

struct HostPort {
  IpAddr host;
  uint16_t port = 0;
};

// "127.0.0.1:8081" or "[fd00::1]:8081"; the port must be 1..65535. `field` names the
// input in error messages.
Result<HostPort> parseHostPort(std::string_view text, std::string_view field);

}  // namespace weft::api
