// SPDX-License-Identifier: Apache-2.0
// Least connections: the sockops counts follow live connections (up on establish, down on
// close, refused connects never counted) and new connects go to the less loaded backend. UDP
// services cannot use it: weftd refuses such a config at start and on reload.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr milliseconds kReplyTimeout(3000);
constexpr milliseconds kCountTimeout(5000);
constexpr int kHeld = 5;

// "127.0.0.1:8081" -> active_connections, from `weftctl backend list SERVICE -o json`;
// empty when weftctl failed.
std::map<std::string, uint64_t> activeCounts(Sandbox& sandbox, const std::string& service) {
  std::map<std::string, uint64_t> out;
  CommandResult r = sandbox.weftctl({"-o", "json", "backend", "list", service});
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  if (r.exit_code != 0 || !doc.is_array()) {
    return out;
  }
  for (const auto& row : doc) {
    std::string key = row.value("address", "") + ":" + std::to_string(row.value("port", 0u));
    out[key] = row.value("active_connections", uint64_t{9999});
  }
  return out;
}

// Polls until the service's counts equal `want` (the data path lowers a count when the
// kernel moves the socket to TCP_CLOSE, a moment after close() returns).
bool waitForCounts(Sandbox& sandbox, const std::string& service,
                   const std::map<std::string, uint64_t>& want, std::string* last) {
  auto deadline = Clock::now() + kCountTimeout;
  while (true) {
    auto seen = activeCounts(sandbox, service);
    if (seen == want) {
      return true;
    }
    if (Clock::now() >= deadline) {
      *last = "counts:";
      for (const auto& [backend, count] : seen) {
        *last += " " + backend + "=" + std::to_string(count);
      }
      return false;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

std::string addrOf(const TcpNameServer& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

TEST_F(AgentTest, LeastConnSendsNewConnectsToTheBackendWithFewerLiveOnes) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  AgentConfig config = sandbox_.baseConfig();
  // b1 alone first, so the held connections all land there.
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "least_conn", {backendOf(b1)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);
  std::string last;

  // Holds kHeld connections open until told to close them: 3 with RST, the rest with FIN.
  MeshClient holder = MeshClient::start(sandbox_.procsFile(), [&](Channel& channel) {
    std::vector<UniqueFd> fds;
    std::string names;
    for (int i = 0; i < kHeld; ++i) {
      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      int err = connectWithin(fd.get(), vip, kReplyTimeout);
      auto name = err == 0 ? recvLine(fd.get(), kReplyTimeout) : std::nullopt;
      names += (name ? *name : "error:" + errnoName(err)) + " ";
      fds.push_back(std::move(fd));
    }
    channel.send(names);
    if (!channel.receive(milliseconds(30000))) {
      return;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (i < 3) {
        setLingerZero(fds[i].get());
      }
      fds[i].reset();
    }
    channel.send("closed");
    // Stays alive a moment so the FIN closes finish while the process exists.
    channel.receive(milliseconds(5000));
  });
  ASSERT_EQ(holder.channel().receive(milliseconds(20000)), "b1 b1 b1 b1 b1 ");
  ASSERT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), kHeld}}, &last)) << last;

  config.services[0].backends.push_back(backendOf(b2));
  ASSERT_TRUE(sandbox_.writeConfig(config));
  ASSERT_TRUE(sandbox_.waitForBackends("web", {addrOf(b1), addrOf(b2)}, milliseconds(10000), &last))
      << last << sandbox_.logText();
  ASSERT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), kHeld}, {addrOf(b2), 0}}, &last))
      << last;

  // Each short connect closes with RST before the next, so b2 stays below b1's 5: two
  // choices over two backends always compare b1 with b2.
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 40); }), "b2=40");
  EXPECT_EQ(b1.accepted(), static_cast<uint64_t>(kHeld));
  EXPECT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), kHeld}, {addrOf(b2), 0}}, &last))
      << last;

  ASSERT_TRUE(holder.channel().send("close"));
  ASSERT_EQ(holder.channel().receive(milliseconds(10000)), "closed");
  EXPECT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), 0}, {addrOf(b2), 0}}, &last)) << last;
  holder.channel().send("done");
  EXPECT_TRUE(holder.wait(milliseconds(10000)));

  // Equal loads again: both backends take new connects.
  std::string spread = runClient(sandbox_.procsFile(), [&] { return countNames(vip, 40); });
  EXPECT_NE(spread.find("b1="), std::string::npos) << spread;
  EXPECT_NE(spread.find("b2="), std::string::npos) << spread;
}

TEST_F(AgentTest, LeastConnNeverCountsARefusedConnect) {
  auto& b1 = tcpServer("b1");
  // Bound but not listening: the kernel answers a SYN with RST, the connect fails.
  UniqueFd dead(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(dead.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(dead.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  uint16_t dead_port = ntohs(addr.sin_port);
  std::string dead_addr = "127.0.0.1:" + std::to_string(dead_port);

  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"web",
                             "10.96.0.10",
                             80,
                             "tcp",
                             "least_conn",
                             {backendOf(b1), BackendSpec{"127.0.0.1", dead_port}}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);
  std::string last;

  // Holds one connection to b1, so every later connect prefers the dead backend (0 < 1)
  // while its refusals leave its count at 0.
  MeshClient holder = MeshClient::start(sandbox_.procsFile(), [&](Channel& channel) {
    UniqueFd fd;
    std::string name;
    for (int i = 0; i < 20 && name != "b1"; ++i) {
      fd = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      name = connectWithin(fd.get(), vip, kReplyTimeout) == 0
                 ? recvLine(fd.get(), kReplyTimeout).value_or("")
                 : "";
    }
    channel.send(name);
    channel.receive(milliseconds(30000));
  });
  ASSERT_EQ(holder.channel().receive(milliseconds(20000)), "b1");
  ASSERT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), 1}, {dead_addr, 0}}, &last)) << last;

  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 20); }),
            "error:connect:ECONNREFUSED=20");
  EXPECT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), 1}, {dead_addr, 0}}, &last)) << last;

  holder.channel().send("done");
  EXPECT_TRUE(holder.wait(milliseconds(10000)));
  EXPECT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), 0}, {dead_addr, 0}}, &last)) << last;
}

TEST_F(AgentTest, LeastConnCountsSurviveAnAgentRestartAndStillComeDownOnClose) {
  auto& b1 = tcpServer("b1");
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "least_conn", {backendOf(b1)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);
  std::string last;

  MeshClient holder = MeshClient::start(sandbox_.procsFile(), [&](Channel& channel) {
    std::vector<UniqueFd> fds;
    std::string names;
    for (int i = 0; i < 2; ++i) {
      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      int err = connectWithin(fd.get(), vip, kReplyTimeout);
      names += (err == 0 ? recvLine(fd.get(), kReplyTimeout).value_or("?") : "error") + " ";
      fds.push_back(std::move(fd));
    }
    channel.send(names);
    channel.receive(milliseconds(30000));
  });
  ASSERT_EQ(holder.channel().receive(milliseconds(20000)), "b1 b1 ");
  ASSERT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), 2}}, &last)) << last;

  // The new agent adopts the pinned maps and updates the links to its own programs; the
  // sockets' storage is pinned too, so their closes still find what to lower.
  sandbox_.agent().kill();
  ASSERT_TRUE(sandbox_.startAgent());
  ASSERT_NO_FATAL_FAILURE(expectServing(config));
  EXPECT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), 2}}, &last)) << last;

  holder.channel().send("done");
  EXPECT_TRUE(holder.wait(milliseconds(10000)));
  EXPECT_TRUE(waitForCounts(sandbox_, "web", {{addrOf(b1), 0}}, &last)) << last;
}

// The validator's words (JSON-escaped in the log, hence no quotes in these pieces).
constexpr const char* kLeastConnUdp = "least_conn counts TCP connections";

TEST_F(AgentTest, LeastConnOnAUdpServiceIsRefusedAtStartAndOnReload) {
  auto& u1 = udpServer("u1");
  auto& b1 = tcpServer("b1");
  AgentConfig bad = sandbox_.baseConfig();
  bad.services.push_back({"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1)}});
  bad.services.push_back({"dns", "10.96.0.11", 53, "udp", "least_conn", {backendOf(u1)}});
  ASSERT_TRUE(sandbox_.writeConfig(bad));
  ASSERT_TRUE(sandbox_.startAgent());
  int status = sandbox_.agent().waitExit(milliseconds(10000));
  ASSERT_NE(status, -1) << "weftd kept running on a least_conn udp service\n" << sandbox_.logText();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status;
  std::string log = sandbox_.logText();
  EXPECT_NE(log.find(kLeastConnUdp), std::string::npos) << log;
  EXPECT_NE(log.find("services[1].algorithm"), std::string::npos) << log;
  EXPECT_NE(log.find("port 53 is udp"), std::string::npos) << log;

  // A running agent keeps its state when a reload brings the same mistake.
  AgentConfig good = bad;
  good.services[1].algorithm = "round_robin";
  ASSERT_NO_FATAL_FAILURE(startAgent(good));
  auto before = sandbox_.backendList("dns");
  ASSERT_TRUE(before.has_value());
  size_t log_size = sandbox_.logText().size();
  ASSERT_TRUE(sandbox_.writeConfig(bad));
  ASSERT_TRUE(sandbox_.reloadAgent());
  auto deadline = Clock::now() + milliseconds(10000);
  while (sandbox_.logText().find(kLeastConnUdp, log_size) == std::string::npos &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_NE(sandbox_.logText().find(kLeastConnUdp, log_size), std::string::npos)
      << sandbox_.logText();
  EXPECT_TRUE(sandbox_.agent().running());
  json services =
      json::parse(sandbox_.weftctl({"-o", "json", "service", "list"}).out, nullptr, false);
  for (const json& svc : services) {
    if (svc.is_object() && svc.value("port", 0) == 53) {
      EXPECT_EQ(svc.value("algorithm", ""), "round_robin") << services.dump();
    }
  }
  auto after = sandbox_.backendList("dns");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->size(), before->size());
}

}  // namespace
}  // namespace weft::e2e
