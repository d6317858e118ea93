// SPDX-License-Identifier: Apache-2.0
// Poll-loop name servers on loopback.
#include "tests/e2e/servers.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace weft::e2e {
namespace {

// More open connections than any test keeps; beyond it new ones are closed at once.
constexpr size_t kMaxConnections = 512;
constexpr int kBacklog = 512;

struct Bound {
  UniqueFd fd;
  std::string ip;
  uint16_t port = 0;
};

std::optional<Bound> bindAddress(const std::string& ip, int type, uint16_t port = 0) {
  Bound b;
  b.ip = ip;
  auto ep = Endpoint::parse(b.ip, port);
  if (!ep) {
    return std::nullopt;
  }
  b.fd.reset(::socket(ep->family(), type | SOCK_CLOEXEC, 0));
  if (!b.fd.valid()) {
    return std::nullopt;
  }
  int one = 1;
  ::setsockopt(b.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (ep->family() == AF_INET6) {
    ::setsockopt(b.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (::bind(b.fd.get(), ep->sa(), ep->len) != 0) {
    return std::nullopt;
  }

  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(b.fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return std::nullopt;
  }
  b.port = Endpoint::fromSockaddr(ss, len).port();
  return b;
}

std::optional<Bound> bindLoopback(int family, int type) {
  return bindAddress(family == AF_INET6 ? "::1" : "127.0.0.1", type);
}

void signalStop(const UniqueFd& stop_fd) {
  uint64_t one = 1;
  ssize_t n = ::write(stop_fd.get(), &one, sizeof(one));
  (void)n;
}

}  // namespace

std::unique_ptr<TcpNameServer> TcpNameServer::start(const std::string& name, int family) {
  return startOn(name, family == AF_INET6 ? "::1" : "127.0.0.1");
}

std::unique_ptr<TcpNameServer> TcpNameServer::startOn(const std::string& name,
                                                      const std::string& ip, uint16_t port) {
  auto bound = bindAddress(ip, SOCK_STREAM, port);
  if (!bound || ::listen(bound->fd.get(), kBacklog) != 0) {
    return nullptr;
  }
  UniqueFd stop_fd(::eventfd(0, EFD_CLOEXEC));
  if (!stop_fd.valid()) {
    return nullptr;
  }
  return std::unique_ptr<TcpNameServer>(
      new TcpNameServer(name, bound->ip, std::move(bound->fd), std::move(stop_fd), bound->port));
}

TcpNameServer::TcpNameServer(std::string name, std::string ip, UniqueFd listen_fd, UniqueFd stop_fd,
                             uint16_t port)
    : name_(std::move(name)),
      ip_(std::move(ip)),
      listen_fd_(std::move(listen_fd)),
      stop_fd_(std::move(stop_fd)),
      port_(port) {
  thread_ = std::thread([this] { run(); });
}

TcpNameServer::~TcpNameServer() {
  signalStop(stop_fd_);
  thread_.join();
}

void TcpNameServer::run() {
  std::vector<UniqueFd> conns;
  const std::string greeting = name_ + "\n";
  while (true) {
    std::vector<pollfd> fds = {{stop_fd_.get(), POLLIN, 0}, {listen_fd_.get(), POLLIN, 0}};
    for (const UniqueFd& c : conns) {
      fds.push_back({c.get(), POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[0].revents != 0) {
      return;
    }

    // Connections first: indexes in `fds` line up with `conns` only before accepting.
    std::vector<UniqueFd> kept;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (fds[i + 2].revents == 0) {
        kept.push_back(std::move(conns[i]));
        continue;
      }
      char buf[4096];
      ssize_t n = ::recv(conns[i].get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0 && sendAll(conns[i].get(), std::string(buf, static_cast<size_t>(n)))) {
        kept.push_back(std::move(conns[i]));
      } else if (n < 0 && errno == EAGAIN) {
        kept.push_back(std::move(conns[i]));
      }
    }
    conns = std::move(kept);

    if (fds[1].revents != 0) {
      UniqueFd c(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (c.valid()) {
        accepted_.fetch_add(1);
        if (sendAll(c.get(), greeting) && conns.size() < kMaxConnections) {
          conns.push_back(std::move(c));
        }
      }
    }
  }
}

std::unique_ptr<UdpNameServer> UdpNameServer::start(const std::string& name, int family) {
  auto bound = bindLoopback(family, SOCK_DGRAM);
  if (!bound) {
    return nullptr;
  }
  UniqueFd stop_fd(::eventfd(0, EFD_CLOEXEC));
  if (!stop_fd.valid()) {
    return nullptr;
  }
  return std::unique_ptr<UdpNameServer>(
      new UdpNameServer(name, bound->ip, std::move(bound->fd), std::move(stop_fd), bound->port));
}

UdpNameServer::UdpNameServer(std::string name, std::string ip, UniqueFd fd, UniqueFd stop_fd,
                             uint16_t port)
    : name_(std::move(name)),
      ip_(std::move(ip)),
      fd_(std::move(fd)),
      stop_fd_(std::move(stop_fd)),
      port_(port) {
  thread_ = std::thread([this] { run(); });
}

UdpNameServer::~UdpNameServer() {
  signalStop(stop_fd_);
  thread_.join();
}

void UdpNameServer::run() {
  const std::string reply = name_ + "\n";
  while (true) {
    pollfd fds[2] = {{stop_fd_.get(), POLLIN, 0}, {fd_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[0].revents != 0) {
      return;
    }

    char buf[2048];
    sockaddr_storage from{};
    socklen_t len = sizeof(from);
    ssize_t n = ::recvfrom(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) {
      continue;
    }
    received_.fetch_add(1);
    ::sendto(fd_.get(), reply.data(), reply.size(), MSG_DONTWAIT,
             reinterpret_cast<const sockaddr*>(&from), len);
  }
}

}  // namespace weft::e2e
