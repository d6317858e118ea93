// SPDX-License-Identifier: Apache-2.0
// Loopback backends for the end-to-end tests, each on its own thread in the test
// process (outside the mesh cgroup): TCP servers that greet with their name and then
// echo, and UDP servers that answer every datagram with their name.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "tests/e2e/sockets.h"

namespace weft::e2e {

// Listens on the loopback address of `family` (127.0.0.1 or ::1), port chosen by the
// kernel. Each accepted connection first receives "<name>\n", then gets its bytes
// echoed until it closes. Stops and joins on destruction.
class TcpNameServer {
 public:
  static std::unique_ptr<TcpNameServer> start(const std::string& name, int family);
  // The same on `ip`, an address of the test's network namespace (e.g. its end of a veth
  // pair), for backends that clients in another namespace reach; on `port` when not 0 (a
  // backend coming back where it was).
  static std::unique_ptr<TcpNameServer> startOn(const std::string& name, const std::string& ip,
                                                uint16_t port = 0);
  TcpNameServer(const TcpNameServer&) = delete;
  TcpNameServer& operator=(const TcpNameServer&) = delete;
  ~TcpNameServer();

  const std::string& name() const { return name_; }
  const std::string& ip() const { return ip_; }
  uint16_t port() const { return port_; }
  uint64_t accepted() const { return accepted_.load(); }

 private:
  TcpNameServer(std::string name, std::string ip, UniqueFd listen_fd, UniqueFd stop_fd,
                uint16_t port);
  void run();

  std::string name_;
  std::string ip_;
  UniqueFd listen_fd_;
  UniqueFd stop_fd_;
  uint16_t port_ = 0;
  std::atomic<uint64_t> accepted_{0};
  std::thread thread_;
};

// Bound to the loopback address of `family`; replies "<name>\n" to each datagram's
// sender. Stops and joins on destruction.
class UdpNameServer {
 public:
  static std::unique_ptr<UdpNameServer> start(const std::string& name, int family);
  UdpNameServer(const UdpNameServer&) = delete;
  UdpNameServer& operator=(const UdpNameServer&) = delete;
  ~UdpNameServer();

  const std::string& name() const { return name_; }
  const std::string& ip() const { return ip_; }
  uint16_t port() const { return port_; }
  uint64_t received() const { return received_.load(); }

 private:
  UdpNameServer(std::string name, std::string ip, UniqueFd fd, UniqueFd stop_fd, uint16_t port);
  void run();

  std::string name_;
  std::string ip_;
  UniqueFd fd_;
  UniqueFd stop_fd_;
  uint16_t port_ = 0;
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
};

}  // namespace weft::e2e
