// SPDX-License-Identifier: Apache-2.0
// The agent's local HTTP/JSON API: a unix socket (root only) and optionally a loopback TCP
// port, serving the registry routes of api_router.h on the agent's io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "userspace/api/api_options.h"
#include "userspace/common/result.h"
#include "userspace/registry/registry.h"

namespace weft::api {

struct ServerState;
class UnixListener;
class TcpListener;

// Runs entirely on `io`'s thread (the agent runs one). `registry` and `health` must outlive
// the server. start(), stop() and the destructor are called on that thread or while the
// io_context is not running.
class ApiServer {
 public:
  ApiServer(boost::asio::io_context& io, registry::Registry& registry,
            const registry::HealthView& health, ApiOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the listeners and starts accepting. Fails, naming the socket path or address,
  // when another process serves the socket, the TCP address is not loopback, or a bind
  // fails; nothing is left listening then.
  Status start();

  // Stops accepting, closes open connections and removes the socket file (if it is still
  // the one this server created). Idempotent.
  void stop();

  // The bound TCP port (useful with port 0), or 0 without a TCP listener.
  uint16_t tcpPort() const;

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<ServerState> state_;
  std::shared_ptr<UnixListener> unix_;
  std::shared_ptr<TcpListener> tcp_;
};

}  // namespace weft::api
