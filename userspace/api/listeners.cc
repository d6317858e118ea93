// SPDX-License-Identifier: Apache-2.0
// Binding and accept loops for the API's unix and TCP listeners.
#include "userspace/api/listeners.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>

#include "userspace/api/http_session.h"
#include "userspace/api/listen_address.h"
#include "userspace/common/log.h"

namespace weft::api {
namespace {

using ErrorCode = boost::system::error_code;
constexpr char kComponent[] = "api";

Error bindError(const std::string& what, const ErrorCode& ec) {
  return makeError(what + ": " + ec.message(), ec.value());
}

// Accept errors such as EMFILE must not end the loop; a short pause avoids spinning on them.
template <class Listener>
void retryAccept(const std::shared_ptr<Listener>& self, boost::asio::io_context& io,
                 const ErrorCode& ec) {
  log::warn(kComponent, "accept failed; retrying", {{"error", ec.message()}});
  auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(100));
  timer->async_wait([self, timer](ErrorCode) { self->accept(); });
}

}  // namespace

Status UnixListener::open(const std::string& path) {
  Status prepared = prepareSocketPath(path);
  if (!prepared) {
    return prepared;
  }
  using Protocol = boost::asio::local::stream_protocol;
  ErrorCode ec;
  acceptor_.open(Protocol(), ec);
  if (!ec) {
    acceptor_.bind(Protocol::endpoint(path), ec);
  }
  if (ec) {
    return bindError("api socket " + path + ": bind", ec);
  }
  path_ = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    inode_ = st.st_ino;
  }
  Status restricted = restrictSocketFile(path);
  if (!restricted) {
    close();
    return restricted;
  }
  acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    close();
    return bindError("api socket " + path + ": listen", ec);
  }
  return {};
}

void UnixListener::accept() {
  acceptor_.async_accept([self = shared_from_this()](
                             ErrorCode ec, boost::asio::local::stream_protocol::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !self->acceptor_.is_open()) {
      return;
    }
    if (ec) {
      retryAccept(self, self->io(), ec);
      return;
    }
    serveConnection<boost::asio::local::stream_protocol>(self->state_, std::move(socket));
    self->accept();
  });
}

void UnixListener::close() {
  ErrorCode ignored;
  acceptor_.close(ignored);
  if (path_.empty()) {
    return;
  }
  // A newer weftd may have replaced a socket we still think is ours; leave its file alone.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_ino == inode_ && S_ISSOCK(st.st_mode)) {
    ::unlink(path_.c_str());
  }
  path_.clear();
}

Status TcpListener::open(const std::string& address) {
  auto endpoint = parseLoopbackEndpoint(address);
  if (!endpoint) {
    return endpoint.error();
  }
  ErrorCode ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (!ec) {
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(*endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    close();
    return bindError("api.tcp " + address + ": bind", ec);
  }
  port_ = acceptor_.local_endpoint(ec).port();
  return {};
}

void TcpListener::accept() {
  acceptor_.async_accept(
      [self = shared_from_this()](ErrorCode ec, boost::asio::ip::tcp::socket socket) {
        if (ec == boost::asio::error::operation_aborted || !self->acceptor_.is_open()) {
          return;
        }
        if (ec) {
          retryAccept(self, self->io(), ec);
          return;
        }
        serveConnection<boost::asio::ip::tcp>(self->state_, std::move(socket));
        self->accept();
      });
}

void TcpListener::close() {
  ErrorCode ignored;
  acceptor_.close(ignored);
}

}  // namespace weft::api
