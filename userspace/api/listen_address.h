// SPDX-License-Identifier: Apache-2.0
// Where the API listens: preparing the unix socket path (parent directory, stale socket
// files, permissions) and checking that a TCP address is loopback.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "userspace/common/result.h"

namespace weft::api {

// Creates missing parent directories with mode 0755 and removes a leftover socket file, but
// only when nothing accepts connections on it. Fails when another process listens there or
// the path holds something that is not a socket.
Status prepareSocketPath(const std::string& path);

// After bind and before listen, so no client can connect in between: mode 0600, and owner
// root:root when running as root (a setgid parent directory would otherwise pick the group).
Status restrictSocketFile(const std::string& path);

// "127.0.0.1:8080", "[::1]:0" or "localhost:0". Fails unless the address is loopback
// (127.0.0.0/8 or ::1), so the API is never reachable from another host.
Result<boost::asio::ip::tcp::endpoint> parseLoopbackEndpoint(std::string_view text);

}  // namespace weft::api
