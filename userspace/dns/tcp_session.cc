// SPDX-License-Identifier: Apache-2.0
// Length-prefixed DNS messages over a TCP connection.
#include "userspace/dns/tcp_session.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace weft::dns {

namespace asio = boost::asio;

TcpSession::TcpSession(asio::ip::tcp::socket socket, std::chrono::milliseconds idle_timeout,
                       Process process)
    : socket_(std::move(socket)),
      idle_timer_(socket_.get_executor()),
      idle_timeout_(idle_timeout),
      process_(std::move(process)) {}

void TcpSession::start() {
  readLength();
}

void TcpSession::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  boost::system::error_code ignored;
  idle_timer_.cancel();
  socket_.close(ignored);
}

void TcpSession::armIdleTimer() {
  idle_timer_.expires_after(idle_timeout_);
  idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) {
      self->close();
    }
  });
}

void TcpSession::readLength() {
  if (closed_) {
    return;
  }
  armIdleTimer();
  asio::async_read(socket_, asio::buffer(length_),
                   [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                     size_t length = (size_t{self->length_[0]} << 8) | self->length_[1];
                     if (ec || length == 0) {
                       self->close();
                       return;
                     }
                     self->readBody(length);
                   });
}

void TcpSession::readBody(size_t length) {
  body_.resize(length);
  asio::async_read(socket_, asio::buffer(body_),
                   [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                     if (ec || self->closed_) {
                       self->close();
                       return;
                     }
                     // No idle close while the answer is being worked out (a forward).
                     self->idle_timer_.cancel();
                     self->process_(std::move(self->body_), [self](std::vector<uint8_t> out) {
                       if (out.empty()) {
                         self->readLength();
                         return;
                       }
                       self->write(std::move(out));
                     });
                   });
}

void TcpSession::write(std::vector<uint8_t> response) {
  if (closed_ || response.size() > 65535) {
    close();
    return;
  }
  out_.clear();
  out_.push_back(static_cast<uint8_t>(response.size() >> 8));
  out_.push_back(static_cast<uint8_t>(response.size()));
  out_.insert(out_.end(), response.begin(), response.end());
  armIdleTimer();
  asio::async_write(socket_, asio::buffer(out_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      if (ec) {
                        self->close();
                        return;
                      }
                      self->readLength();
                    });
}

}  // namespace weft::dns
