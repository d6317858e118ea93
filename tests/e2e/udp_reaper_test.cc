// SPDX-License-Identifier: Apache-2.0
// The UDP reaper against real sockets in the test namespace: it destroys exactly the
// connected sockets whose peer is the backend and whose cookie the predicate accepts.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "tests/e2e/servers.h"
#include "tests/e2e/sockets.h"
#include "userspace/netlink/udp_reaper.h"

namespace weft::e2e {
namespace {

constexpr milliseconds kReplyTimeout(2000);

uint64_t cookieOf(int fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) {
    return 0;
  }
  return cookie;
}

weft_backend backendFor(const std::string& ip, uint16_t port) {
  weft_backend be{};
  auto ep = Endpoint::parse(ip, port);
  if (!ep) {
    return be;
  }
  be.port = htons(port);
  be.proto = WEFT_PROTO_UDP;
  if (ep->family() == AF_INET) {
    be.family = WEFT_AF_INET;
    be.addr[0] = reinterpret_cast<const sockaddr_in*>(&ep->storage)->sin_addr.s_addr;
  } else {
    be.family = WEFT_AF_INET6;
    std::memcpy(be.addr, &reinterpret_cast<const sockaddr_in6*>(&ep->storage)->sin6_addr, 16);
  }
  return be;
}

// A UDP socket of `family` connected to ip:port; invalid when that fails.
UniqueFd connectedUdp(int family, const std::string& ip, uint16_t port) {
  UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto ep = Endpoint::parse(ip, port);
  if (!fd.valid() || !ep || ::connect(fd.get(), ep->sa(), ep->len) != 0) {
    return UniqueFd();
  }
  return fd;
}

// Sends one datagram and returns the reply line, or "error:<errno>".
std::string roundTrip(int fd) {
  if (::send(fd, "hi", 2, 0) != 2) {
    return "error:send:" + errnoName(errno);
  }
  int err = 0;
  auto line = recvDatagram(fd, kReplyTimeout, &err);
  return line ? *line : "error:recv:" + errnoName(err);
}

// errno of a non-blocking recv: ECONNABORTED once the reaper destroyed the socket,
// EAGAIN while it is alive and idle.
std::string pendingError(int fd) {
  char c = 0;
  if (::recv(fd, &c, 1, MSG_DONTWAIT) >= 0) {
    return "data";
  }
  return errnoName(errno);
}

class UdpReaperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = UdpNameServer::start("u1", AF_INET);
    server6_ = UdpNameServer::start("u6", AF_INET6);
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(server6_, nullptr);
  }

  std::unique_ptr<UdpNameServer> server_;
  std::unique_ptr<UdpNameServer> server6_;
};

TEST_F(UdpReaperTest, DestroysConnectedSocketWhenPredicateAccepts) {
  UniqueFd fd = connectedUdp(AF_INET, "127.0.0.1", server_->port());
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(roundTrip(fd.get()), "u1");
  uint64_t cookie = cookieOf(fd.get());
  ASSERT_NE(cookie, 0u);

  int asked = 0;
  auto destroyed = destroyConnectedUdp(backendFor("127.0.0.1", server_->port()), [&](uint64_t c) {
    asked += c == cookie ? 1 : 0;
    return c == cookie;
  });
  ASSERT_TRUE(destroyed.ok()) << destroyed.error().message;
  EXPECT_EQ(*destroyed, 1);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(pendingError(fd.get()), "ECONNABORTED");
}

TEST_F(UdpReaperTest, KeepsSocketWhenPredicateRejects) {
  UniqueFd fd = connectedUdp(AF_INET, "127.0.0.1", server_->port());
  ASSERT_TRUE(fd.valid());
  uint64_t cookie = cookieOf(fd.get());

  int asked = 0;
  auto destroyed = destroyConnectedUdp(backendFor("127.0.0.1", server_->port()), [&](uint64_t c) {
    asked += c == cookie ? 1 : 0;
    return false;
  });
  ASSERT_TRUE(destroyed.ok()) << destroyed.error().message;
  EXPECT_EQ(*destroyed, 0);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(pendingError(fd.get()), "EAGAIN");
  EXPECT_EQ(roundTrip(fd.get()), "u1");
}

TEST_F(UdpReaperTest, KeepsSocketConnectedElsewhere) {
  UniqueFd fd = connectedUdp(AF_INET, "127.0.0.1", server_->port());
  ASSERT_TRUE(fd.valid());
  uint64_t cookie = cookieOf(fd.get());
  auto mine = [&](uint64_t c) { return c == cookie; };

  auto other_addr = destroyConnectedUdp(backendFor("127.0.0.2", server_->port()), mine);
  ASSERT_TRUE(other_addr.ok()) << other_addr.error().message;
  EXPECT_EQ(*other_addr, 0);

  auto other_port = destroyConnectedUdp(
      backendFor("127.0.0.1", static_cast<uint16_t>(server_->port() + 1)), mine);
  ASSERT_TRUE(other_port.ok()) << other_port.error().message;
  EXPECT_EQ(*other_port, 0);

  EXPECT_EQ(pendingError(fd.get()), "EAGAIN");
  EXPECT_EQ(roundTrip(fd.get()), "u1");
}

TEST_F(UdpReaperTest, IgnoresUnconnectedSocket) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid());
  auto to = Endpoint::parse("127.0.0.1", server_->port());
  ASSERT_TRUE(to.has_value());
  ASSERT_EQ(::sendto(fd.get(), "hi", 2, 0, to->sa(), to->len), 2);
  ASSERT_EQ(recvDatagram(fd.get(), kReplyTimeout), "u1");
  uint64_t cookie = cookieOf(fd.get());

  auto destroyed = destroyConnectedUdp(backendFor("127.0.0.1", server_->port()),
                                       [&](uint64_t c) { return c == cookie; });
  ASSERT_TRUE(destroyed.ok()) << destroyed.error().message;
  EXPECT_EQ(*destroyed, 0);
  EXPECT_EQ(pendingError(fd.get()), "EAGAIN");
}

TEST_F(UdpReaperTest, MappedIpv6SocketCountsForIpv4Backend) {
  UniqueFd fd = connectedUdp(AF_INET6, "::ffff:127.0.0.1", server_->port());
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(roundTrip(fd.get()), "u1");
  uint64_t cookie = cookieOf(fd.get());

  auto destroyed = destroyConnectedUdp(backendFor("127.0.0.1", server_->port()),
                                       [&](uint64_t c) { return c == cookie; });
  ASSERT_TRUE(destroyed.ok()) << destroyed.error().message;
  EXPECT_EQ(*destroyed, 1);
  EXPECT_EQ(pendingError(fd.get()), "ECONNABORTED");
}

TEST_F(UdpReaperTest, DestroysIpv6SocketsForIpv6Backend) {
  UniqueFd first = connectedUdp(AF_INET6, "::1", server6_->port());
  UniqueFd second = connectedUdp(AF_INET6, "::1", server6_->port());
  UniqueFd v4 = connectedUdp(AF_INET, "127.0.0.1", server6_->port());
  ASSERT_TRUE(first.valid());
  ASSERT_TRUE(second.valid());
  ASSERT_TRUE(v4.valid());
  ASSERT_EQ(roundTrip(first.get()), "u6");
  std::vector<uint64_t> cookies = {cookieOf(first.get()), cookieOf(second.get()),
                                   cookieOf(v4.get())};

  // The IPv4 socket shares the port but not the address family: it must stay.
  auto destroyed = destroyConnectedUdp(backendFor("::1", server6_->port()), [&](uint64_t c) {
    return std::find(cookies.begin(), cookies.end(), c) != cookies.end();
  });
  ASSERT_TRUE(destroyed.ok()) << destroyed.error().message;
  EXPECT_EQ(*destroyed, 2);
  EXPECT_EQ(pendingError(first.get()), "ECONNABORTED");
  EXPECT_EQ(pendingError(second.get()), "ECONNABORTED");
  EXPECT_EQ(pendingError(v4.get()), "EAGAIN");
}

}  // namespace
}  // namespace weft::e2e
