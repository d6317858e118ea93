// SPDX-License-Identifier: Apache-2.0
// Health verdict thresholds: first success, consecutive failures, recovery, zero thresholds.
#include "userspace/health/health_verdict.h"

#include <gtest/gtest.h>

namespace weft::health {
namespace {

registry::HealthCheck check(uint32_t healthy, uint32_t unhealthy) {
  registry::HealthCheck c;
  c.kind = registry::HealthCheckKind::kHttp;
  c.healthy_threshold = healthy;
  c.unhealthy_threshold = unhealthy;
  return c;
}

TEST(HealthVerdictTest, UnknownIsNotHealthyAndFirstSuccessMakesHealthy) {
  HealthVerdict v;
  EXPECT_EQ(v.state(), HealthState::kUnknown);
  EXPECT_FALSE(v.healthy());
  EXPECT_TRUE(v.record(true, check(3, 3)));
  EXPECT_EQ(v.state(), HealthState::kHealthy);
}

TEST(HealthVerdictTest, UnknownBecomesUnhealthyAfterThresholdFailures) {
  HealthVerdict v;
  auto c = check(2, 2);
  EXPECT_FALSE(v.record(false, c));
  EXPECT_EQ(v.state(), HealthState::kUnknown);
  EXPECT_FALSE(v.record(false, c));  // healthy() was false and stays false
  EXPECT_EQ(v.state(), HealthState::kUnhealthy);
}

TEST(HealthVerdictTest, ConsecutiveFailuresFlipAndSuccessesResetTheCount) {
  HealthVerdict v(HealthState::kHealthy);
  auto c = check(2, 3);
  EXPECT_FALSE(v.record(false, c));
  EXPECT_FALSE(v.record(false, c));
  EXPECT_FALSE(v.record(true, c));  // resets the failure run
  EXPECT_FALSE(v.record(false, c));
  EXPECT_FALSE(v.record(false, c));
  EXPECT_EQ(v.consecutiveFailures(), 2u);
  EXPECT_TRUE(v.record(false, c));
  EXPECT_EQ(v.state(), HealthState::kUnhealthy);
}

TEST(HealthVerdictTest, RecoveryNeedsHealthyThresholdSuccesses) {
  HealthVerdict v(HealthState::kUnhealthy);
  auto c = check(3, 1);
  EXPECT_FALSE(v.record(true, c));
  EXPECT_FALSE(v.record(true, c));
  EXPECT_FALSE(v.record(false, c));  // run broken
  EXPECT_FALSE(v.record(true, c));
  EXPECT_FALSE(v.record(true, c));
  EXPECT_TRUE(v.record(true, c));
  EXPECT_TRUE(v.healthy());
  EXPECT_EQ(v.consecutiveSuccesses(), 3u);
}

TEST(HealthVerdictTest, ZeroThresholdsCountAsOne) {
  HealthVerdict v(HealthState::kHealthy);
  auto c = check(0, 0);
  EXPECT_TRUE(v.record(false, c));
  EXPECT_TRUE(v.record(true, c));
}

TEST(HealthVerdictTest, StateNames) {
  EXPECT_STREQ(healthStateName(HealthState::kUnknown), "unknown");
  EXPECT_STREQ(healthStateName(HealthState::kHealthy), "healthy");
  EXPECT_STREQ(healthStateName(HealthState::kUnhealthy), "unhealthy");
}

}  // namespace
}  // namespace weft::health
