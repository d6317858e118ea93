// SPDX-License-Identifier: Apache-2.0
// parseConfig / loadConfigFile: a full valid config, defaults, the round trip through toYaml,
// and one case per rejection with the message it must carry.
#include "userspace/config/config_parser.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "userspace/config/config_writer.h"

namespace weft {
namespace {

constexpr const char* kFullConfig = R"(
cgroup: /sys/fs/cgroup/unified/weft-demo-1234
bpffs_root: /sys/fs/bpf/weft-test
log_level: debug
vip_ranges: ["10.96.0.0/16", "fd00:96::/112"]
services:
  - name: web
    vip: 10.96.0.10
    port: 80
    protocol: tcp
    algorithm: round_robin
    backends:
      - address: 127.0.0.1
        port: 8081
      - address: 127.0.0.2
        port: 8082
  - name: dns
    vip: 10.96.0.53
    port: 53
    protocol: udp
    algorithm: random
    backends:
      - address: 127.0.0.1
        port: 5353
  - name: web6
    vip: fd00:96::10
    port: 443
    backends:
      - address: "::1"
        port: 8443
  - name: empty
    vip: 10.96.0.20
    port: 80
    backends: []
)";

// A valid base to break one field at a time.
std::string withService(const std::string& service_yaml, const std::string& extra_top = "") {
  return "cgroup: /sys/fs/cgroup/unified/weft-test\n"
         "vip_ranges: [\"10.96.0.0/16\", \"fd00:96::/112\"]\n" +
         extra_top + "services:\n" + service_yaml;
}

constexpr const char* kWeb = R"(  - name: web
    vip: 10.96.0.10
    port: 80
    backends:
      - address: 127.0.0.1
        port: 8081
)";

void expectRejected(const std::string& yaml, const std::string& expected) {
  auto config = parseConfig(yaml);
  ASSERT_FALSE(config.ok()) << "accepted:\n" << yaml;
  EXPECT_NE(config.error().message.find(expected), std::string::npos)
      << "message: " << config.error().message << "\nexpected to contain: " << expected;
}

TEST(ConfigParserTest, ParsesFullConfig) {
  auto config = parseConfig(kFullConfig);
  ASSERT_TRUE(config.ok()) << config.error().message;

  EXPECT_EQ(config->cgroup, "/sys/fs/cgroup/unified/weft-demo-1234");
  EXPECT_EQ(config->bpffs_root, "/sys/fs/bpf/weft-test");
  EXPECT_EQ(config->log_level, log::Level::kDebug);
  ASSERT_EQ(config->vip_ranges.size(), 2u);
  EXPECT_EQ(config->vip_ranges[1].toString(), "fd00:96::/112");
  ASSERT_EQ(config->services.size(), 4u);

  const ServiceConfig& web = config->services[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.vip.toString(), "10.96.0.10");
  EXPECT_EQ(web.port, 80);
  EXPECT_EQ(web.protocol, WEFT_PROTO_TCP);
  EXPECT_EQ(web.algorithm, WEFT_LB_ROUND_ROBIN);
  ASSERT_EQ(web.backends.size(), 2u);
  EXPECT_EQ(web.backends[1].address.toString(), "127.0.0.2");
  EXPECT_EQ(web.backends[1].port, 8082);

  const ServiceConfig& dns = config->services[1];
  EXPECT_EQ(dns.protocol, WEFT_PROTO_UDP);
  EXPECT_EQ(dns.algorithm, WEFT_LB_RANDOM);

  const ServiceConfig& web6 = config->services[2];
  EXPECT_EQ(web6.vip.family, WEFT_AF_INET6);
  EXPECT_EQ(web6.backends[0].address.toString(), "::1");
  EXPECT_TRUE(config->services[3].backends.empty());
}

TEST(ConfigParserTest, FillsDefaults) {
  auto config = parseConfig(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
)"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->bpffs_root, "/sys/fs/bpf/weft");
  EXPECT_EQ(config->log_level, log::Level::kInfo);
  EXPECT_EQ(config->services[0].protocol, WEFT_PROTO_TCP);
  EXPECT_EQ(config->services[0].algorithm, WEFT_LB_ROUND_ROBIN);
  EXPECT_TRUE(config->services[0].backends.empty());
}

TEST(ConfigParserTest, AcceptsConfigWithoutServices) {
  auto config = parseConfig("cgroup: /sys/fs/cgroup/unified/x\nservices:\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->services.empty());
}

TEST(ConfigParserTest, RoundTripsThroughYaml) {
  auto config = parseConfig(kFullConfig);
  ASSERT_TRUE(config.ok()) << config.error().message;

  std::string yaml = toYaml(*config);
  auto again = parseConfig(yaml);
  ASSERT_TRUE(again.ok()) << again.error().message << "\n" << yaml;
  EXPECT_EQ(*again, *config) << yaml;
  EXPECT_EQ(toYaml(*again), yaml);
}

TEST(ConfigParserTest, SameVipAndPortWithAnotherProtocolIsAnotherService) {
  auto config = parseConfig(withService(std::string(kWeb) + R"(  - name: web-udp
    vip: 10.96.0.10
    port: 80
    protocol: udp
)"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->services.size(), 2u);
}

TEST(ConfigParserTest, RejectsBadAddresses) {
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.300
    port: 80
)"),
                 "services[0].vip: \"10.96.0.300\" is not an IP address (line 5, column 10)");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    backends:
      - address: localhost
        port: 80
)"),
                 "services[0].backends[0].address: \"localhost\" is not an IP address");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    backends:
      - address: 0.0.0.0
        port: 80
)"),
                 "services[0].backends[0].address: 0.0.0.0 is the unspecified address");
}

TEST(ConfigParserTest, RejectsPortsOutOfRange) {
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 0
)"),
                 "services[0].port: 0 is not in 1..65535");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: -1
)"),
                 "services[0].port: -1 is not in 1..65535");
  expectRejected(withService(std::string(kWeb) + R"(  - name: api
    vip: 10.96.0.11
    port: 80
    backends:
      - address: 127.0.0.1
        port: 70000
)"),
                 "services[1].backends[0].port: 70000 is not in 1..65535 (line 15, column 15)");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 99999999999999999999999
)"),
                 "services[0].port: 99999999999999999999999 is not in 1..65535");
}

TEST(ConfigParserTest, RejectsNonIntegerPorts) {
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: http
)"),
                 "services[0].port: \"http\" is not an integer");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80.5
)"),
                 "services[0].port: \"80.5\" is not an integer");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 0x50
)"),
                 "services[0].port: \"0x50\" is not an integer");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: "80"
)"),
                 "services[0].port: \"80\" is a quoted string, not an integer");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: [80]
)"),
                 "services[0].port: expected an integer, got a list");
}

TEST(ConfigParserTest, RejectsDuplicateServiceName) {
  expectRejected(withService(std::string(kWeb) + R"(  - name: web
    vip: 10.96.0.11
    port: 80
)"),
                 "services[1].name: \"web\" is already used by services[0] (line 10, column 11)");
}

TEST(ConfigParserTest, RejectsDuplicateVipPortProtocol) {
  expectRejected(
      withService(std::string(kWeb) + R"(  - name: api
    vip: 10.96.0.10
    port: 80
    protocol: tcp
)"),
      "services[1].vip: 10.96.0.10 port 80/tcp is already used by services[0] (\"web\")");
}

TEST(ConfigParserTest, RejectsUnknownKeysAnywhere) {
  expectRejected(withService(kWeb, "bogus: 1\n"),
                 "bogus: unknown key (expected one of: cgroup, bypass_cgroups, bpffs_root, "
                 "log_level, vip_ranges, services, registry, api, dns)");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    weight: 3
)"),
                 "services[0].weight: unknown key (expected one of: name, vip, port, protocol, "
                 "algorithm, maglev_table_size, hash_key, affinity_timeout_seconds, backends)");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    backends:
      - address: 127.0.0.1
        port: 8081
        zone: a
)"),
                 "services[0].backends[0].zone: unknown key (expected one of: address, port, "
                 "weight)");
}

TEST(ConfigParserTest, BypassCgroupsMustLieBelowTheMeshCgroup) {
  auto config =
      parseConfig(withService(kWeb, "bypass_cgroups: [/sys/fs/cgroup/unified/weft-test/proxy]\n"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->bypass_cgroups,
            std::vector<std::string>{"/sys/fs/cgroup/unified/weft-test/proxy"});

  expectRejected(withService(kWeb, "bypass_cgroups: [/sys/fs/cgroup/unified/other]\n"),
                 "bypass_cgroups[0]: \"/sys/fs/cgroup/unified/other\" is not below cgroup "
                 "\"/sys/fs/cgroup/unified/weft-test\"");
  expectRejected(withService(kWeb, "bypass_cgroups: [/sys/fs/cgroup/unified/weft-test-2]\n"),
                 "is not below cgroup");
  expectRejected(withService(kWeb, "bypass_cgroups: /sys/fs/cgroup/unified/weft-test/x\n"),
                 "bypass_cgroups: expected a list of cgroup paths");
}

TEST(ConfigParserTest, ReadsBackendWeightsAndRejectsBadOnes) {
  auto config = parseConfig(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    algorithm: weighted
    backends:
      - address: 127.0.0.1
        port: 8081
        weight: 300
      - address: 127.0.0.2
        port: 8082
)"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->services[0].algorithm, WEFT_LB_WEIGHTED);
  EXPECT_EQ(config->services[0].backends[0].weight, 300u);
  EXPECT_EQ(config->services[0].backends[1].weight, 100u);  // the default

  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    backends:
      - address: 127.0.0.1
        port: 8081
        weight: 70000
)"),
                 "services[0].backends[0].weight: 70000 is not in 0..65535");
}

TEST(ConfigParserTest, RejectsDuplicateKeys) {
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    port: 81
)"),
                 "services[0].port: duplicate key");
  expectRejected(withService(kWeb, "vip_ranges: []\n"), "vip_ranges: duplicate key");
}

TEST(ConfigParserTest, RejectsVipOutsideRanges) {
  expectRejected(withService(R"(  - name: web
    vip: 10.97.0.1
    port: 80
)"),
                 "services[0].vip: 10.97.0.1 is outside every vip_ranges entry (vip_ranges: "
                 "10.96.0.0/16, fd00:96::/112)");
  expectRejected(R"(cgroup: /sys/fs/cgroup/unified/x
services:
  - name: web
    vip: 10.96.0.10
    port: 80
)",
                 "services[0].vip: 10.96.0.10 is outside every vip_ranges entry (vip_ranges is "
                 "empty)");
}

TEST(ConfigParserTest, RejectsIpv4MappedVip) {
  expectRejected(withService(R"(  - name: web
    vip: "::ffff:10.96.0.10"
    port: 80
)"),
                 "services[0].vip: ::ffff:10.96.0.10 is an IPv4-mapped IPv6 address; use the IPv4 "
                 "form 10.96.0.10");
}

TEST(ConfigParserTest, RejectsBackendFamilyMismatch) {
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    backends:
      - address: "::1"
        port: 8081
)"),
                 "services[0].backends[0].address: ::1 is IPv6 but vip 10.96.0.10 is IPv4");
}

TEST(ConfigParserTest, RejectsBadEnumerations) {
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    protocol: sctp
)"),
                 "services[0].protocol: \"sctp\" is not one of tcp, udp");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    protocol: TCP
)"),
                 "services[0].protocol: \"TCP\" is not one of tcp, udp");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    algorithm: ring_hash
)"),
                 "services[0].algorithm: \"ring_hash\" is not one of round_robin, random, "
                 "weighted, least_conn, maglev");
  expectRejected(withService(kWeb, "log_level: verbose\n"),
                 "log_level: \"verbose\" is not one of debug, info, warn, error");
}

TEST(ConfigParserTest, RejectsNamesThatAreNotDnsLabels) {
  for (const char* name : {"Web", "-web", "web-", "web_1", "web.svc", "\"\"",
                           "a234567890123456789012345678901234567890123456789012345678901234"}) {
    std::string yaml =
        withService(std::string("  - name: ") + name + "\n    vip: 10.96.0.10\n    port: 80\n");
    expectRejected(yaml, "is not a DNS label");
    expectRejected(yaml, "services[0].name: ");
  }
  auto ok = parseConfig(
      withService("  - name: a23456789012345678901234567890123456789012345678901234567890123\n"
                  "    vip: 10.96.0.10\n    port: 80\n"));
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

TEST(ConfigParserTest, RejectsMissingRequiredFields) {
  expectRejected("vip_ranges: []\n", "cgroup: required field is missing");
  expectRejected("cgroup:\n", "cgroup: required field is missing");
  expectRejected(withService("  - vip: 10.96.0.10\n    port: 80\n"),
                 "services[0].name: required field is missing");
  expectRejected(withService("  - name: web\n    port: 80\n"),
                 "services[0].vip: required field is missing");
  expectRejected(withService("  - name: web\n    vip: 10.96.0.10\n"),
                 "services[0].port: required field is missing");
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    backends:
      - port: 8081
)"),
                 "services[0].backends[0].address: required field is missing");
}

TEST(ConfigParserTest, RejectsDuplicateBackend) {
  expectRejected(withService(R"(  - name: web
    vip: 10.96.0.10
    port: 80
    backends:
      - address: 127.0.0.1
        port: 8081
      - address: 127.0.0.1
        port: 8081
)"),
                 "services[0].backends[1]: 127.0.0.1 port 8081 is listed twice (first at "
                 "backends[0])");
}

TEST(ConfigParserTest, RejectsBadCidr) {
  expectRejected("cgroup: /sys/fs/cgroup/unified/x\nvip_ranges: [\"10.96.0.1/16\"]\n",
                 "vip_ranges[0]: \"10.96.0.1/16\" has host bits set; did you mean 10.96.0.0/16?");
  expectRejected("cgroup: /sys/fs/cgroup/unified/x\nvip_ranges: [\"10.96.0.0/40\"]\n",
                 "vip_ranges[0]: \"10.96.0.0/40\" is not a CIDR prefix: length must be 0..32");
  expectRejected("cgroup: /sys/fs/cgroup/unified/x\nvip_ranges: 10.96.0.0/16\n",
                 "vip_ranges: expected a list, got a scalar");
}

TEST(ConfigParserTest, RejectsBadPaths) {
  expectRejected("cgroup: weft\n", "cgroup: \"weft\" must be an absolute path");
  expectRejected("cgroup: /sys/fs/cgroup/../x\n", "cgroup: \"/sys/fs/cgroup/../x\" must not");
  expectRejected("cgroup: /\n", "cgroup: \"/\" must not be the filesystem root");
  expectRejected("cgroup: /x\nbpffs_root: bpf\n", "bpffs_root: \"bpf\" must be an absolute path");
}

TEST(ConfigParserTest, RejectsWrongShapes) {
  expectRejected("", "config: the document is empty");
  expectRejected("# only a comment\n", "config: the document is empty");
  expectRejected("- a\n- b\n", "config: expected a mapping, got a list");
  expectRejected("cgroup: /x\nservices: {}\n", "services: expected a list, got a mapping");
  expectRejected("cgroup: /x\nservices: [web]\n", "services[0]: expected a mapping, got a scalar");
  expectRejected("cgroup: [/x]\n", "cgroup: expected a string, got a list");
  expectRejected("cgroup: /x\n---\ncgroup: /y\n", "config: found 2 YAML documents; expected one");
}

TEST(ConfigParserTest, ReportsYamlSyntaxErrorsWithLineAndColumn) {
  expectRejected("cgroup: /x\nservices: [\n  - name: web\n", "config: line ");
  expectRejected("cgroup: /x\n  bad: indentation\n", "line 2, column");
  expectRejected("cgroup: /x\nservices: {name: web\n", "config: line");
  expectRejected("cgroup: /x: y\n", "config: line 1, column");
}

TEST(ConfigParserTest, LoadsFile) {
  std::string path = testing::TempDir() + "/weft-config-" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream out(path);
    out << kFullConfig;
  }
  auto config = loadConfigFile(path);
  ::unlink(path.c_str());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->services.size(), 4u);
}

TEST(ConfigParserTest, LoadFileErrorsNameThePath) {
  auto missing = loadConfigFile("/nonexistent/weft.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "config /nonexistent/weft.yaml: cannot open: No such file or directory");

  auto dir = loadConfigFile("/");
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message.find("not a regular file"), std::string::npos);

  std::string path = testing::TempDir() + "/weft-bad-" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream out(path);
    out << "cgroup: /x\nlog_level: loud\n";
  }
  auto bad = loadConfigFile(path);
  ::unlink(path.c_str());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "config " + path +
                ": log_level: \"loud\" is not one of debug, info, warn, error (line 2, column 12)");
}

}  // namespace
}  // namespace weft

namespace weft {
namespace {

TEST(ConfigSectionsTest, RegistryApiAndDnsSections) {
  auto config = parseConfig(R"(cgroup: /sys/fs/cgroup/unified/weft
registry:
  store: etcd
  etcd_endpoints: ["http://127.0.0.1:2379"]
  etcd_prefix: /mesh/
api:
  socket: /run/weft/api.sock
  tcp: 127.0.0.1:7070
dns:
  listen: 127.0.0.1:5353
  domain: example.internal
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->registry.store, "etcd");
  EXPECT_EQ(config->registry.etcd_prefix, "/mesh/");
  EXPECT_EQ(config->api.socket, "/run/weft/api.sock");
  EXPECT_EQ(config->api.tcp, "127.0.0.1:7070");
  EXPECT_EQ(config->dns.listen, "127.0.0.1:5353");
  EXPECT_EQ(config->dns.domain, "example.internal");
  EXPECT_EQ(config->dns.forward, "refuse");
}

TEST(ConfigSectionsTest, RejectsBadRegistryStoreAndPaths) {
  auto store = parseConfig("cgroup: /x\nregistry:\n  store: mysql\n");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("registry.store: \"mysql\" is not one of sqlite, etcd"),
            std::string::npos)
      << store.error().message;
  auto path = parseConfig("cgroup: /x\nregistry:\n  path: relative.db\n");
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.error().message.find("registry.path: \"relative.db\" must be an absolute path"),
            std::string::npos)
      << path.error().message;
  auto etcd = parseConfig("cgroup: /x\nregistry:\n  etcd_endpoints: [\"127.0.0.1:2379\"]\n");
  ASSERT_FALSE(etcd.ok());
  EXPECT_NE(etcd.error().message.find("registry.etcd_endpoints[0]"), std::string::npos)
      << etcd.error().message;
}

}  // namespace
}  // namespace weft
