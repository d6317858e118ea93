// SPDX-License-Identifier: Apache-2.0
// HealthChecker without network: endpoints without checks, not-yet-probed endpoints,
// targets that cannot be probed, and the probe slot queue. Probes against real servers are
// in tests/e2e/health_checker_test.cc.
#include "userspace/health/health_checker.h"

#include <gtest/gtest.h>

#include "userspace/health/probe_slots.h"
#include "userspace/health/prober.h"

namespace weft::health {
namespace {

registry::Endpoint endpoint(const char* host, uint16_t port, registry::HealthCheckKind kind) {
  registry::Endpoint ep;
  ep.service = "web";
  ep.ns = "default";
  ep.host = *IpAddr::parse(host);
  ep.port = port;
  ep.health.kind = kind;
  return ep;
}

TEST(HealthCheckerTest, EndpointsWithoutCheckAreHealthyAndNeverProbed) {
  boost::asio::io_context io;
  HealthChecker checker(io, nullptr);
  auto ep = endpoint("127.0.0.1", 8080, registry::HealthCheckKind::kNone);
  EXPECT_TRUE(checker.healthy(ep));  // even before setTargets
  checker.setTargets({ep});
  EXPECT_TRUE(checker.healthy(ep));
  EXPECT_EQ(checker.unknownCount(), 0u);
  EXPECT_EQ(io.poll(), 0u);  // no timer, no socket
  auto status = checker.status(ep);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->healthy);
  EXPECT_EQ(status->checks, 0u);
}

TEST(HealthCheckerTest, CheckedEndpointsAreNotHealthyBeforeTheirFirstProbe) {
  boost::asio::io_context io;
  HealthChecker checker(io, nullptr);
  auto ep = endpoint("127.0.0.1", 8080, registry::HealthCheckKind::kTcp);
  EXPECT_FALSE(checker.healthy(ep));  // unknown to the checker
  checker.setTargets({ep});
  EXPECT_FALSE(checker.healthy(ep));
  EXPECT_EQ(checker.unknownCount(), 1u);
  checker.setTargets({});
  EXPECT_EQ(checker.statuses().size(), 0u);
  EXPECT_FALSE(checker.status(ep).has_value());
}

TEST(HealthCheckerTest, TargetsWithoutAddressOrPortStayUnhealthy) {
  boost::asio::io_context io;
  HealthChecker checker(io, nullptr);
  auto zero_port = endpoint("127.0.0.1", 0, registry::HealthCheckKind::kTcp);
  auto unspecified = endpoint("0.0.0.0", 80, registry::HealthCheckKind::kHttp);
  auto no_family = endpoint("127.0.0.1", 80, registry::HealthCheckKind::kTcp);
  no_family.host = IpAddr{};
  checker.setTargets({zero_port, unspecified, no_family});
  EXPECT_EQ(io.poll(), 0u);
  for (const auto& status : checker.statuses()) {
    EXPECT_EQ(status.state, HealthState::kUnhealthy);
    EXPECT_FALSE(status.healthy);
    EXPECT_EQ(status.last_error, "endpoint has no address and port to probe");
  }
  EXPECT_EQ(checker.statuses().size(), 3u);
  EXPECT_EQ(checker.unknownCount(), 0u);
}

TEST(HealthCheckerTest, SafeHttpPaths) {
  EXPECT_TRUE(isSafeHttpPath("/healthz"));
  EXPECT_TRUE(isSafeHttpPath("/a/b?c=d"));
  EXPECT_FALSE(isSafeHttpPath(""));
  EXPECT_FALSE(isSafeHttpPath("healthz"));
  EXPECT_FALSE(isSafeHttpPath("/a b"));
  EXPECT_FALSE(isSafeHttpPath("/a\r\nHost: x"));
  EXPECT_FALSE(isSafeHttpPath("/\x7f"));
}

TEST(ProbeSlotsTest, QueuesBeyondTheCapInOrderAndSkipsGoneWaiters) {
  ProbeSlots slots(2);
  std::vector<int> started;
  auto waiter = [&](int id, bool alive) {
    return [&started, id, alive] {
      if (alive) {
        started.push_back(id);
      }
      return alive;
    };
  };
  slots.acquire(waiter(1, true));
  slots.acquire(waiter(2, true));
  slots.acquire(waiter(3, false));
  slots.acquire(waiter(4, true));
  EXPECT_EQ(started, (std::vector<int>{1, 2}));
  EXPECT_EQ(slots.inFlight(), 2u);
  EXPECT_EQ(slots.waiting(), 2u);
  slots.release();
  EXPECT_EQ(started, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(slots.inFlight(), 2u);
  EXPECT_EQ(slots.waiting(), 0u);
  slots.release();
  slots.release();
  slots.release();  // an extra release must not wrap the count
  EXPECT_EQ(slots.inFlight(), 0u);
}

}  // namespace
}  // namespace weft::health
