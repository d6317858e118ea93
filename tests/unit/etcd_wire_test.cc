// SPDX-License-Identifier: Apache-2.0
// The etcd client's pure parts: base64, prefix ranges, the store's key layout, and decoding
// of gateway replies as etcd 3.4 sends them.
#include <gtest/gtest.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "userspace/etcd/base64.h"
#include "userspace/etcd/etcd_types.h"
#include "userspace/etcd/etcd_wire.h"
#include "userspace/etcd/http_connection.h"
#include "userspace/etcd/store_keys.h"

namespace weft::etcd {
namespace {

TEST(EtcdBase64, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 20; ++i) {
    auto decoded = base64Decode(base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value()) << i;
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>(i * 37 + 200);
  }
  EXPECT_EQ(base64Encode("/weft/a"), "L3dlZnQvYQ==");
  EXPECT_EQ(base64Encode("hello"), "aGVsbG8=");
}

TEST(EtcdBase64, RejectsMalformedText) {
  for (const char* bad : {"a", "abc", "ab=c", "a===", "ab c", "ab\ncd", "@@@@", "=AAA"}) {
    EXPECT_FALSE(base64Decode(bad).has_value()) << bad;
  }
  EXPECT_EQ(base64Decode("").value(), "");
}

TEST(EtcdPrefixEnd, IncrementsTheLastByte) {
  EXPECT_EQ(prefixEnd("/weft/"), "/weft0");
  EXPECT_EQ(prefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefixEnd(std::string("\xff\xff", 2)), std::string(1, '\0'));
}

TEST(EtcdStoreKeys, BuildsAndParsesTheLayout) {
  StoreKeys keys("/weft");
  EXPECT_EQ(keys.prefix(), "/weft/");
  EXPECT_EQ(keys.service("default", "web"), "/weft/services/default/web");
  EXPECT_EQ(keys.vip(*IpAddr::parse("fd00:96::a")), "/weft/vips/fd00:96::a");
  EXPECT_EQ(keys.endpoint("default", "web", "[::1]:80"), "/weft/endpoints/default/web/[::1]:80");
  EXPECT_EQ(keys.endpointsOf("default", "web"), "/weft/endpoints/default/web/");

  ParsedKey svc = keys.parse("/weft/services/default/web");
  EXPECT_EQ(svc.kind, ParsedKey::Kind::kService);
  EXPECT_EQ(svc.ns, "default");
  EXPECT_EQ(svc.name, "web");
  ParsedKey ep = keys.parse("/weft/endpoints/prod/api/10.0.0.1:8080");
  EXPECT_EQ(ep.kind, ParsedKey::Kind::kEndpoint);
  EXPECT_EQ(ep.endpoint_id, "10.0.0.1:8080");
  EXPECT_EQ(keys.parse("/weft/vips/10.96.0.1").kind, ParsedKey::Kind::kVip);

  for (const char* other :
       {"/other/services/default/web", "/weft/services/default", "/weft/services/default/web/x",
        "/weft/endpoints/a//b", "/weft/unknown/a/b", "/weft/vips/"}) {
    EXPECT_EQ(keys.parse(other).kind, ParsedKey::Kind::kOther) << other;
  }
}

TEST(EtcdStoreKeys, RejectsAmbiguousParts) {
  EXPECT_TRUE(StoreKeys::checkParts({{"ns", "default"}, {"name", "web"}}).ok());
  Status slash = StoreKeys::checkParts({{"ns", "default"}, {"name", "a/b"}});
  ASSERT_FALSE(slash.ok());
  EXPECT_EQ(slash.error().message, "name: \"a/b\" must not contain '/'");
  EXPECT_FALSE(StoreKeys::checkParts({{"ns", ""}}).ok());
}

TEST(EtcdWire, DecodesARangeReply) {
  // As etcd 3.4.23 answers: int64 as strings, zero values left out.
  auto reply = wire::decodeRange(
      R"({"header":{"cluster_id":"1","member_id":"2","revision":"14","raft_term":"2"},)"
      R"("kvs":[{"key":"L3dlZnQvYQ==","create_revision":"2","mod_revision":"3",)"
      R"("version":"2","value":"aGVsbG8="}],"more":true,"count":"3"})");
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->revision, 14);
  EXPECT_TRUE(reply->more);
  EXPECT_EQ(reply->count, 3);
  ASSERT_EQ(reply->kvs.size(), 1u);
  EXPECT_EQ(reply->kvs[0].key, "/weft/a");
  EXPECT_EQ(reply->kvs[0].value, "hello");
  EXPECT_EQ(reply->kvs[0].create_revision, 2);
  EXPECT_EQ(reply->kvs[0].mod_revision, 3);

  auto empty = wire::decodeRange(R"({"header":{"revision":"4"}})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->kvs.empty());
  EXPECT_EQ(empty->count, 0);
}

TEST(EtcdWire, RejectsBrokenReplies) {
  auto not_json = wire::decodeRange("<html>");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().code, EPROTO);
  auto bad_key = wire::decodeRange(R"({"header":{"revision":"4"},"kvs":[{"key":"!!"}]})");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.error().message.find("key"), std::string::npos);
  auto bad_rev = wire::decodeRange(R"({"header":{"revision":"x4"}})");
  ASSERT_FALSE(bad_rev.ok());
  EXPECT_NE(bad_rev.error().message.find("revision"), std::string::npos);
}

TEST(EtcdWire, EncodesTxnCompares) {
  Txn txn{{Compare::absent("/k"), Compare::valueIs("/v", "x")},
          {Op::put("/k", "1"), Op::erase("/p/", prefixEnd("/p/"))},
          {Op::range("/k")}};
  auto doc = nlohmann::json::parse(wire::encodeTxn(txn));
  EXPECT_EQ(
      doc["compare"][0],
      (nlohmann::json{
          {"key", "L2s="}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}}));
  EXPECT_EQ(doc["compare"][1]["target"], "VALUE");
  EXPECT_EQ(doc["compare"][1]["value"], "eA==");
  EXPECT_EQ(doc["success"][0]["request_put"]["value"], "MQ==");
  EXPECT_EQ(doc["success"][1]["request_delete_range"]["range_end"], base64Encode("/p0"));
  EXPECT_EQ(doc["failure"][0]["request_range"]["key"], "L2s=");
}

TEST(EtcdWire, DecodesTxnReplies) {
  auto failed = wire::decodeTxn(
      R"({"header":{"revision":"4"},"responses":[{"response_range":{"header":{"revision":"4"},)"
      R"("kvs":[{"key":"L2s=","create_revision":"4","mod_revision":"4","version":"1",)"
      R"("value":"eA=="}],"count":"1"}}]})");
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  EXPECT_FALSE(failed->succeeded);
  ASSERT_EQ(failed->responses.size(), 1u);
  EXPECT_EQ(failed->responses[0].kvs.at(0).value, "x");

  auto deleted = wire::decodeTxn(
      R"({"header":{"revision":"9"},"succeeded":true,"responses":[{"response_put":)"
      R"({"header":{"revision":"9"}}},{"response_delete_range":{"deleted":"3"}}]})");
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->succeeded);
  EXPECT_EQ(deleted->revision, 9);
  EXPECT_EQ(deleted->responses[1].deleted, 3);
}

TEST(EtcdWire, DecodesWatchMessages) {
  auto created =
      wire::decodeWatchMessage(R"({"result":{"header":{"revision":"4"},"created":true}})");
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->revision, 4);

  auto events = wire::decodeWatchMessage(
      R"({"result":{"header":{"revision":"6"},"events":[{"kv":{"key":"L2E=","value":"MQ==",)"
      R"("mod_revision":"5"}},{"type":"DELETE","kv":{"key":"L2E=","mod_revision":"6"}}]}})");
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->events.size(), 2u);
  EXPECT_EQ(events->events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(events->events[0].kv.value, "1");
  EXPECT_EQ(events->events[1].type, WatchEvent::Type::kDelete);

  auto compacted = wire::decodeWatchMessage(
      R"({"result":{"header":{},"canceled":true,"compact_revision":"4"}})");
  ASSERT_TRUE(compacted.ok());
  EXPECT_TRUE(compacted->canceled);
  EXPECT_EQ(compacted->compact_revision, 4);

  auto error = wire::decodeWatchMessage(R"({"error":{"grpc_code":14,"message":"no leader"}})");
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->error, "no leader");
}

TEST(EtcdWire, ErrorTextPrefersEtcdsMessage) {
  EXPECT_EQ(
      wire::errorText(R"({"error":"x","message":"etcdserver: too many operations","code":3})"),
      "etcdserver: too many operations (grpc code 3)");
  EXPECT_EQ(wire::errorText("plain"), "plain");
}

TEST(EtcdEndpoint, ParsesHttpUrlsOnly) {
  auto v4 = HttpEndpoint::parse("http://127.0.0.1:2379");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, "2379");
  auto v6 = HttpEndpoint::parse("http://[::1]:2379/");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->toString(), "http://[::1]:2379");
  for (const char* bad :
       {"https://127.0.0.1:2379", "127.0.0.1:2379", "http://127.0.0.1", "http://127.0.0.1:0",
        "http://127.0.0.1:70000", "http://:2379", "http://[::1]2379", "http://a/b:1"}) {
    auto parsed = HttpEndpoint::parse(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find(bad), std::string::npos) << parsed.error().message;
  }
}

}  // namespace
}  // namespace weft::etcd
