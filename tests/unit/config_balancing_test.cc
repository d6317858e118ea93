// SPDX-License-Identifier: Apache-2.0
// Config keys for Maglev and session affinity: parsing, defaults, the YAML round trip, and one
// rejection per rule with the exact message (field path, value, line).
#include <gtest/gtest.h>

#include <string>

#include "userspace/config/config_parser.h"
#include "userspace/config/config_validate.h"
#include "userspace/config/config_writer.h"

namespace weft {
namespace {

// One service whose balancing lines are `extra` (indented as service keys).
std::string serviceWith(const std::string& extra, const std::string& protocol = "tcp") {
  return "cgroup: /sys/fs/cgroup/unified/weft-test\n"
         "vip_ranges: [\"10.96.0.0/16\"]\n"
         "services:\n"
         "  - name: dns\n"
         "    vip: 10.96.0.53\n"
         "    port: 53\n"
         "    protocol: " +
         protocol + "\n" + extra;
}

std::string rejection(const std::string& yaml) {
  auto config = parseConfig(yaml);
  EXPECT_FALSE(config.ok()) << "accepted:\n" << yaml;
  return config.ok() ? "" : config.error().message;
}

TEST(ConfigBalancingTest, ReadsMaglevAndAffinityKeys) {
  auto config =
      parseConfig(serviceWith("    algorithm: maglev\n"
                              "    maglev_table_size: 251\n"
                              "    hash_key: client_addr_port\n"
                              "    affinity_timeout_seconds: 30\n"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  const ServiceConfig& svc = config->services.at(0);
  EXPECT_EQ(svc.algorithm, WEFT_LB_MAGLEV);
  EXPECT_EQ(svc.maglev_table_size, 251u);
  EXPECT_EQ(svc.hash_key, HashKey::kClientAddrPort);
  EXPECT_EQ(svc.affinity_timeout_s, 30u);
}

TEST(ConfigBalancingTest, DefaultsAndLimitsAreAccepted) {
  auto config = parseConfig(serviceWith(""));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->services[0].maglev_table_size, 0u);
  EXPECT_EQ(config->services[0].hash_key, HashKey::kClientAddr);
  EXPECT_EQ(config->services[0].affinity_timeout_s, 0u);

  config =
      parseConfig(serviceWith("    algorithm: random\n"
                              "    maglev_table_size: 131071\n"
                              "    affinity_timeout_seconds: 86400\n"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->services[0].affinity_timeout_s, 86400u);
  // Affinity works under any algorithm; least_conn is fine on TCP.
  config =
      parseConfig(serviceWith("    algorithm: least_conn\n"
                              "    affinity_timeout_seconds: 5\n"));
  ASSERT_TRUE(config.ok()) << config.error().message;
}

TEST(ConfigBalancingTest, RoundTripsThroughYamlAndLeavesDefaultsOut) {
  auto config =
      parseConfig(serviceWith("    algorithm: maglev\n"
                              "    maglev_table_size: 16381\n"
                              "    hash_key: client_addr_port\n"
                              "    affinity_timeout_seconds: 600\n"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  std::string yaml = toYaml(*config);
  auto again = parseConfig(yaml);
  ASSERT_TRUE(again.ok()) << again.error().message << "\n" << yaml;
  EXPECT_EQ(*again, *config) << yaml;

  auto plain = parseConfig(serviceWith(""));
  ASSERT_TRUE(plain.ok());
  std::string plain_yaml = toYaml(*plain);
  EXPECT_EQ(plain_yaml.find("maglev_table_size"), std::string::npos) << plain_yaml;
  EXPECT_EQ(plain_yaml.find("hash_key"), std::string::npos) << plain_yaml;
  EXPECT_EQ(plain_yaml.find("affinity_timeout_seconds"), std::string::npos) << plain_yaml;
}

TEST(ConfigBalancingTest, RejectsTableSizesThatAreNotUsablePrimes) {
  EXPECT_EQ(rejection(serviceWith("    maglev_table_size: 1000\n")),
            "services[0].maglev_table_size: 1000 is not a prime in 251..131071 (0 picks the "
            "default 16381) (line 8, column 24)");
  // Primes outside the range, and the range's composite neighbours.
  for (const char* size : {"241", "131101", "252", "131070"}) {
    std::string message = rejection(serviceWith("    maglev_table_size: " + std::string(size)));
    EXPECT_EQ(message.rfind("services[0].maglev_table_size: " + std::string(size) +
                                " is not a prime in 251..131071",
                            0),
              0u)
        << message;
  }
  EXPECT_EQ(rejection(serviceWith("    maglev_table_size: -1\n")),
            "services[0].maglev_table_size: -1 is not in 0..4294967295 (line 8, column 24)");
}

TEST(ConfigBalancingTest, RejectsBadHashKeysAndTimeouts) {
  EXPECT_EQ(rejection(serviceWith("    hash_key: client_port\n")),
            "services[0].hash_key: \"client_port\" is not one of client_addr, client_addr_port "
            "(line 8, column 15)");
  EXPECT_EQ(rejection(serviceWith("    affinity_timeout_seconds: 86401\n")),
            "services[0].affinity_timeout_seconds: 86401 is not in 0..86400 (line 8, column 31)");
  EXPECT_EQ(rejection(serviceWith("    affinity_timeout_seconds: \"30\"\n")),
            "services[0].affinity_timeout_seconds: \"30\" is a quoted string, not an integer "
            "(line 8, column 31)");
}

TEST(ConfigBalancingTest, RejectsLeastConnOnUdp) {
  EXPECT_EQ(rejection(serviceWith("    algorithm: least_conn\n", "udp")),
            "services[0].algorithm: least_conn counts TCP connections; service \"dns\" port 53 "
            "is udp (line 8, column 16)");
}

TEST(ConfigBalancingTest, SharedChecksNameTheValue) {
  EXPECT_EQ(maglevTableSizeProblem(0), "");
  EXPECT_EQ(maglevTableSizeProblem(251), "");
  EXPECT_EQ(maglevTableSizeProblem(16381), "");
  EXPECT_EQ(maglevTableSizeProblem(131071), "");
  EXPECT_EQ(maglevTableSizeProblem(1),
            "1 is not a prime in 251..131071 (0 picks the default 16381)");
  EXPECT_NE(maglevTableSizeProblem(16383), "");        // 3 * 43 * 127
  EXPECT_NE(maglevTableSizeProblem(4294967291u), "");  // prime, far past the maximum
  EXPECT_EQ(leastConnUdpProblem("dns", 53),
            "least_conn counts TCP connections; service \"dns\" port 53 is udp");
}

}  // namespace
}  // namespace weft
