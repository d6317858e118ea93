// SPDX-License-Identifier: Apache-2.0
// IpAddr and Cidr: strict parsing, canonical printing, prefix matching.
#include "userspace/config/ip_addr.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(IpAddrTest, ParsesIpv4InNetworkOrder) {
  auto addr = IpAddr::parse("10.96.0.10");
  ASSERT_TRUE(addr.ok()) << addr.error().message;
  EXPECT_EQ(addr->family, WEFT_AF_INET);
  EXPECT_EQ(addr->bytes[0], 10);
  EXPECT_EQ(addr->bytes[1], 96);
  EXPECT_EQ(addr->bytes[2], 0);
  EXPECT_EQ(addr->bytes[3], 10);
  for (size_t i = 4; i < 16; ++i) {
    EXPECT_EQ(addr->bytes[i], 0) << i;
  }
  EXPECT_EQ(addr->toString(), "10.96.0.10");
}

TEST(IpAddrTest, ParsesIpv6AndPrintsCanonically) {
  auto addr = IpAddr::parse("FD00:0096:0:0::0001");
  ASSERT_TRUE(addr.ok()) << addr.error().message;
  EXPECT_EQ(addr->family, WEFT_AF_INET6);
  EXPECT_EQ(addr->bytes[0], 0xfd);
  EXPECT_EQ(addr->bytes[3], 0x96);
  EXPECT_EQ(addr->bytes[15], 0x01);
  EXPECT_EQ(addr->toString(), "fd00:96::1");
  EXPECT_FALSE(addr->isV4Mapped());
}

TEST(IpAddrTest, RecognisesV4MappedAndUnspecified) {
  EXPECT_TRUE(IpAddr::parse("::ffff:10.96.0.10")->isV4Mapped());
  EXPECT_FALSE(IpAddr::parse("10.96.0.10")->isV4Mapped());
  EXPECT_TRUE(IpAddr::parse("0.0.0.0")->isUnspecified());
  EXPECT_TRUE(IpAddr::parse("::")->isUnspecified());
  EXPECT_FALSE(IpAddr::parse("::1")->isUnspecified());
}

TEST(IpAddrTest, RejectsMalformedText) {
  for (const char* bad :
       {"", "10.96.0", "10.96.0.256", "10.96.0.10 ", " 10.96.0.10", "010.1.1.1", "fe80::1%eth0",
        "10.96.0.0/16", "fd00:::1", "host.example", "1.2.3.4.5"}) {
    auto addr = IpAddr::parse(bad);
    EXPECT_FALSE(addr.ok()) << bad;
    if (!addr.ok()) {
      EXPECT_NE(addr.error().message.find("is not an IP address"), std::string::npos);
    }
  }
  std::string with_nul("10.0.0.1\0junk", 13);
  EXPECT_FALSE(IpAddr::parse(with_nul).ok());
}

TEST(IpAddrTest, OrdersAndComparesByValue) {
  EXPECT_EQ(*IpAddr::parse("10.0.0.1"), *IpAddr::parse("10.0.0.1"));
  EXPECT_LT(*IpAddr::parse("10.0.0.1"), *IpAddr::parse("10.0.0.2"));
  EXPECT_NE(*IpAddr::parse("::a00:1"), *IpAddr::parse("10.0.0.1"));
}

TEST(CidrTest, ParsesAndMatchesIpv4) {
  auto cidr = Cidr::parse("10.96.0.0/16");
  ASSERT_TRUE(cidr.ok()) << cidr.error().message;
  EXPECT_EQ(cidr->prefix_len, 16);
  EXPECT_EQ(cidr->toString(), "10.96.0.0/16");
  EXPECT_TRUE(cidr->contains(*IpAddr::parse("10.96.0.10")));
  EXPECT_TRUE(cidr->contains(*IpAddr::parse("10.96.255.255")));
  EXPECT_FALSE(cidr->contains(*IpAddr::parse("10.97.0.1")));
  EXPECT_FALSE(cidr->contains(*IpAddr::parse("::a60:a")));
}

TEST(CidrTest, MatchesPrefixesNotOnByteBoundaries) {
  auto cidr = Cidr::parse("10.96.0.0/13");
  ASSERT_TRUE(cidr.ok()) << cidr.error().message;
  EXPECT_TRUE(cidr->contains(*IpAddr::parse("10.103.255.255")));
  EXPECT_FALSE(cidr->contains(*IpAddr::parse("10.104.0.0")));

  auto v6 = Cidr::parse("fd00:96::/112");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_TRUE(v6->contains(*IpAddr::parse("fd00:96::ffff")));
  EXPECT_FALSE(v6->contains(*IpAddr::parse("fd00:96::1:0")));

  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*IpAddr::parse("192.0.2.1")));
  EXPECT_TRUE(Cidr::parse("127.0.0.1/32")->contains(*IpAddr::parse("127.0.0.1")));
  EXPECT_FALSE(Cidr::parse("127.0.0.1/32")->contains(*IpAddr::parse("127.0.0.2")));
}

TEST(CidrTest, RejectsBadPrefixes) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"10.96.0.0", "is not a CIDR prefix (expected address/length)"},
           Case{"10.96.0.0/33", "length must be 0..32"},
           Case{"fd00::/129", "length must be 0..128"},
           Case{"10.96.0.0/-1", "length must be 0..32"},
           Case{"10.96.0.0/", "length must be 0..32"},
           Case{"10.96.0.0/1a", "length must be 0..32"},
           Case{"10.96.x.0/16", "bad address"},
           Case{"10.96.0.1/16", "has host bits set; did you mean 10.96.0.0/16?"},
           Case{"fd00:96::1/112", "did you mean fd00:96::/112?"},
           Case{"::ffff:10.0.0.0/104", "use the IPv4 form"},
       }) {
    auto cidr = Cidr::parse(c.text);
    ASSERT_FALSE(cidr.ok()) << c.text;
    EXPECT_NE(cidr.error().message.find(c.message), std::string::npos)
        << c.text << ": " << cidr.error().message;
  }
}

}  // namespace
}  // namespace weft
