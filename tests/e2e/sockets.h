// SPDX-License-Identifier: Apache-2.0
// Socket helpers for test clients and servers: owned fds, addresses, bounded I/O.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace weft::e2e {

using std::chrono::milliseconds;

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// An IPv4 or IPv6 socket address.
struct Endpoint {
  sockaddr_storage storage{};
  socklen_t len = 0;

  // "10.96.0.10" or "fd00:96::10" or "::ffff:10.96.0.10"; nullopt if unparsable.
  static std::optional<Endpoint> parse(const std::string& ip, uint16_t port);
  static Endpoint fromSockaddr(const sockaddr_storage& ss, socklen_t len);
  int family() const { return storage.ss_family; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::string ip() const;
  uint16_t port() const;
  // "10.96.0.10:80" or "[fd00:96::10]:80".
  std::string str() const;
};

// Canonical text form of an address ("::1", "127.0.0.1"); the input when unparsable.
std::string canonicalIp(const std::string& ip);

// connect() bounded by `timeout`. Returns 0 or the errno of the failure.
int connectWithin(int fd, const Endpoint& to, milliseconds timeout);
// Reads up to and including the first '\n' (returned without it); nullopt on error,
// EOF or timeout, with the errno (ETIMEDOUT for a timeout, 0 for EOF) in *err.
std::optional<std::string> recvLine(int fd, milliseconds timeout, int* err = nullptr);
// Reads one datagram (with its trailing '\n' stripped) and its source address; nullopt
// on error or timeout, with the errno (ETIMEDOUT for a timeout) in *err.
std::optional<std::string> recvDatagram(int fd, milliseconds timeout, int* err = nullptr,
                                        Endpoint* from = nullptr);
// Writes all of `data`; false on error.
bool sendAll(int fd, const std::string& data);
// Makes close() send RST instead of leaving TIME_WAIT: loops of thousands of short
// connections would otherwise run out of ephemeral ports.
void setLingerZero(int fd);

// One TCP connection from a socket of to.family(): connect, read the server's name line,
// close with RST.
// Returns the name, or "error:<errno name>" naming where it failed.
std::string fetchName(const Endpoint& to, milliseconds timeout = milliseconds(3000));

// fetchName() `connects` times in a row; returns "b1=100 b2=100" (sorted by name,
// failures counted under their error text).
std::string countNames(const Endpoint& to, int connects);

// A TCP connection to `vip` that the balancer sent to the backend named `want` (connecting
// up to `tries` times, e.g. to step round robin to it), or an invalid fd.
UniqueFd tcpTo(const Endpoint& vip, const std::string& want, int tries = 10,
               milliseconds timeout = milliseconds(3000));

// getpeername() as Endpoint::str(), or "error:getpeername:<errno name>".
std::string peerOf(int fd);

// The errno's symbolic name ("ECONNREFUSED"), for readable assertions.
std::string errnoName(int err);

}  // namespace weft::e2e
