// SPDX-License-Identifier: Apache-2.0
// weftctl's map codec on the real BTF of the built BPF object: layouts, hints, round trips
// against the contract's C structs, and rejections that name the field and the value.
#include "userspace/cli/btf_codec.h"

#include <arpa/inet.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "maps/weft_maps.h"
#include "userspace/cli/map_access.h"

namespace weft::cli {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Opens the BPF object once (no kernel involved) and hands out the layouts of its maps.
class BtfCodecTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    object_ = bpf_object__open_file(WEFT_BPF_OBJECT, nullptr);
    ASSERT_NE(object_, nullptr) << "cannot open " << WEFT_BPF_OBJECT;
  }
  static void TearDownTestSuite() {
    bpf_object__close(object_);
    object_ = nullptr;
  }

  static Field keyOf(const char* map_name) { return layoutOf(map_name, true); }
  static Field valueOf(const char* map_name) { return layoutOf(map_name, false); }

  static Field layoutOf(const char* map_name, bool key) {
    const bpf_map* map = bpf_object__find_map_by_name(object_, map_name);
    EXPECT_NE(map, nullptr) << map_name;
    if (map == nullptr) {
      return plainLayout(0, "missing");
    }
    const btf* btf = bpf_object__btf(object_);
    return key ? buildLayout(btf, bpf_map__btf_key_type_id(map), bpf_map__key_size(map), "key")
               : buildLayout(btf, bpf_map__btf_value_type_id(map), bpf_map__value_size(map),
                             "value");
  }

  template <typename T>
  static std::vector<uint8_t> bytesOf(const T& value) {
    std::vector<uint8_t> out(sizeof(T));
    std::memcpy(out.data(), &value, sizeof(T));
    return out;
  }

  // The error message of encoding `text`, or "ok" when it encodes.
  static std::string rejection(const Field& field, const std::string& text) {
    auto r = encodeText(field, text);
    return r ? "ok" : r.error().message;
  }

  static bpf_object* object_;
};

bpf_object* BtfCodecTest::object_ = nullptr;

TEST_F(BtfCodecTest, ServiceKeyLayoutComesFromBtfWithHints) {
  Field key = keyOf(WEFT_MAP_SVC);
  ASSERT_EQ(key.kind, Field::Kind::kStruct);
  EXPECT_EQ(key.type_name, "struct weft_svc_key");
  EXPECT_EQ(key.size, sizeof(weft_svc_key));
  ASSERT_EQ(key.members.size(), 4u);
  EXPECT_EQ(key.members[0].name, "addr");
  EXPECT_EQ(key.members[0].hint, Hint::kIpAddr);
  EXPECT_EQ(key.members[0].count, 4u);
  EXPECT_EQ(key.members[1].name, "port");
  EXPECT_EQ(key.members[1].hint, Hint::kPort);
  EXPECT_EQ(key.members[1].offset, offsetof(weft_svc_key, port));
  EXPECT_EQ(key.members[2].hint, Hint::kProto);
  EXPECT_EQ(key.members[3].hint, Hint::kFamily);
  EXPECT_EQ(key.members[3].offset, offsetof(weft_svc_key, family));
}

TEST_F(BtfCodecTest, ServiceKeyEncodesExactlyLikeTheContractStruct) {
  Field layout = keyOf(WEFT_MAP_SVC);
  weft_svc_key want{};
  ASSERT_EQ(inet_pton(AF_INET, "10.96.0.10", &want.addr[0]), 1);
  want.port = htons(80);
  want.proto = WEFT_PROTO_TCP;
  want.family = WEFT_AF_INET;

  auto bytes =
      encodeText(layout, R"({"addr":"10.96.0.10","port":80,"proto":"tcp","family":"ipv4"})");
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, bytesOf(want));

  ordered_json decoded = decodeField(layout, bytesOf(want));
  EXPECT_EQ(compactJson(decoded),
            R"({"addr":"10.96.0.10","port":80,"proto":"tcp","family":"ipv4"})");
  // The numeric forms give the same bytes.
  auto numeric = encodeText(layout, R"({"addr":"10.96.0.10","port":80,"proto":6,"family":2})");
  ASSERT_TRUE(numeric) << numeric.error().message;
  EXPECT_EQ(*numeric, bytesOf(want));
}

TEST_F(BtfCodecTest, Ipv6AddressFillsAllWordsAndRoundTrips) {
  Field layout = keyOf(WEFT_MAP_SVC);
  std::string text = R"({"addr":"fd00:96::1","port":8443,"proto":"udp","family":"ipv6"})";
  auto bytes = encodeText(layout, text);
  ASSERT_TRUE(bytes) << bytes.error().message;
  weft_svc_key key{};
  std::memcpy(&key, bytes->data(), sizeof(key));
  EXPECT_EQ(reinterpret_cast<uint8_t*>(key.addr)[0], 0xfd);
  EXPECT_EQ(reinterpret_cast<uint8_t*>(key.addr)[15], 0x01);
  EXPECT_EQ(ntohs(key.port), 8443);
  EXPECT_EQ(compactJson(decodeField(layout, *bytes)), text);
}

TEST_F(BtfCodecTest, ServiceValueShowsAlgorithmNamesAndNumbersForUnknownOnes) {
  Field layout = valueOf(WEFT_MAP_SVC);
  weft_svc_value value{7, 2, 1, WEFT_LB_MAGLEV, WEFT_SVC_F_HASH_PORT, 42, 16381, 30, {}};
  EXPECT_EQ(compactJson(decodeField(layout, bytesOf(value))),
            R"({"svc_id":7,"count":2,"half":1,"algo":"maglev","flags":1,"generation":42,)"
            R"("maglev_size":16381,"affinity_timeout_s":30})");
  value.algo = 9;
  EXPECT_EQ(decodeField(layout, bytesOf(value))["algo"], 9);

  auto bytes = encodeText(layout, R"({"svc_id":7,"count":2,"half":1,"algo":"least_conn",)"
                                  R"("flags":1,"generation":42,"maglev_size":16381,)"
                                  R"("affinity_timeout_s":30})");
  ASSERT_TRUE(bytes) << bytes.error().message;
  value.algo = WEFT_LB_LEAST_CONN;
  EXPECT_EQ(*bytes, bytesOf(value));
}

TEST_F(BtfCodecTest, BackendStateFlagsAndHiddenPad) {
  Field layout = valueOf(WEFT_MAP_BACKEND);
  weft_backend b{};
  ASSERT_EQ(inet_pton(AF_INET, "127.0.0.1", &b.addr[0]), 1);
  b.port = htons(8081);
  b.proto = WEFT_PROTO_TCP;
  b.family = WEFT_AF_INET;
  b.state = WEFT_BE_ACTIVE | WEFT_BE_DRAINING;
  std::string text =
      R"({"addr":"127.0.0.1","port":8081,"proto":"tcp","family":"ipv4","state":"active,draining"})";
  EXPECT_EQ(compactJson(decodeField(layout, bytesOf(b))), text);

  auto bytes = encodeText(layout, text);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, bytesOf(b));
  // A list of names and the plain number say the same.
  auto listed =
      encodeText(layout, R"({"addr":"127.0.0.1","port":8081,"proto":"tcp","family":"ipv4",)"
                         R"("state":["draining","active"]})");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(*listed, bytesOf(b));
  b.state = 0;
  EXPECT_EQ(decodeField(layout, bytesOf(b))["state"], "none");
  b.state = 0x30;  // bits the contract does not name yet
  EXPECT_EQ(decodeField(layout, bytesOf(b))["state"], 0x30);
}

TEST_F(BtfCodecTest, MemberStateUsesTheBackendStateNames) {
  Field layout = valueOf(WEFT_MAP_MEMBER);
  weft_member member{};
  member.state = WEFT_BE_DRAINING;
  EXPECT_EQ(compactJson(decodeField(layout, bytesOf(member))), R"({"state":"draining"})");
  auto bytes = encodeText(layout, R"({"state":"active"})");
  ASSERT_TRUE(bytes) << bytes.error().message;
  member.state = WEFT_BE_ACTIVE;
  EXPECT_EQ(*bytes, bytesOf(member));
}

TEST_F(BtfCodecTest, PadMayBeLeftOutOrZeroButNothingElse) {
  Field layout = keyOf(WEFT_MAP_SLOT);
  weft_slot_key want{3, 5, 1, 0};
  auto bytes = encodeText(layout, R"({"svc_id":3,"index":5,"half":1})");
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, bytesOf(want));
  EXPECT_EQ(compactJson(decodeField(layout, *bytes)), R"({"svc_id":3,"index":5,"half":1})");
  EXPECT_EQ(rejection(layout, R"({"svc_id":3,"index":5,"half":1,"pad":0})"), "ok");
  EXPECT_EQ(rejection(layout, R"({"svc_id":3,"index":5,"half":1,"pad":5})"),
            "field key.pad: 5 must be 0 (padding)");

  Field backend = valueOf(WEFT_MAP_BACKEND);  // pad is __u8[3] there
  EXPECT_EQ(rejection(backend, R"({"addr":"::1","port":1,"proto":"tcp","family":"ipv6",
                                   "state":"active","pad":[0,0,0]})"),
            "ok");
  EXPECT_EQ(rejection(backend, R"({"addr":"::1","port":1,"proto":"tcp","family":"ipv6",
                                   "state":"active","pad":[0,1,0]})"),
            "field value.pad: [0,1,0] must be 0 (padding)");
}

TEST_F(BtfCodecTest, NestedStructAndCharArrayString) {
  Field layout = valueOf(WEFT_MAP_SVC_INFO);
  weft_svc_info info{};
  ASSERT_EQ(inet_pton(AF_INET, "10.96.0.10", &info.key.addr[0]), 1);
  info.key.port = htons(80);
  info.key.proto = WEFT_PROTO_TCP;
  info.key.family = WEFT_AF_INET;
  std::strcpy(info.name, "web.default");
  std::string text = R"({"key":{"addr":"10.96.0.10","port":80,"proto":"tcp","family":"ipv4"},)"
                     R"("name":"web.default"})";
  EXPECT_EQ(compactJson(decodeField(layout, bytesOf(info))), text);
  auto bytes = encodeText(layout, text);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, bytesOf(info));

  std::string longest(WEFT_SVC_NAME_LEN - 1, 'a');
  std::string prefix = R"({"key":{"addr":"10.96.0.10","port":80,"proto":"tcp","family":"ipv4"},)";
  EXPECT_EQ(rejection(layout, prefix + R"("name":")" + longest + R"("})"), "ok");
  std::string message = rejection(layout, prefix + R"("name":")" + longest + R"(a"})");
  EXPECT_EQ(message.rfind("field value.name: \"aaaa", 0), 0u) << message;
  EXPECT_NE(message.find("is 128 bytes, longer than the 127 that fit (char[128])"),
            std::string::npos)
      << message;
}

TEST_F(BtfCodecTest, RejectionsNameTheFieldAndTheValue) {
  Field key = keyOf(WEFT_MAP_SVC);
  Field value = valueOf(WEFT_MAP_SVC);
  Field slot_value = valueOf(WEFT_MAP_SLOT);
  struct Case {
    const Field* field;
    std::string text;
    std::string message;
  } cases[] = {
      {&key, R"({"addr":"10.96.0.10","port":80,"proto":"tcp","family":"ipv4","vip":1})",
       "field key.vip: unknown field (struct weft_svc_key has addr, port, proto, family)"},
      {&key, R"({"addr":"10.96.0.10","port":80,"proto":"tcp"})",
       "field key.family: missing (struct weft_svc_key needs addr, port, proto, family)"},
      {&key, R"({"addr":"10.96.0.10","port":70000,"proto":"tcp","family":"ipv4"})",
       "field key.port: 70000 is out of range 0..65535"},
      {&key, R"({"addr":"10.96.0.300","port":80,"proto":"tcp","family":"ipv4"})",
       "field key.addr: \"10.96.0.300\" is not an IPv4 or IPv6 address"},
      {&key, R"({"addr":"10.96.0.10","port":80,"proto":"tcp","family":"ipv6"})",
       "field key.family: \"ipv6\" does not match the IPv4 address \"10.96.0.10\" in key.addr"},
      {&key, R"({"addr":"10.96.0.10","port":80,"proto":"sctp","family":"ipv4"})",
       "field key.proto: \"sctp\" is not a protocol (tcp, udp or a number 0..255)"},
      {&key, R"({"addr":[1,2],"port":80,"proto":"tcp","family":"ipv4"})",
       "field key.addr: [1,2] is not an array of 4 elements (__u32[4])"},
      {&key, R"([1,2,3])",
       "field key: [1,2,3] is not an object with the fields of struct weft_svc_key (addr, port, "
       "proto, family)"},
      {&key, R"({"addr":)",
       "key: '{\"addr\":' is not valid JSON (expected a JSON object with the fields of struct "
       "weft_svc_key)"},
      {&value, R"({"svc_id":-1,"count":0,"half":0,"algo":"random","flags":0,"generation":0})",
       "field value.svc_id: -1 is out of range 0..4294967295"},
      {&value, R"({"svc_id":1.5,"count":0,"half":0,"algo":"random","flags":0,"generation":0})",
       "field value.svc_id: 1.5 is not an integer (0..4294967295)"},
      {&value, R"({"svc_id":"1","count":0,"half":0,"algo":"random","flags":0,"generation":0})",
       "field value.svc_id: \"1\" is not an integer (0..4294967295)"},
      {&value, R"({"svc_id":1,"count":0,"half":256,"algo":"random","flags":0,"generation":0})",
       "field value.half: 256 is out of range 0..255"},
      {&value, R"({"svc_id":1,"count":0,"half":0,"algo":"fastest","flags":0,"generation":0})",
       "field value.algo: \"fastest\" is not a balancing algorithm (random, round_robin, "
       "weighted, least_conn, maglev or a number 0..255)"},
      {&slot_value, R"({"backend_id":1,"weight":65536})",
       "field value.weight: 65536 is out of range 0..65535"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(rejection(*c.field, c.text), c.message) << c.text;
  }
}

TEST_F(BtfCodecTest, IntegerKeysAndValuesAreBareNumbers) {
  Field key = keyOf(WEFT_MAP_RR);
  Field value = valueOf(WEFT_MAP_RR);
  EXPECT_EQ(key.kind, Field::Kind::kInt);
  EXPECT_EQ(key.type_name, "__u32");
  EXPECT_EQ(value.type_name, "__u64");

  auto k = encodeText(key, "17");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(*k, bytesOf(uint32_t{17}));
  auto v = encodeText(value, "18446744073709551615");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(decodeField(value, *v), ordered_json(UINT64_MAX));
  EXPECT_EQ(rejection(key, "4294967296"), "field key: 4294967296 is out of range 0..4294967295");
  EXPECT_EQ(rejection(key, R"({"index":1})"),
            "field key: {\"index\":1} is not an integer (0..4294967295)");
}

TEST_F(BtfCodecTest, PerCpuCountersSum) {
  Field value = valueOf(WEFT_MAP_STATS);
  ASSERT_TRUE(isSummable(value));
  EXPECT_EQ(sumDecoded({ordered_json(3u), ordered_json(4u), ordered_json(0u)}), ordered_json(7u));
  EXPECT_FALSE(isSummable(valueOf(WEFT_MAP_BACKEND)));  // addresses do not add up
  EXPECT_TRUE(isSummable(keyOf(WEFT_MAP_SLOT)));
  ordered_json a = {{"x", 1u}, {"y", {1u, 2u}}};
  ordered_json b = {{"x", 2u}, {"y", {10u, 20u}}};
  EXPECT_EQ(compactJson(sumDecoded({a, b})), R"({"x":3,"y":[11,22]})");
}

TEST_F(BtfCodecTest, WithoutBtfIntegersAndHexBytes) {
  Field id = buildLayout(nullptr, 0, 4, "key");
  EXPECT_EQ(id.kind, Field::Kind::kInt);
  EXPECT_EQ(compactJson(decodeField(id, bytesOf(uint32_t{9}))), "9");

  Field blob = buildLayout(nullptr, 0, 3, "value");
  EXPECT_EQ(blob.kind, Field::Kind::kBytes);
  std::vector<uint8_t> raw = {0x0a, 0xff, 0x00};
  EXPECT_EQ(decodeField(blob, raw), "0aff00");
  auto back = encodeText(blob, R"("0aff00")");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, raw);
  EXPECT_EQ(rejection(blob, R"("0aff")"), "field value: \"0aff\" is not 6 hex digits (3 bytes)");

  // BTF whose size disagrees with the map's is not trusted.
  const bpf_map* map = bpf_object__find_map_by_name(object_, WEFT_MAP_SVC);
  ASSERT_NE(map, nullptr);
  Field wrong = buildLayout(bpf_object__btf(object_), bpf_map__btf_key_type_id(map), 24, "key");
  EXPECT_EQ(wrong.kind, Field::Kind::kBytes);
}

TEST(MapNameTest, ExactNameOrLayoutSuffixLeftOff) {
  std::vector<std::string> pins = {"weft_be_v1", "weft_meta", "weft_svc_v1", "weft_svcinfo_v1"};
  EXPECT_EQ(*resolveMapName(pins, "weft_svc_v1"), "weft_svc_v1");
  EXPECT_EQ(*resolveMapName(pins, "weft_svc"), "weft_svc_v1");
  EXPECT_EQ(*resolveMapName(pins, "weft_meta"), "weft_meta");
  EXPECT_EQ(resolveMapName(pins, "weft_nope").error().message,
            "map \"weft_nope\" is not pinned here (maps: weft_be_v1, weft_meta, weft_svc_v1, "
            "weft_svcinfo_v1)");
  EXPECT_FALSE(resolveMapName(pins, "../maps/weft_svc_v1"));
  EXPECT_FALSE(resolveMapName(pins, "weft_svc_v"));
  EXPECT_FALSE(resolveMapName(pins, ""));
  pins.push_back("weft_svc_v2");
  EXPECT_EQ(resolveMapName(pins, "weft_svc").error().message,
            "map \"weft_svc\" is ambiguous: weft_svc_v1, weft_svc_v2");
}

}  // namespace
}  // namespace weft::cli
