// SPDX-License-Identifier: Apache-2.0
// The API server: listeners and shared state wired to the registry router.
#include "userspace/api/api_server.h"

#include "userspace/api/listeners.h"
#include "userspace/api/server_state.h"
#include "userspace/common/log.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

namespace weft::api {
namespace {

constexpr char kComponent[] = "api";

ApiOptions withVersion(ApiOptions options) {
  if (options.version.empty()) {
    options.version = WEFT_VERSION;
  }
  return options;
}

}  // namespace

ApiServer::ApiServer(boost::asio::io_context& io, registry::Registry& registry,
                     const registry::HealthView& health, ApiOptions options)
    : io_(io) {
  options = withVersion(std::move(options));
  ApiRouter router(registry, health, options.version);
  state_ = std::make_shared<ServerState>(std::move(options), std::move(router));
}

ApiServer::~ApiServer() {
  stop();
}

Status ApiServer::start() {
  const ApiOptions& options = state_->options;
  if (options.socket_path.empty() && options.tcp.empty()) {
    return makeError("api: neither a socket path nor a TCP address is set", registry::kInvalid);
  }
  state_->stopped = false;

  if (!options.socket_path.empty()) {
    auto listener = std::make_shared<UnixListener>(io_, state_);
    Status opened = listener->open(options.socket_path);
    if (!opened) {
      return opened;
    }
    unix_ = std::move(listener);
  }
  if (!options.tcp.empty()) {
    auto listener = std::make_shared<TcpListener>(io_, state_);
    Status opened = listener->open(options.tcp);
    if (!opened) {
      stop();
      return opened;
    }
    tcp_ = std::move(listener);
  }

  if (unix_) {
    unix_->accept();
    log::info(kComponent, "api listening", {{"socket", options.socket_path}});
  }
  if (tcp_) {
    tcp_->accept();
    log::info(kComponent, "api listening", {{"tcp", options.tcp}, {"port", tcp_->port()}});
  }
  return {};
}

void ApiServer::stop() {
  state_->stopped = true;
  if (unix_) {
    unix_->close();
    unix_.reset();
  }
  if (tcp_) {
    tcp_->close();
    tcp_.reset();
  }
  // Copied first: a session that ends while being closed erases itself from the map.
  std::vector<std::weak_ptr<Session>> sessions;
  for (auto& [ptr, weak] : state_->sessions) {
    sessions.push_back(weak);
  }
  for (auto& weak : sessions) {
    if (auto session = weak.lock()) {
      session->close();
    }
  }
}

uint16_t ApiServer::tcpPort() const {
  return tcp_ ? tcp_->port() : 0;
}

}  // namespace weft::api
