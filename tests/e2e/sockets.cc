// SPDX-License-Identifier: Apache-2.0
// Bounded socket I/O for the end-to-end tests.
#include "tests/e2e/sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace weft::e2e {
namespace {

using Clock = std::chrono::steady_clock;

int msLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset(std::exchange(other.fd_, -1));
  }
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

std::optional<Endpoint> Endpoint::parse(const std::string& ip, uint16_t port) {
  Endpoint ep;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ep.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ep.storage);
  if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    ep.len = sizeof(sockaddr_in);
    return ep;
  }
  if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    ep.len = sizeof(sockaddr_in6);
    return ep;
  }
  return std::nullopt;
}

Endpoint Endpoint::fromSockaddr(const sockaddr_storage& ss, socklen_t len) {
  Endpoint ep;
  ep.storage = ss;
  ep.len = len;
  return ep;
}

std::string Endpoint::ip() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf,
                sizeof(buf));
  } else if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf,
                sizeof(buf));
  } else {
    return "family" + std::to_string(family());
  }
  return buf;
}

uint16_t Endpoint::port() const {
  if (family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return 0;
}

std::string Endpoint::str() const {
  if (family() == AF_INET6) {
    return "[" + ip() + "]:" + std::to_string(port());
  }
  return ip() + ":" + std::to_string(port());
}

std::string canonicalIp(const std::string& ip) {
  auto ep = Endpoint::parse(ip, 0);
  return ep ? ep->ip() : ip;
}

int connectWithin(int fd, const Endpoint& to, milliseconds timeout) {
  int flags = ::fcntl(fd, F_GETFL);
  bool was_blocking = (flags & O_NONBLOCK) == 0;
  if (was_blocking) {
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }

  int err = 0;
  if (::connect(fd, to.sa(), to.len) != 0) {
    err = errno;
  }
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n <= 0) {
      err = n == 0 ? ETIMEDOUT : errno;
    } else {
      socklen_t len = sizeof(err);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
  }

  if (was_blocking) {
    ::fcntl(fd, F_SETFL, flags);
  }
  return err;
}

std::optional<std::string> recvLine(int fd, milliseconds timeout, int* err) {
  auto deadline = Clock::now() + timeout;
  std::string line;
  int dummy = 0;
  int& error = err ? *err : dummy;
  // A name line is short; the bound keeps a misbehaving peer from filling memory.
  while (line.size() < 4096) {
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, msLeft(deadline));
    if (n == 0) {
      error = ETIMEDOUT;
      return std::nullopt;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      error = errno;
      return std::nullopt;
    }
    char c = 0;
    ssize_t r = ::recv(fd, &c, 1, MSG_DONTWAIT);
    if (r == 1) {
      if (c == '\n') {
        return line;
      }
      line.push_back(c);
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      continue;
    }
    error = r == 0 ? 0 : errno;
    return std::nullopt;
  }
  error = EMSGSIZE;
  return std::nullopt;
}

std::optional<std::string> recvDatagram(int fd, milliseconds timeout, int* err, Endpoint* from) {
  int dummy = 0;
  int& error = err ? *err : dummy;
  auto deadline = Clock::now() + timeout;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, msLeft(deadline));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      error = n == 0 ? ETIMEDOUT : errno;
      return std::nullopt;
    }
    char buf[2048];
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    ssize_t r =
        ::recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), &len);
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      error = errno;
      return std::nullopt;
    }
    if (from) {
      *from = Endpoint::fromSockaddr(ss, len);
    }
    std::string text(buf, static_cast<size_t>(r));
    if (!text.empty() && text.back() == '\n') {
      text.pop_back();
    }
    return text;
  }
}

bool sendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

void setLingerZero(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

std::string fetchName(const Endpoint& to, milliseconds timeout) {
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return "error:socket:" + errnoName(errno);
  }
  if (int err = connectWithin(fd.get(), to, timeout); err != 0) {
    return "error:connect:" + errnoName(err);
  }
  int err = 0;
  auto name = recvLine(fd.get(), timeout, &err);
  setLingerZero(fd.get());
  if (!name) {
    return "error:recv:" + errnoName(err);
  }
  return *name;
}

UniqueFd tcpTo(const Endpoint& vip, const std::string& want, int tries, milliseconds timeout) {
  for (int i = 0; i < tries; ++i) {
    UniqueFd fd(::socket(vip.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (connectWithin(fd.get(), vip, timeout) == 0 && recvLine(fd.get(), timeout) == want) {
      return fd;
    }
  }
  return UniqueFd();
}

std::string countNames(const Endpoint& to, int connects) {
  std::map<std::string, int> counts;
  for (int i = 0; i < connects; ++i) {
    ++counts[fetchName(to)];
  }
  std::string out;
  for (const auto& [name, count] : counts) {
    out += (out.empty() ? "" : " ") + name + "=" + std::to_string(count);
  }
  return out;
}

std::string peerOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return "error:getpeername:" + errnoName(errno);
  }
  return Endpoint::fromSockaddr(ss, len).str();
}

std::string errnoName(int err) {
  if (err == 0) {
    return "EOF";
  }
  const char* name = ::strerrorname_np(err);
  return name ? name : "errno" + std::to_string(err);
}

}  // namespace weft::e2e
