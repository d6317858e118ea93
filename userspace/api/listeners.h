// SPDX-License-Identifier: Apache-2.0
// Accept loops of the API server for its unix socket and its loopback TCP port. Each is
// owned through shared_ptr by its pending accept, so closing it from the server is safe.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <memory>
#include <string>

#include "userspace/api/server_state.h"
#include "userspace/common/result.h"

namespace weft::api {

class UnixListener : public std::enable_shared_from_this<UnixListener> {
 public:
  UnixListener(boost::asio::io_context& io, std::shared_ptr<ServerState> state)
      : io_(io), acceptor_(io), state_(std::move(state)) {}

  // Prepares the path (see prepareSocketPath), binds with mode 0600 and listens.
  Status open(const std::string& path);
  void accept();
  // Closes the acceptor and unlinks the socket file unless another process replaced it.
  void close();
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context& io_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::shared_ptr<ServerState> state_;
  std::string path_;
  ino_t inode_ = 0;
};

class TcpListener : public std::enable_shared_from_this<TcpListener> {
 public:
  TcpListener(boost::asio::io_context& io, std::shared_ptr<ServerState> state)
      : io_(io), acceptor_(io), state_(std::move(state)) {}

  // Refuses anything but a loopback address.
  Status open(const std::string& address);
  void accept();
  void close();
  uint16_t port() const { return port_; }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<ServerState> state_;
  uint16_t port_ = 0;
};

}  // namespace weft::api
