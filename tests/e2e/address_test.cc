// SPDX-License-Identifier: Apache-2.0
// Address transparency: getpeername and UDP reply sources show the virtual address,
// for IPv4, IPv6 and IPv4-mapped IPv6 sockets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using nlohmann::json;

constexpr milliseconds kReplyTimeout(3000);

// Connects over TCP and reports {"name": greeting, "peer": getpeername()}.
json tcpProbe(const Endpoint& vip) {
  UniqueFd fd(::socket(vip.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (int err = connectWithin(fd.get(), vip, kReplyTimeout); err != 0) {
    return {{"name", "error:connect:" + errnoName(err)}, {"peer", ""}};
  }
  int err = 0;
  auto name = recvLine(fd.get(), kReplyTimeout, &err);
  return {{"name", name ? *name : "error:recv:" + errnoName(err)}, {"peer", peerOf(fd.get())}};
}

json udpUnconnectedProbe(const Endpoint& vip) {
  UniqueFd fd(::socket(vip.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (::sendto(fd.get(), "hi", 2, 0, vip.sa(), vip.len) != 2) {
    return {{"reply", "error:sendto:" + errnoName(errno)}, {"from", ""}};
  }
  int err = 0;
  Endpoint from;
  auto reply = recvDatagram(fd.get(), kReplyTimeout, &err, &from);
  return {{"reply", reply ? *reply : "error:recv:" + errnoName(err)},
          {"from", reply ? from.str() : ""}};
}

json udpConnectedProbe(const Endpoint& vip) {
  UniqueFd fd(::socket(vip.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), vip.sa(), vip.len) != 0) {
    return {{"reply", "error:connect:" + errnoName(errno)}, {"peer", ""}};
  }
  if (::send(fd.get(), "hi", 2, 0) != 2) {
    return {{"reply", "error:send:" + errnoName(errno)}, {"peer", peerOf(fd.get())}};
  }
  int err = 0;
  auto reply = recvDatagram(fd.get(), kReplyTimeout, &err);
  return {{"reply", reply ? *reply : "error:recv:" + errnoName(err)}, {"peer", peerOf(fd.get())}};
}

TEST_F(AgentTest, BalancedSocketsReportTheVirtualAddress) {
  auto& b1 = tcpServer("b1");
  auto& u1 = udpServer("u1");
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1)}});
  config.services.push_back({"dns", "10.96.0.11", 53, "udp", "round_robin", {backendOf(u1)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint web = endpoint("10.96.0.10", 80);
  Endpoint dns = endpoint("10.96.0.11", 53);

  std::string raw = runClient(sandbox_.procsFile(), [&] {
    return json{{"tcp", tcpProbe(web)},
                {"udp", udpUnconnectedProbe(dns)},
                {"udp_connected", udpConnectedProbe(dns)}}
        .dump();
  });
  json report = json::parse(raw, nullptr, false);
  ASSERT_TRUE(report.is_object()) << raw;
  EXPECT_EQ(report["tcp"], json({{"name", "b1"}, {"peer", "10.96.0.10:80"}}));
  EXPECT_EQ(report["udp"], json({{"reply", "u1"}, {"from", "10.96.0.11:53"}}));
  EXPECT_EQ(report["udp_connected"], json({{"reply", "u1"}, {"peer", "10.96.0.11:53"}}));
  EXPECT_EQ(u1.received(), 2u);
}

TEST_F(AgentTest, Ipv6AndMappedIpv4Services) {
  auto& b1 = tcpServer("b1");
  auto& b6 = tcpServer("b6", AF_INET6);
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1)}});
  config.services.push_back({"web6", "fd00:96::10", 80, "tcp", "round_robin", {backendOf(b6)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint web6 = endpoint("fd00:96::10", 80);
  Endpoint mapped = endpoint("::ffff:10.96.0.10", 80);

  std::string raw = runClient(sandbox_.procsFile(), [&] {
    return json{{"v6", tcpProbe(web6)}, {"mapped", tcpProbe(mapped)}}.dump();
  });
  json report = json::parse(raw, nullptr, false);
  ASSERT_TRUE(report.is_object()) << raw;
  EXPECT_EQ(report["v6"], json({{"name", "b6"}, {"peer", "[fd00:96::10]:80"}}));
  EXPECT_EQ(report["mapped"], json({{"name", "b1"}, {"peer", "[::ffff:10.96.0.10]:80"}}));
}

}  // namespace
}  // namespace weft::e2e
