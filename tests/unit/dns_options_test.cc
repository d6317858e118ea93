// SPDX-License-Identifier: Apache-2.0
// DNS server settings: listen and forward addresses, the domain, and the config block.
#include "userspace/dns/dns_options.h"

#include <gtest/gtest.h>

namespace weft::dns {
namespace {

TEST(DnsOptionsTest, ParsesSocketAddresses) {
  auto v4 = SocketAddress::parse("127.0.0.1:5353", "dns.listen", false);
  ASSERT_TRUE(v4.ok()) << v4.error().message;
  EXPECT_EQ(v4->toString(), "127.0.0.1:5353");
  auto v6 = SocketAddress::parse("[::1]:53", "dns.listen", false);
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->toString(), "[::1]:53");
  EXPECT_TRUE(SocketAddress::parse("127.0.0.1:0", "dns.listen", true).ok());

  auto zero = SocketAddress::parse("127.0.0.1:0", "dns.forward", false);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message, "dns.forward: \"127.0.0.1:0\" has no valid port (1..65535)");
  for (const char* bad : {"127.0.0.1", "::1:53", "[::1]53", "localhost:53", "127.0.0.1:65536",
                          "127.0.0.1:5x", "127.0.0.1:", ":53", ""}) {
    EXPECT_FALSE(SocketAddress::parse(bad, "dns.listen", true).ok()) << bad;
  }
}

TEST(DnsOptionsTest, ForwardSetting) {
  auto refuse = parseForwardSetting("refuse");
  ASSERT_TRUE(refuse.ok());
  EXPECT_FALSE(refuse->has_value());
  auto upstream = parseForwardSetting("127.0.0.1:5300");
  ASSERT_TRUE(upstream.ok());
  ASSERT_TRUE(upstream->has_value());
  EXPECT_EQ((*upstream)->port, 5300);
  auto bad = parseForwardSetting("forward");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("dns.forward: \"forward\""), std::string::npos);
}

TEST(DnsOptionsTest, ValidatesFields) {
  DnsOptions ok;
  EXPECT_TRUE(validateDnsOptions(ok).ok());

  DnsOptions domain;
  domain.domain = "has space.local";
  EXPECT_EQ(validateDnsOptions(domain).error().message.rfind("dns.domain: ", 0), 0u);

  DnsOptions loop;
  loop.forward = loop.listen;
  EXPECT_EQ(validateDnsOptions(loop).error().message,
            "dns.forward: \"127.0.0.1:53\" is this server's own address");

  DnsOptions unspecified;
  unspecified.forward = SocketAddress{*IpAddr::parse("0.0.0.0"), 53};
  EXPECT_FALSE(validateDnsOptions(unspecified).ok());
}

TEST(DnsOptionsTest, FromAgentConfig) {
  DnsConfig config;
  config.listen = "127.0.0.1:5353";
  config.domain = "mesh.local";
  config.forward = "127.0.0.1:5300";
  auto options = dnsOptionsFromConfig(config);
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->listen.port, 5353);
  EXPECT_EQ(options->domain, "mesh.local");
  ASSERT_TRUE(options->forward.has_value());
  EXPECT_EQ(options->forward->port, 5300);

  config.listen = "nowhere";
  EXPECT_EQ(dnsOptionsFromConfig(config).error().message.rfind("dns.listen: ", 0), 0u);
}

}  // namespace
}  // namespace weft::dns
