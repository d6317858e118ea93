// SPDX-License-Identifier: Apache-2.0
// One DNS-over-TCP connection (RFC 7766): two-octet length, message, answer, repeat,
// closed after an idle timeout. Queries on a connection are answered in order.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace weft::dns {

class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  // Answers one query by calling `reply` once, on the io thread; an empty reply sends nothing.
  using Reply = std::function<void(std::vector<uint8_t> response)>;
  using Process = std::function<void(std::vector<uint8_t> query, Reply reply)>;

  TcpSession(boost::asio::ip::tcp::socket socket, std::chrono::milliseconds idle_timeout,
             Process process);

  // io thread only, as is close().
  void start();
  void close();

 private:
  void readLength();
  void readBody(size_t length);
  void write(std::vector<uint8_t> response);
  void armIdleTimer();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer idle_timer_;
  std::chrono::milliseconds idle_timeout_;
  Process process_;
  std::array<uint8_t, 2> length_{};
  std::vector<uint8_t> body_;
  std::vector<uint8_t> out_;
  bool closed_ = false;
};

}  // namespace weft::dns
