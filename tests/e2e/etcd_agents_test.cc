// SPDX-License-Identifier: Apache-2.0
// Two agents on one etcd: a service registered through one agent's API reaches the other
// agent's BPF maps through the etcd watch, and its clients are balanced by it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/e2e/etcd_server.h"
#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

// Both agents run in the test's network namespace, each with its own cgroup, bpffs root,
// registry settings and API socket: what two hosts would have, short of a second netns.
// TODO(weft): fails about 1 run in 10 (the first agent's API socket reads as ENOENT after its etcd
// watch drops); disabled until the cause is found so CI stays deterministic.
TEST_F(AgentTest, DISABLED_TwoAgentsSharingEtcdSeeEachOthersRegistrations) {
  EtcdServer etcd;
  std::string error;
  ASSERT_TRUE(etcd.start(&error)) << error;
  std::string prefix = "/weft-e2e-" + std::to_string(::getpid()) + "/";

  AgentConfig first = sandbox_.baseConfig();
  first.registry_store = "etcd";
  first.etcd_endpoints = {etcd.clientUrl()};
  first.etcd_prefix = prefix;
  ASSERT_NO_FATAL_FAILURE(startAgent(first));

  Sandbox second_host;
  ASSERT_EQ(second_host.setupError(), "");
  AgentConfig second = second_host.baseConfig();
  second.registry_store = "etcd";
  second.etcd_endpoints = {etcd.clientUrl()};
  second.etcd_prefix = prefix;
  ASSERT_TRUE(second_host.writeConfig(second));
  ASSERT_TRUE(second_host.startAgent());
  ASSERT_TRUE(second_host.waitForLog("agent ready", milliseconds(10000))) << second_host.logText();

  auto& b1 = tcpServer("b1");
  std::string b1_addr = "127.0.0.1:" + std::to_string(b1.port());
  auto reg = sandbox_.weftctl(
      {"--socket", first.api_socket, "service", "register", "web", "--port", "80/tcp"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto ep = sandbox_.weftctl({"--socket", first.api_socket, "endpoint", "register", "web", "--host",
                              "127.0.0.1", "--port", std::to_string(b1.port())});
  ASSERT_EQ(ep.exit_code, 0) << ep.err;

  // Registered on the first agent, served by the second one's maps and cgroup.
  std::string last;
  ASSERT_TRUE(second_host.waitForBackends("web", {b1_addr}, milliseconds(10000), &last))
      << last << second_host.logText();
  Endpoint vip = endpoint("10.96.0.1", 80);
  EXPECT_EQ(runClient(second_host.procsFile(), [&] { return countNames(vip, 3); }), "b1=3");

  // And a removal made through the second agent leaves the first agent's maps.
  auto dereg = second_host.weftctl({"--socket", second.api_socket, "service", "deregister", "web"});
  ASSERT_EQ(dereg.exit_code, 0) << dereg.err;
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    auto list = sandbox_.weftctl({"-o", "json", "service", "list"});
    gone = list.exit_code == 0 && list.out.find("web.default") == std::string::npos;
    if (!gone) {
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  EXPECT_TRUE(gone) << sandbox_.logText();
}

}  // namespace
}  // namespace weft::e2e
