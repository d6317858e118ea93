// SPDX-License-Identifier: Apache-2.0
// Where the API client finds weftd and how long it waits for it.
#pragma once

#include <chrono>
#include <string>

namespace weft::api {

struct ClientOptions {
  std::string socket_path = "/run/weft/weftd.sock";
  // "127.0.0.1:8080" or "[::1]:8080": used instead of the socket when set.
  std::string tcp;
  // Bounds connecting and each request's round trip.
  std::chrono::milliseconds timeout{10000};
};

}  // namespace weft::api
