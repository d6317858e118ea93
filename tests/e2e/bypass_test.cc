// SPDX-License-Identifier: Apache-2.0
// Bypass: a cgroup subtree below the mesh cgroup is left alone (its connects to a VIP are not
// rewritten), by config and by weftctl, while its siblings stay balanced.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/cgroup.h"
#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using json = nlohmann::json;

// Not rewritten: the test namespace has no route to the VIP (or nothing listens there).
bool untouched(const std::string& outcome) {
  return outcome == "error:connect:ENETUNREACH" || outcome == "error:connect:ECONNREFUSED";
}

size_t bypassCount(Sandbox& sandbox) {
  auto list = sandbox.weftctl({"-o", "json", "bypass", "list"});
  return list.exit_code == 0 ? json::parse(list.out, nullptr, false).size() : 999;
}

TEST_F(AgentTest, BypassedSubtreesAreNotBalancedBySiblingsAre) {
  std::string relative = sandbox_.cgroupPath().substr(cgroup2Mount().size() + 1);
  TestCgroup proxy(relative + "/proxy");
  TestCgroup proxy_child(relative + "/proxy/worker");
  TestCgroup app(relative + "/app");
  ASSERT_FALSE(proxy.path().empty() || proxy_child.path().empty() || app.path().empty());

  auto& b1 = tcpServer("b1");
  AgentConfig config = sandbox_.baseConfig();
  config.bypass_cgroups = {proxy.path()};
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);

  // The config's bypass covers the subtree; the sibling and the mesh cgroup itself balance.
  EXPECT_EQ(runClient(app.procsFile(), [&] { return countNames(vip, 3); }), "b1=3");
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 2); }), "b1=2");
  std::string from_proxy = runClient(proxy.procsFile(), [&] { return fetchName(vip); });
  EXPECT_TRUE(untouched(from_proxy)) << from_proxy;
  std::string from_worker = runClient(proxy_child.procsFile(), [&] { return fetchName(vip); });
  EXPECT_TRUE(untouched(from_worker)) << from_worker;
  EXPECT_EQ(b1.accepted(), 5u);

  // weftctl cannot remove what the config owns, and adds and removes its own entries.
  auto refused = sandbox_.weftctl({"bypass", "remove", proxy.path()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("bypassed by weftd's config file"), std::string::npos) << refused.err;
  auto missing = sandbox_.weftctl({"bypass", "add", sandbox_.cgroupPath() + "/nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("No such file or directory"), std::string::npos) << missing.err;

  ASSERT_EQ(sandbox_.weftctl({"bypass", "add", app.path()}).exit_code, 0);
  EXPECT_EQ(bypassCount(sandbox_), 2u);
  std::string from_app = runClient(app.procsFile(), [&] { return fetchName(vip); });
  EXPECT_TRUE(untouched(from_app)) << from_app;
  ASSERT_EQ(sandbox_.weftctl({"bypass", "remove", app.path()}).exit_code, 0);
  EXPECT_EQ(runClient(app.procsFile(), [&] { return countNames(vip, 1); }), "b1=1");

  // A reload without the bypass balances the proxy subtree again.
  config.bypass_cgroups.clear();
  ASSERT_TRUE(sandbox_.writeConfig(config));
  bool cleared = false;
  for (int i = 0; i < 100 && !cleared; ++i) {
    cleared = bypassCount(sandbox_) == 0;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(cleared) << sandbox_.logText();
  EXPECT_EQ(runClient(proxy_child.procsFile(), [&] { return countNames(vip, 2); }), "b1=2");
}

}  // namespace
}  // namespace weft::e2e
