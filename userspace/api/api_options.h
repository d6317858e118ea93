// SPDX-License-Identifier: Apache-2.0
// Settings of the agent's local HTTP/JSON API: where it listens and the limits that keep a
// misbehaving client from holding the agent's single io thread or its memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace weft::api {

inline constexpr const char* kDefaultSocketPath = "/run/weft/weftd.sock";
inline constexpr size_t kDefaultBodyLimit = 64 * 1024;

struct ApiOptions {
  // Unix stream socket, created 0600 (root only when weftd runs as root). Empty: none.
  std::string socket_path = kDefaultSocketPath;
  // Optional loopback TCP listener, "127.0.0.1:8080" or "[::1]:0" (0 picks a port).
  // Anything but a loopback address is refused. Empty: no TCP listener.
  std::string tcp;

  size_t body_limit = kDefaultBodyLimit;  // larger request bodies get 413
  size_t header_limit = 16 * 1024;        // larger request headers get 431
  size_t max_connections = 64;            // beyond this a new connection gets 503 and is closed

  // Waiting for and reading a request's header (also the keep-alive idle time).
  std::chrono::milliseconds header_timeout{30000};
  // Reading a request's body once its header is in.
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};

  std::string version;  // reported by GET /v1/status; empty: the build's version
};

}  // namespace weft::api
