// SPDX-License-Identifier: Apache-2.0
// Connect-time balancing: exact round-robin spread, no redirect outside the mesh
// cgroup, and immediate ECONNREFUSED for a service without backends.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// A refusal decided in the connect hook returns at once; a SYN that goes unanswered
// would take a second or more to fail.
constexpr milliseconds kImmediate(500);

// "rc=-1 ECONNREFUSED fast": connect()'s return value and errno for a socket created
// with extra `flags`, and whether it returned within kImmediate.
std::string connectOutcome(const Endpoint& to, int flags) {
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC | flags, 0));
  auto start = Clock::now();
  int rc = ::connect(fd.get(), to.sa(), to.len);
  int err = rc == 0 ? 0 : errno;
  auto took = Clock::now() - start;
  bool fast = took < kImmediate;
  return "rc=" + std::to_string(rc) + " " + (rc == 0 ? "connected" : errnoName(err)) +
         (fast ? " fast" : " slow");
}

TEST_F(AgentTest, RoundRobinReachesEachBackendExactlyAndOnlyInsideTheMesh) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  auto& b3 = tcpServer("b3");
  AgentConfig config = sandbox_.baseConfig();
  std::vector<BackendSpec> backends = {backendOf(b1), backendOf(b2), backendOf(b3)};
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "round_robin", backends});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);

  std::string spread = runClient(sandbox_.procsFile(), [&] { return countNames(vip, 300); });
  EXPECT_EQ(spread, "b1=100 b2=100 b3=100");
  EXPECT_EQ(b1.accepted(), 100u);
  EXPECT_EQ(b2.accepted(), 100u);
  EXPECT_EQ(b3.accepted(), 100u);

  // Outside the cgroup nothing rewrites the vip, and the test namespace has no route
  // to it.
  std::string outside = runClient("", [&] { return fetchName(vip); });
  EXPECT_TRUE(outside == "error:connect:ENETUNREACH" || outside == "error:connect:ECONNREFUSED")
      << outside;
  EXPECT_EQ(b1.accepted() + b2.accepted() + b3.accepted(), 300u);
}

TEST_F(AgentTest, EmptyBackendSetRefusesImmediately) {
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"empty", "10.96.0.20", 80, "tcp", "round_robin", {}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.20", 80);

  std::string blocking = runClient(sandbox_.procsFile(), [&] { return connectOutcome(vip, 0); });
  EXPECT_EQ(blocking, "rc=-1 ECONNREFUSED fast");

  // Not EINPROGRESS: the refusal happens in the connect hook, before any packet.
  std::string nonblocking =
      runClient(sandbox_.procsFile(), [&] { return connectOutcome(vip, SOCK_NONBLOCK); });
  EXPECT_EQ(nonblocking, "rc=-1 ECONNREFUSED fast");
}

}  // namespace
}  // namespace weft::e2e
