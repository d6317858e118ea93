// SPDX-License-Identifier: Apache-2.0
// What the API server shares with its listeners and connections. Owned through shared_ptr so
// a completion handler that runs after the server is gone still finds valid state.
#pragma once

#include <cstddef>
#include <memory>
#include <unordered_map>

#include "userspace/api/api_options.h"
#include "userspace/api/api_router.h"

namespace weft::api {

// A live connection the server can close on stop().
class Session {
 public:
  virtual ~Session() = default;
  virtual void close() = 0;
};

// Touched only on the io_context's thread.
struct ServerState {
  ServerState(ApiOptions opts, ApiRouter r) : options(std::move(opts)), router(std::move(r)) {}

  ApiOptions options;
  ApiRouter router;
  size_t active = 0;  // open connections, limited by options.max_connections
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  bool stopped = false;
};

}  // namespace weft::api
