// SPDX-License-Identifier: Apache-2.0
// Map struct encoding: byte order and placement exactly as the BPF programs read them.
#include "userspace/controller/map_encoding.h"

#include <gtest/gtest.h>

#include <cstring>

namespace weft {
namespace {

std::array<uint8_t, sizeof(weft_svc_key)> bytesOf(const weft_svc_key& key) {
  std::array<uint8_t, sizeof(weft_svc_key)> out{};
  std::memcpy(out.data(), &key, sizeof(key));
  return out;
}

TEST(MapEncodingTest, ServiceKeyIpv4) {
  weft_svc_key key = encodeServiceKey(*IpAddr::parse("10.96.0.10"), 80, WEFT_PROTO_TCP);
  auto bytes = bytesOf(key);

  // addr[0] holds the address as it appears on the wire: 10.96.0.10.
  EXPECT_EQ(bytes[0], 10);
  EXPECT_EQ(bytes[1], 96);
  EXPECT_EQ(bytes[2], 0);
  EXPECT_EQ(bytes[3], 10);
  EXPECT_EQ(key.addr[1], 0u);
  EXPECT_EQ(key.addr[2], 0u);
  EXPECT_EQ(key.addr[3], 0u);

  // Port 80 is 0x0050 in network order: 0x00 first, then 0x50.
  EXPECT_EQ(bytes[16], 0x00);
  EXPECT_EQ(bytes[17], 0x50);
  EXPECT_EQ(key.proto, WEFT_PROTO_TCP);
  EXPECT_EQ(key.family, WEFT_AF_INET);
  EXPECT_EQ(decodePort(key.port), 80);
}

TEST(MapEncodingTest, ServiceKeyIpv6FillsAllWords) {
  weft_svc_key key = encodeServiceKey(*IpAddr::parse("fd00:96::1"), 8443, WEFT_PROTO_UDP);
  auto bytes = bytesOf(key);

  EXPECT_EQ(bytes[0], 0xfd);
  EXPECT_EQ(bytes[1], 0x00);
  EXPECT_EQ(bytes[2], 0x00);
  EXPECT_EQ(bytes[3], 0x96);
  EXPECT_EQ(bytes[15], 0x01);
  EXPECT_EQ(bytes[16], 0x20);  // 8443 = 0x20fb
  EXPECT_EQ(bytes[17], 0xfb);
  EXPECT_EQ(key.proto, WEFT_PROTO_UDP);
  EXPECT_EQ(key.family, WEFT_AF_INET6);
  EXPECT_EQ(decodeAddr(key.family, key.addr).toString(), "fd00:96::1");
}

TEST(MapEncodingTest, EqualServicesGiveEqualKeys) {
  ServiceConfig a{"a", *IpAddr::parse("10.96.0.10"), 80, WEFT_PROTO_TCP, WEFT_LB_RANDOM, {}};
  ServiceConfig b{"b", *IpAddr::parse("10.96.0.10"), 80, WEFT_PROTO_TCP, WEFT_LB_ROUND_ROBIN, {}};
  EXPECT_TRUE(sameBytes(encodeServiceKey(a), encodeServiceKey(b)));
  b.protocol = WEFT_PROTO_UDP;
  EXPECT_FALSE(sameBytes(encodeServiceKey(a), encodeServiceKey(b)));
}

TEST(MapEncodingTest, Backend) {
  BackendConfig be{*IpAddr::parse("127.0.0.1"), 8081};
  weft_backend value = encodeBackend(be, WEFT_PROTO_TCP, WEFT_BE_ACTIVE);

  const auto* raw = reinterpret_cast<const uint8_t*>(&value);
  EXPECT_EQ(raw[0], 127);
  EXPECT_EQ(raw[3], 1);
  EXPECT_EQ(value.addr[1], 0u);
  EXPECT_EQ(raw[16], 0x1f);  // 8081 = 0x1f91
  EXPECT_EQ(raw[17], 0x91);
  EXPECT_EQ(value.proto, WEFT_PROTO_TCP);
  EXPECT_EQ(value.family, WEFT_AF_INET);
  EXPECT_EQ(value.state, WEFT_BE_ACTIVE);
  EXPECT_EQ(value.pad[0] | value.pad[1] | value.pad[2], 0);
  EXPECT_EQ(formatBackend(value), "127.0.0.1:8081/tcp");
}

TEST(MapEncodingTest, ServiceInfoNameIsTerminatedAndCut) {
  weft_svc_key key = encodeServiceKey(*IpAddr::parse("10.96.0.10"), 80, WEFT_PROTO_TCP);
  weft_svc_info info = encodeServiceInfo(key, "web");
  EXPECT_TRUE(sameBytes(info.key, key));
  EXPECT_EQ(info.pad, 0u);
  EXPECT_STREQ(info.name, "web");
  EXPECT_EQ(decodeServiceName(info), "web");

  std::string long_name(300, 'x');
  weft_svc_info cut = encodeServiceInfo(key, long_name);
  EXPECT_EQ(cut.name[WEFT_SVC_NAME_LEN - 1], '\0');
  EXPECT_EQ(decodeServiceName(cut), std::string(WEFT_SVC_NAME_LEN - 1, 'x'));

  // A name filling the whole field without a NUL (written by someone else) still decodes.
  std::memset(cut.name, 'y', sizeof(cut.name));
  EXPECT_EQ(decodeServiceName(cut), std::string(WEFT_SVC_NAME_LEN, 'y'));
}

TEST(MapEncodingTest, FormatsKeysForHumans) {
  EXPECT_EQ(formatServiceKey(encodeServiceKey(*IpAddr::parse("10.96.0.10"), 80, WEFT_PROTO_TCP)),
            "10.96.0.10:80/tcp");
  EXPECT_EQ(formatServiceKey(encodeServiceKey(*IpAddr::parse("fd00::1"), 53, WEFT_PROTO_UDP)),
            "[fd00::1]:53/udp");
}

}  // namespace
}  // namespace weft
