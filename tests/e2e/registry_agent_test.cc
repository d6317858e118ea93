// SPDX-License-Identifier: Apache-2.0
// The agent on its registry: services registered through the API are reached through their
// allocated virtual IP, health checks take a dead backend out of the kernel's set and put it
// back, and registry content survives a kill -9 of the agent.
#include <gtest/gtest.h>

#include <functional>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/fixture.h"
#include "tests/e2e/servers.h"

namespace weft::e2e {
namespace {

using nlohmann::json;

class RegistryAgentTest : public AgentTest {
 protected:
  void startRegistryAgent() {
    config_ = sandbox_.baseConfig();
    ASSERT_NO_FATAL_FAILURE(startAgent(config_));
    ASSERT_TRUE(sandbox_.waitForLog("agent ready", milliseconds(10000))) << sandbox_.logText();
  }

  CommandResult api(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", config_.api_socket});
    return sandbox_.weftctl(args);
  }

  void registerEndpoint(const TcpNameServer& server) {
    auto r = api({"endpoint", "register", "web", "--host", server.ip(), "--port",
                  std::to_string(server.port()), "--check", "tcp", "--interval", "100ms",
                  "--timeout", "50ms"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // Registers web with one endpoint, ends weftd with `end`, starts it again and expects the
  // restarted agent to serve the same registry: same VIP, same endpoint, same backend.
  void expectRegistryKeptAcrossRestart(const std::function<void()>& end) {
    startRegistryAgent();
    auto b1 = TcpNameServer::start("b1", AF_INET);
    ASSERT_TRUE(b1);
    auto reg = api({"service", "register", "web", "--port", "80/tcp"});
    ASSERT_EQ(reg.exit_code, 0) << reg.err;
    registerEndpoint(*b1);
    std::string b1_addr = "127.0.0.1:" + std::to_string(b1->port());
    ASSERT_TRUE(sandbox_.waitForBackends("web", {b1_addr}));

    end();
    ASSERT_TRUE(sandbox_.startAgent());
    CommandResult show;
    for (int i = 0; i < 100 && show.exit_code != 0; ++i) {
      show = api({"-o", "json", "service", "show", "web"});
      std::this_thread::sleep_for(milliseconds(show.exit_code == 0 ? 0 : 50));
    }
    ASSERT_EQ(show.exit_code, 0) << show.err;
    json doc = json::parse(show.out, nullptr, false);
    EXPECT_EQ(doc.value("vip", ""), "10.96.0.1") << show.out;
    ASSERT_TRUE(doc.contains("endpoints")) << show.out;
    EXPECT_EQ(doc["endpoints"].size(), 1u) << show.out;
    EXPECT_TRUE(sandbox_.waitForBackends("web", {b1_addr}));
    Endpoint vip = endpoint("10.96.0.1", 80);
    EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 2); }), "b1=2");
  }

  AgentConfig config_;
};

TEST_F(RegistryAgentTest, ApiServiceIsReachedThroughItsVipAndLosesADeadBackendUntilItReturns) {
  startRegistryAgent();
  auto b1 = TcpNameServer::start("b1", AF_INET);
  auto b2 = TcpNameServer::start("b2", AF_INET);
  ASSERT_TRUE(b1 && b2);

  auto reg = api({"-o", "json", "service", "register", "web", "--port", "80/tcp"});
  ASSERT_EQ(reg.exit_code, 0) << reg.out << reg.err;
  // The lowest free address of the range, 10.96.0.0 being its network address.
  EXPECT_EQ(json::parse(reg.out, nullptr, false).value("vip", ""), "10.96.0.1") << reg.out;
  registerEndpoint(*b1);
  registerEndpoint(*b2);
  std::string b1_addr = "127.0.0.1:" + std::to_string(b1->port());
  std::string b2_addr = "127.0.0.1:" + std::to_string(b2->port());
  ASSERT_TRUE(sandbox_.waitForBackends("web", {b1_addr, b2_addr}));

  Endpoint vip = endpoint("10.96.0.1", 80);
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 4); }), "b1=2 b2=2");

  // 100 ms interval x 3 failures plus one sync: well inside two seconds.
  uint16_t b2_port = b2->port();
  b2.reset();
  std::string last;
  EXPECT_TRUE(sandbox_.waitForBackends("web", {b1_addr}, milliseconds(2000), &last)) << last;
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 4); }), "b1=4");

  // Back on the same port: two passing probes (the default healthy threshold) at 100 ms.
  b2 = TcpNameServer::startOn("b2", "127.0.0.1", b2_port);
  ASSERT_TRUE(b2);
  EXPECT_TRUE(sandbox_.waitForBackends("web", {b1_addr, b2_addr}, milliseconds(2000), &last))
      << last;
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 4); }), "b1=2 b2=2");
}

TEST_F(RegistryAgentTest, RegistrySurvivesACleanRestart) {
  expectRegistryKeptAcrossRestart([this] {
    EXPECT_EQ(sandbox_.agent().stop(), 0);  // SIGTERM: a clean exit
  });
}

TEST_F(RegistryAgentTest, RegistrySurvivesKillMinusNine) {
  expectRegistryKeptAcrossRestart([this] { sandbox_.agent().kill(); });
}

}  // namespace
}  // namespace weft::e2e
