// SPDX-License-Identifier: Apache-2.0
// weftctl's registry flag parsers: ports, labels, checks and durations.
#include <gtest/gtest.h>

#include "userspace/cli/api_flags.h"

namespace weft::cli {
namespace {

TEST(ApiFlagsTest, ServicePorts) {
  auto plain = parseServicePort("80");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->protocol, WEFT_PROTO_TCP);
  EXPECT_EQ(plain->name, "");

  auto named = parseServicePort("metrics:9090/udp");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->name, "metrics");
  EXPECT_EQ(named->port, 9090);
  EXPECT_EQ(named->protocol, WEFT_PROTO_UDP);

  for (const char* bad : {"0", "65536", "80/sctp", "x:", "web", "", "80/"}) {
    auto parsed = parseServicePort(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find("--port"), std::string::npos);
    }
  }
}

TEST(ApiFlagsTest, Labels) {
  auto labels = parseLabels({"app=web", "tier=", "k=a=b"}, "--label");
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->at("app"), "web");
  EXPECT_EQ(labels->at("tier"), "");
  EXPECT_EQ(labels->at("k"), "a=b");
  EXPECT_FALSE(parseLabels({"novalue"}, "--label").ok());
  EXPECT_FALSE(parseLabels({"=v"}, "--label").ok());
  EXPECT_FALSE(parseLabels({"a=1", "a=2"}, "--label").ok());
}

TEST(ApiFlagsTest, Checks) {
  registry::HealthCheck health;
  ASSERT_TRUE(parseCheck("http:/health", &health).ok());
  EXPECT_EQ(health.kind, registry::HealthCheckKind::kHttp);
  EXPECT_EQ(health.http_path, "/health");
  ASSERT_TRUE(parseCheck("tcp", &health).ok());
  EXPECT_EQ(health.kind, registry::HealthCheckKind::kTcp);
  ASSERT_TRUE(parseCheck("none", &health).ok());
  EXPECT_EQ(health.kind, registry::HealthCheckKind::kNone);
  EXPECT_FALSE(parseCheck("icmp", &health).ok());
}

TEST(ApiFlagsTest, Durations) {
  EXPECT_EQ(*parseDurationMs("500ms", "--timeout"), 500u);
  EXPECT_EQ(*parseDurationMs("1s", "--interval"), 1000u);
  EXPECT_EQ(*parseDurationMs("1.5s", "--interval"), 1500u);
  EXPECT_EQ(*parseDurationMs("2m", "--interval"), 120000u);
  EXPECT_EQ(*parseDurationMs("1h", "--interval"), 3600000u);
  for (const char* bad : {"", "5", "s", "1x", "1.2.3s", "-1s", "9999999h"}) {
    auto parsed = parseDurationMs(bad, "--interval");
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find("--interval"), std::string::npos);
    }
  }
  EXPECT_EQ(*parseDurationSeconds("30s", "--ttl"), 30u);
  EXPECT_EQ(*parseDurationSeconds("2m", "--ttl"), 120u);
  EXPECT_FALSE(parseDurationSeconds("1500ms", "--ttl").ok());
}

}  // namespace
}  // namespace weft::cli
