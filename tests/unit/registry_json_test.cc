// SPDX-License-Identifier: Apache-2.0
// The registry model's JSON form: round trips, defaults, and one case per decode rejection
// with the message it must carry.
#include "userspace/registry/model_json.h"

#include <gtest/gtest.h>

#include "userspace/registry/model_validate.h"
#include "userspace/registry/registry.h"

namespace weft::registry {
namespace {

using nlohmann::json;

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

Service fullService() {
  Service svc;
  svc.name = "web";
  svc.ns = "shop";
  svc.ports = {{"http", 80, WEFT_PROTO_TCP}, {"dns", 53, WEFT_PROTO_UDP}};
  svc.labels = {{"app", "web"}, {"tier", "front"}};
  svc.algorithm = WEFT_LB_RANDOM;
  svc.vip = ip("fd00:96::10");
  svc.revision = 42;
  return svc;
}

Endpoint fullEndpoint() {
  Endpoint ep;
  ep.service = "web";
  ep.ns = "shop";
  ep.host = ip("10.0.0.7");
  ep.port = 8080;
  ep.port_name = "http";
  ep.version = "v1.2";
  ep.zone = "eu-1a";
  ep.weight = 0;
  ep.labels = {{"canary", "true"}};
  ep.health.kind = HealthCheckKind::kHttp;
  ep.health.http_path = "/healthz";
  ep.health.expected_status = 204;
  ep.health.interval_ms = 1000;
  ep.health.timeout_ms = 200;
  ep.health.healthy_threshold = 1;
  ep.health.unhealthy_threshold = 5;
  ep.ttl_seconds = 30;
  ep.last_heartbeat_ms = 1700000000123;
  ep.revision = 9;
  return ep;
}

// Decodes `text` as a Service and returns the error message ("" on success).
std::string serviceError(const char* text) {
  auto svc = serviceFromJson(json::parse(text));
  if (svc) {
    return "";
  }
  EXPECT_EQ(svc.error().code, kInvalid);
  return svc.error().message;
}

std::string endpointError(const char* text) {
  auto ep = endpointFromJson(json::parse(text));
  if (ep) {
    return "";
  }
  EXPECT_EQ(ep.error().code, kInvalid);
  return ep.error().message;
}

TEST(RegistryJson, ServiceRoundTrip) {
  Service svc = fullService();
  json encoded = toJson(svc);

  EXPECT_EQ(encoded["vip"], "fd00:96::10");
  EXPECT_EQ(encoded["algorithm"], "random");
  EXPECT_EQ(encoded["ports"][1]["protocol"], "udp");
  auto decoded = serviceFromJson(json::parse(encoded.dump()));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, svc);
}

TEST(RegistryJson, ServiceWithoutVipOmitsIt) {
  Service svc = fullService();
  svc.vip.reset();
  json encoded = toJson(svc);

  EXPECT_FALSE(encoded.contains("vip"));
  auto decoded = serviceFromJson(encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, svc);
}

TEST(RegistryJson, EndpointRoundTrip) {
  Endpoint ep = fullEndpoint();
  json encoded = toJson(ep);

  EXPECT_EQ(encoded["host"], "10.0.0.7");
  EXPECT_EQ(encoded["health"]["kind"], "http");
  auto decoded = endpointFromJson(json::parse(encoded.dump()));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, ep);
}

TEST(RegistryJson, StoredFormDropsDefaultsAndRevision) {
  Endpoint plain;
  plain.service = "web";
  plain.host = ip("10.0.0.1");
  plain.port = 80;
  json stored = toJson(plain, JsonForm::kStored);
  EXPECT_EQ(stored, json::parse(R"({"service":"web","ns":"default","host":"10.0.0.1","port":80})"));
  auto decoded = endpointFromJson(stored);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, plain);

  Endpoint full = fullEndpoint();
  json full_stored = toJson(full, JsonForm::kStored);
  EXPECT_FALSE(full_stored.contains("revision"));
  EXPECT_TRUE(full_stored.contains("health"));
  auto full_decoded = endpointFromJson(full_stored);
  ASSERT_TRUE(full_decoded);
  full.revision = 0;
  EXPECT_EQ(*full_decoded, full);

  Service svc = fullService();
  svc.algorithm = WEFT_LB_ROUND_ROBIN;
  svc.ports[0].name = "";
  svc.ports.resize(1);
  json svc_stored = toJson(svc, JsonForm::kStored);
  EXPECT_EQ(svc_stored, json::parse(R"({"name":"web","ns":"shop","ports":[{"port":80}],
      "labels":{"app":"web","tier":"front"},"vip":"fd00:96::10"})"));
  auto svc_decoded = serviceFromJson(svc_stored);
  ASSERT_TRUE(svc_decoded);
  svc.revision = 0;
  EXPECT_EQ(*svc_decoded, svc);
}

TEST(RegistryJson, MinimalDocumentsTakeDefaults) {
  auto svc = serviceFromJson(json::parse(R"({"name":"web","ports":[{"port":80}]})"));
  ASSERT_TRUE(svc) << svc.error().message;
  EXPECT_EQ(svc->ns, "default");
  EXPECT_EQ(svc->ports[0].protocol, WEFT_PROTO_TCP);
  EXPECT_EQ(svc->algorithm, WEFT_LB_ROUND_ROBIN);
  EXPECT_FALSE(svc->vip);

  auto ep = endpointFromJson(json::parse(R"({"host":"::1","port":9000})"));
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->weight, 100u);
  EXPECT_EQ(ep->health, HealthCheck{});
  EXPECT_EQ(ep->id(), "[::1]:9000");

  auto null_vip = serviceFromJson(json::parse(R"({"name":"web","vip":null})"));
  ASSERT_TRUE(null_vip);
  EXPECT_FALSE(null_vip->vip);
}

TEST(RegistryJson, EndpointIdUsesBracketsForIpv6) {
  Endpoint ep;
  ep.host = ip("10.1.2.3");
  ep.port = 80;
  EXPECT_EQ(ep.id(), "10.1.2.3:80");
  ep.host = ip("fd00::1");
  EXPECT_EQ(ep.id(), "[fd00::1]:80");
}

TEST(RegistryJson, ServiceRejections) {
  struct Case {
    const char* input;
    const char* message;
  };
  const Case cases[] = {
      {R"([1])", "body: a list is not an object"},
      {R"({"ports":[]})", "name: required field is missing"},
      {R"({"name":5})", "name: 5 is not a string"},
      {R"({"name":"web","color":"red"})", "color: unknown field"},
      {R"({"name":"web","ns":null})", "ns: null is not a string"},
      {R"({"name":"web","ports":{"port":80}})", "ports: an object is not a list"},
      {R"({"name":"web","ports":[{"port":70000}]})", "ports[0].port: 70000 is not in 1..65535"},
      {R"({"name":"web","ports":[{"port":0}]})", "ports[0].port: 0 is not in 1..65535"},
      {R"({"name":"web","ports":[{"port":-1}]})", "ports[0].port: -1 is not in 1..65535"},
      {R"({"name":"web","ports":[{"port":80.0}]})", "ports[0].port: 80.0 is not an integer"},
      {R"({"name":"web","ports":[{"port":"80"}]})", "ports[0].port: \"80\" is not an integer"},
      {R"({"name":"web","ports":[{"name":"a"}]})", "ports[0].port: required field is missing"},
      {R"({"name":"web","ports":[{"port":80},{"port":81,"proto":"tcp"}]})",
       "ports[1].proto: unknown field"},
      {R"({"name":"web","ports":[{"port":80,"protocol":"sctp"}]})",
       "ports[0].protocol: \"sctp\" is not one of tcp, udp"},
      {R"({"name":"web","ports":[7]})", "ports[0]: 7 is not an object"},
      {R"({"name":"web","vip":"10.96.0.300"})", "vip: \"10.96.0.300\" is not an IP address"},
      {R"({"name":"web","vip":true})", "vip: true is not a string"},
      {R"({"name":"web","labels":["a"]})", "labels: a list is not an object"},
      {R"({"name":"web","labels":{"app":3}})", "labels.app: 3 is not a string"},
      {R"({"name":"web","revision":-4})", "revision: -4 is not in 0..18446744073709551615"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(serviceError(c.input), c.message) << c.input;
  }
  // The list grows as the data path learns algorithms.
  EXPECT_EQ(serviceError(R"({"name":"web","algorithm":"nosuch"})"),
            "algorithm: \"nosuch\" is not one of " + algorithmNames());
}

TEST(RegistryJson, TooManyPortsRejectedBeforeDecoding) {
  json ports = json::array();
  for (int i = 0; i < 17; ++i) {
    ports.push_back({{"port", 1000 + i}, {"name", "p" + std::to_string(i)}});
  }
  auto svc = serviceFromJson(json{{"name", "web"}, {"ports", ports}});
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error().message, "ports: 17 ports; at most 16");
}

TEST(RegistryJson, EndpointRejections) {
  struct Case {
    const char* input;
    const char* message;
  };
  const Case cases[] = {
      {R"("x")", "body: \"x\" is not an object"},
      {R"({"port":80})", "host: required field is missing"},
      {R"({"host":"10.0.0.1"})", "port: required field is missing"},
      {R"({"host":"web.example","port":80})", "host: \"web.example\" is not an IP address"},
      {R"({"host":"10.0.0.1","port":65536})", "port: 65536 is not in 1..65535"},
      {R"({"host":"10.0.0.1","port":80,"weight":70000})", "weight: 70000 is not in 0..65535"},
      {R"({"host":"10.0.0.1","port":80,"weight":-1})", "weight: -1 is not in 0..65535"},
      {R"({"host":"10.0.0.1","port":80,"ttl_seconds":86401})",
       "ttl_seconds: 86401 is not in 0..86400"},
      {R"({"host":"10.0.0.1","port":80,"healthy":true})", "healthy: unknown field"},
      {R"({"host":"10.0.0.1","port":80,"version":1})", "version: 1 is not a string"},
      {R"({"host":"10.0.0.1","port":80,"health":"http"})", "health: \"http\" is not an object"},
      {R"({"host":"10.0.0.1","port":80,"health":{"kind":"grpc"}})",
       "health.kind: \"grpc\" is not one of none, tcp, http"},
      {R"({"host":"10.0.0.1","port":80,"health":{"interval_ms":50}})",
       "health.interval_ms: 50 is not in 100..3600000"},
      {R"({"host":"10.0.0.1","port":80,"health":{"timeout_ms":0}})",
       "health.timeout_ms: 0 is not in 1..3600000"},
      {R"({"host":"10.0.0.1","port":80,"health":{"expected_status":99}})",
       "health.expected_status: 99 is not in 100..599"},
      {R"({"host":"10.0.0.1","port":80,"health":{"healthy_threshold":101}})",
       "health.healthy_threshold: 101 is not in 1..100"},
      {R"({"host":"10.0.0.1","port":80,"health":{"unhealthy_threshold":0}})",
       "health.unhealthy_threshold: 0 is not in 1..100"},
      {R"({"host":"10.0.0.1","port":80,"health":{"path":"/"}})", "health.path: unknown field"},
      {R"({"host":"10.0.0.1","port":80,"labels":{"a":{"b":"c"}}})",
       "labels.a: an object is not a string"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(endpointError(c.input), c.message) << c.input;
  }
}

TEST(RegistryJson, PathPrefixesMessages) {
  auto ep = endpointFromJson(json::parse(R"({"host":"10.0.0.1","port":0})"), "endpoints[3]");
  ASSERT_FALSE(ep);
  EXPECT_EQ(ep.error().message, "endpoints[3].port: 0 is not in 1..65535");
}

TEST(RegistryJson, LongValuesAreCutInMessages) {
  std::string host(5000, 'a');
  auto ep = endpointFromJson(json{{"host", host}, {"port", 80}});
  ASSERT_FALSE(ep);
  EXPECT_LT(ep.error().message.size(), 200u);
  EXPECT_NE(ep.error().message.find("aaa\"... is not an IP address"), std::string::npos)
      << ep.error().message;
}

TEST(RegistryJson, ParseJsonNeverThrows) {
  auto bad = parseJson("{\"name\": ");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, kInvalid);
  EXPECT_EQ(bad.error().message.rfind("malformed JSON: parse error at line 1", 0), 0u)
      << bad.error().message;

  auto deep = parseJson(std::string(20000, '[') + std::string(20000, ']'));
  ASSERT_TRUE(deep);
  auto svc = serviceFromJson(*deep);
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error().message, "body: a list is not an object");

  auto bad_utf8 = parseJson("{\"name\":\"\xff\"}");
  EXPECT_FALSE(bad_utf8);
}

}  // namespace
}  // namespace weft::registry
