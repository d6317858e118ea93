// SPDX-License-Identifier: Apache-2.0
// Config reloads: a removed backend gets no new connections while established TCP
// keeps working and balanced UDP sockets are closed; an invalid file changes nothing.
#include <gtest/gtest.h>
#include <poll.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using nlohmann::json;

constexpr milliseconds kReplyTimeout(3000);
// Round robin over two backends lands on each within two tries; the slack covers
// a start position we do not control.
constexpr int kTriesToReachBackend = 10;
// The reaper runs after the maps flip, so the test waits for its effect, bounded.
constexpr int kReapWaitMs = 5000;

// A connected UDP socket to `vip` whose replies come from `want`, or an invalid fd.
UniqueFd udpTo(const Endpoint& vip, const std::string& want) {
  for (int i = 0; i < kTriesToReachBackend; ++i) {
    UniqueFd fd(::socket(vip.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (::connect(fd.get(), vip.sa(), vip.len) == 0 && ::send(fd.get(), "hi", 2, 0) == 2 &&
        recvDatagram(fd.get(), kReplyTimeout) == want) {
      return fd;
    }
  }
  return UniqueFd();
}

// What the application sees on a UDP socket once weft closed it: the pending error.
std::string udpErrorAfterReap(int fd) {
  pollfd p{fd, POLLIN, 0};
  ::poll(&p, 1, kReapWaitMs);
  char c = 0;
  if (::recv(fd, &c, 1, MSG_DONTWAIT) >= 0) {
    return "data";
  }
  return errnoName(errno);
}

TEST_F(AgentTest, RemovedBackendDrainsNewTrafficOnly) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  auto& u1 = udpServer("u1");
  auto& u2 = udpServer("u2");
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back(
      {"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1), backendOf(b2)}});
  config.services.push_back(
      {"dns", "10.96.0.11", 53, "udp", "round_robin", {backendOf(u1), backendOf(u2)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint web = endpoint("10.96.0.10", 80);
  Endpoint dns = endpoint("10.96.0.11", 53);

  MeshClient client = MeshClient::start(sandbox_.procsFile(), [&](Channel& channel) {
    UniqueFd tcp = tcpTo(web, "b2");
    UniqueFd udp = udpTo(dns, "u2");
    channel.send(json{{"tcp", tcp.valid()}, {"udp", udp.valid()}}.dump());
    if (!channel.receive(milliseconds(20000))) {
      return;
    }
    json out;
    out["echo"] = sendAll(tcp.get(), "ping\n") ? recvLine(tcp.get(), kReplyTimeout).value_or("")
                                               : "error:send";
    out["new"] = countNames(web, 20);
    out["udp"] = udpErrorAfterReap(udp.get());
    channel.send(out.dump());
  });
  ASSERT_GT(client.pid(), 0);
  auto opened = client.channel().receive(milliseconds(10000));
  ASSERT_EQ(opened, R"({"tcp":true,"udp":true})");

  config.services[0].backends = {backendOf(b1)};
  config.services[1].backends = {backendOf(u1)};
  ASSERT_TRUE(sandbox_.writeConfig(config));
  ASSERT_TRUE(sandbox_.reloadAgent());
  ASSERT_NO_FATAL_FAILURE(expectServing(config));

  ASSERT_TRUE(client.channel().send("go"));
  auto raw = client.channel().receive(milliseconds(20000));
  ASSERT_TRUE(raw.has_value());
  json report = json::parse(*raw, nullptr, false);
  EXPECT_EQ(report["echo"], "ping") << *raw;
  EXPECT_EQ(report["new"], "b1=20") << *raw;
  EXPECT_EQ(report["udp"], "ECONNABORTED") << *raw;
}

TEST_F(AgentTest, InvalidConfigOnReloadKeepsRunningState) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back(
      {"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1), backendOf(b2)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  auto before = sandbox_.backendList("web");
  ASSERT_TRUE(before.has_value());

  AgentConfig invalid = config;
  invalid.services[0].backends = {backendOf(b1), {"127.0.0.1", 70000}};
  ASSERT_TRUE(sandbox_.writeConfig(invalid));
  ASSERT_TRUE(sandbox_.reloadAgent());
  // Errors name the offending value, so its appearance in the log means the reload
  // was read and judged.
  ASSERT_TRUE(sandbox_.waitForLog("70000", milliseconds(10000)));

  EXPECT_TRUE(sandbox_.agent().running());
  auto after = sandbox_.backendList("web");
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_EQ((*after)[i].backend_id, (*before)[i].backend_id);
    EXPECT_EQ((*after)[i].endpoint(), (*before)[i].endpoint());
  }
  Endpoint web = endpoint("10.96.0.10", 80);
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(web, 4); }), "b1=2 b2=2");
}

TEST_F(AgentTest, EditedConfigFileIsAppliedWithoutSignal) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back(
      {"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1), backendOf(b2)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));

  // No SIGHUP: the agent's inotify watch must notice the rewritten file by itself.
  config.services[0].backends = {backendOf(b2)};
  ASSERT_TRUE(sandbox_.writeConfig(config));
  ASSERT_NO_FATAL_FAILURE(expectServing(config));

  Endpoint web = endpoint("10.96.0.10", 80);
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(web, 4); }), "b2=4");
}

}  // namespace
}  // namespace weft::e2e
