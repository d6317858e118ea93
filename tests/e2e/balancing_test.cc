// SPDX-License-Identifier: Apache-2.0
// Connect-time balancing: exact round-robin spread, random spread under a chi-square
// bound, no redirect outside the mesh cgroup, and immediate ECONNREFUSED for a service
// without backends.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
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

// "b1=310 b2=295" -> {b1: 310, b2: 295}.
std::map<std::string, int> parseCounts(const std::string& text) {
  std::map<std::string, int> out;
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    auto eq = item.rfind('=');
    out[item.substr(0, eq)] = eq == std::string::npos ? -1 : std::stoi(item.substr(eq + 1));
  }
  return out;
}

TEST_F(AgentTest, RandomSpreadPassesAChiSquareTest) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  auto& b3 = tcpServer("b3");
  AgentConfig config = sandbox_.baseConfig();
  std::vector<BackendSpec> backends = {backendOf(b1), backendOf(b2), backendOf(b3)};
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "random", backends});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);

  constexpr int kConnects = 900;
  // The chi-square quantile for 2 degrees of freedom at p = 1e-6: a fair picker exceeds it
  // once in a million runs.
  constexpr double kChiSquareLimit = 27.63;
  std::string spread = runClient(sandbox_.procsFile(), [&] { return countNames(vip, kConnects); });
  auto counts = parseCounts(spread);
  ASSERT_EQ(counts.size(), 3u) << spread;
  double expected = kConnects / 3.0;
  double chi_square = 0;
  for (const char* name : {"b1", "b2", "b3"}) {
    double diff = counts[name] - expected;
    chi_square += diff * diff / expected;
  }
  std::printf("random over 3 backends, %d connects: %s, chi-square %.2f (limit %.2f)\n", kConnects,
              spread.c_str(), chi_square, kChiSquareLimit);
  EXPECT_LT(chi_square, kChiSquareLimit) << spread;
}

TEST_F(AgentTest, WeightedSharesFollowTheWeightsExactlyAndWeightZeroGetsNothing) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  auto& b3 = tcpServer("b3");
  AgentConfig config = sandbox_.baseConfig();
  std::vector<BackendSpec> backends = {backendOf(b1), backendOf(b2), backendOf(b3)};
  backends[0].weight = 300;
  backends[1].weight = 100;
  backends[2].weight = 0;  // drained: no new connections
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "weighted", backends});
  sandbox_.writeConfig(config);
  ASSERT_TRUE(sandbox_.startAgent());
  std::string last;
  std::string b1_addr = "127.0.0.1:" + std::to_string(b1.port());
  std::string b2_addr = "127.0.0.1:" + std::to_string(b2.port());
  // The slots repeat b1 three times for each b2: 4 slots, taken in turn.
  ASSERT_TRUE(sandbox_.waitForBackends("web", {b1_addr, b1_addr, b2_addr, b1_addr},
                                       milliseconds(10000), &last))
      << last << sandbox_.logText();
  Endpoint vip = endpoint("10.96.0.10", 80);

  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 400); }), "b1=300 b2=100");
  EXPECT_EQ(b3.accepted(), 0u);

  // A new weight takes effect for the next connects: 1:1 now.
  config.services[0].backends[1].weight = 300;
  sandbox_.writeConfig(config);
  ASSERT_TRUE(sandbox_.waitForBackends("web", {b1_addr, b2_addr}, milliseconds(10000), &last))
      << last << sandbox_.logText();
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 200); }), "b1=100 b2=100");
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
