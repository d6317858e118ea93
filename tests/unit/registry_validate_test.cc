// SPDX-License-Identifier: Apache-2.0
// Model validation: valid services and endpoints pass, and each rule rejects with a message
// naming the field and the value.
#include "userspace/registry/model_validate.h"

#include <gtest/gtest.h>

#include <functional>

#include "userspace/registry/registry.h"

namespace weft::registry {
namespace {

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

Service validService() {
  Service svc;
  svc.name = "web";
  svc.ports = {{"", 80, WEFT_PROTO_TCP}};
  return svc;
}

Endpoint validEndpoint() {
  Endpoint ep;
  ep.service = "web";
  ep.host = ip("10.0.0.1");
  ep.port = 8080;
  return ep;
}

struct ServiceCase {
  const char* what;
  std::function<void(Service&)> change;
  const char* message;
};

struct EndpointCase {
  const char* what;
  std::function<void(Endpoint&)> change;
  const char* message;
};

TEST(RegistryValidate, ValidValuesPass) {
  EXPECT_TRUE(validateService(validService()));
  EXPECT_TRUE(validateEndpoint(validEndpoint()));

  Service multi = validService();
  multi.name = std::string(63, 'a');
  multi.ns = "a-1";
  multi.ports = {{"http", 80, WEFT_PROTO_TCP}, {"dns", 80, WEFT_PROTO_UDP}};
  multi.labels = {{std::string(63, 'k'), std::string(253, 'v')},
                  {"utf8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}};
  multi.vip = ip("fd00:96::1");
  auto st = validateService(multi);
  EXPECT_TRUE(st) << st.error().message;

  Endpoint ep = validEndpoint();
  ep.host = ip("fd00::5");
  ep.weight = 0;
  ep.ttl_seconds = 86400;
  ep.health.kind = HealthCheckKind::kHttp;
  ep.health.interval_ms = 100;
  ep.health.timeout_ms = 99;
  st = validateEndpoint(ep);
  EXPECT_TRUE(st) << st.error().message;
}

TEST(RegistryValidate, ServiceRejections) {
  const ServiceCase cases[] = {
      {"empty name", [](Service& s) { s.name = ""; },
       "name: \"\" is empty; a DNS label has 1..63 characters"},
      {"long name", [](Service& s) { s.name = std::string(64, 'a'); },
       "name: \""
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "\" is 64 characters; a DNS label has at most 63"},
      {"upper case", [](Service& s) { s.name = "Web"; },
       "name: \"Web\" is not a DNS label: only a-z, 0-9 and '-' are allowed"},
      {"dot", [](Service& s) { s.name = "web.x"; },
       "name: \"web.x\" is not a DNS label: only a-z, 0-9 and '-' are allowed"},
      {"leading dash", [](Service& s) { s.name = "-web"; },
       "name: \"-web\" is not a DNS label: it must not start or end with '-'"},
      {"trailing dash", [](Service& s) { s.name = "web-"; },
       "name: \"web-\" is not a DNS label: it must not start or end with '-'"},
      {"bad namespace", [](Service& s) { s.ns = "my_ns"; },
       "ns: \"my_ns\" is not a DNS label: only a-z, 0-9 and '-' are allowed"},
      {"empty namespace", [](Service& s) { s.ns = ""; }, "ns: \"\" is empty"},
      {"no ports", [](Service& s) { s.ports.clear(); }, "ports: at least one port is required"},
      {"17 ports",
       [](Service& s) {
         s.ports.clear();
         for (uint16_t i = 0; i < 17; ++i) {
           s.ports.push_back({"p" + std::to_string(i), static_cast<uint16_t>(100 + i), 6});
         }
       },
       "ports: 17 ports; at most 16"},
      {"port 0", [](Service& s) { s.ports[0].port = 0; }, "ports[0].port: 0 is not in 1..65535"},
      {"protocol", [](Service& s) { s.ports[0].protocol = 1; },
       "ports[0].protocol: 1 is not tcp (6) or udp (17)"},
      {"bad port name", [](Service& s) { s.ports[0].name = "HTTP"; },
       "ports[0].name: \"HTTP\" is not a DNS label"},
      {"unnamed of several",
       [](Service& s) {
         s.ports = {{"http", 80, 6}, {"", 81, 6}};
       },
       "ports[1].name: a name is required when a service has several ports"},
      {"duplicate name",
       [](Service& s) {
         s.ports = {{"http", 80, 6}, {"http", 81, 6}};
       },
       "ports[1].name: \"http\" is used twice (first at ports[0])"},
      {"duplicate number",
       [](Service& s) {
         s.ports = {{"a", 80, 6}, {"b", 81, 6}, {"c", 80, 6}};
       },
       "ports[2]: 80/tcp is listed twice (first at ports[0])"},
      // The end marker has an enum value but no algorithm. (A value outside the enum's
      // range would be undefined behaviour before validation even sees it.)
      {"algorithm", [](Service& s) { s.algorithm = WEFT_LB_ALGO_MAX; },
       "algorithm: 5 is not a supported algorithm (round_robin, random, weighted, least_conn, "
       "maglev)"},
      {"unspecified vip", [](Service& s) { s.vip = ip("0.0.0.0"); },
       "vip: 0.0.0.0 is the unspecified address"},
      {"unspecified v6 vip", [](Service& s) { s.vip = ip("::"); },
       "vip: :: is the unspecified address"},
      {"mapped vip", [](Service& s) { s.vip = ip("::ffff:10.96.0.1"); },
       "vip: ::ffff:10.96.0.1 is an IPv4-mapped IPv6 address; use the IPv4 form 10.96.0.1"},
      {"family 0 vip", [](Service& s) { s.vip = IpAddr{}; },
       "vip: an IPv4 or IPv6 address is required"},
      {"empty label key",
       [](Service& s) {
         s.labels = {{"", "x"}};
       },
       "labels: key \"\" is 0 characters; keys have 1..63"},
      {"long label key",
       [](Service& s) {
         s.labels = {{std::string(64, 'k'), "x"}};
       },
       "is 64 characters; keys have 1..63"},
      {"long label value",
       [](Service& s) {
         s.labels = {{"app", std::string(254, 'v')}};
       },
       "labels.app: \"vvvv"},
      {"too many labels",
       [](Service& s) {
         for (int i = 0; i < 65; ++i) {
           s.labels["k" + std::to_string(i)] = "v";
         }
       },
       "labels: 65 labels; at most 64"},
  };
  for (const ServiceCase& c : cases) {
    Service svc = validService();
    c.change(svc);
    auto st = validateService(svc);
    ASSERT_FALSE(st) << c.what;
    EXPECT_EQ(st.error().code, kInvalid) << c.what;
    EXPECT_NE(st.error().message.find(c.message), std::string::npos)
        << c.what << ": " << st.error().message;
  }
}

TEST(RegistryValidate, LabelValueLengthNamesTheSize) {
  Service svc = validService();
  svc.labels = {{"app", std::string(254, 'v')}};
  auto st = validateService(svc);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("\"... is 254 characters; at most 253"), std::string::npos)
      << st.error().message;
}

TEST(RegistryValidate, EndpointRejections) {
  const EndpointCase cases[] = {
      {"service name", [](Endpoint& e) { e.service = "Web"; },
       "service: \"Web\" is not a DNS label"},
      {"no service", [](Endpoint& e) { e.service = ""; }, "service: \"\" is empty"},
      {"namespace", [](Endpoint& e) { e.ns = "a.b"; }, "ns: \"a.b\" is not a DNS label"},
      {"no host", [](Endpoint& e) { e.host = IpAddr{}; },
       "host: an IPv4 or IPv6 address is required"},
      {"unspecified host", [](Endpoint& e) { e.host = ip("0.0.0.0"); },
       "host: 0.0.0.0 is the unspecified address"},
      {"unspecified v6 host", [](Endpoint& e) { e.host = ip("::"); },
       "host: :: is the unspecified address"},
      {"mapped host", [](Endpoint& e) { e.host = ip("::ffff:127.0.0.1"); },
       "host: ::ffff:127.0.0.1 is an IPv4-mapped IPv6 address; use the IPv4 form 127.0.0.1"},
      {"port 0", [](Endpoint& e) { e.port = 0; }, "port: 0 is not in 1..65535"},
      {"port name", [](Endpoint& e) { e.port_name = "-x"; },
       "port_name: \"-x\" is not a DNS label: it must not start or end with '-'"},
      {"version", [](Endpoint& e) { e.version = std::string(254, 'v'); },
       "is 254 characters; at most 253"},
      {"zone", [](Endpoint& e) { e.zone = std::string(300, 'z'); }, "zone: \"zzz"},
      {"weight", [](Endpoint& e) { e.weight = 65536; }, "weight: 65536 is not in 0..65535"},
      {"ttl", [](Endpoint& e) { e.ttl_seconds = 86401; }, "ttl_seconds: 86401 is not in 0..86400"},
      {"label key",
       [](Endpoint& e) {
         e.labels = {{"", "v"}};
       },
       "labels: key \"\""},
      {"health kind", [](Endpoint& e) { e.health.kind = static_cast<HealthCheckKind>(7); },
       "health.kind: 7 is not none, tcp or http"},
      {"http path", [](Endpoint& e) { e.health.http_path = "healthz"; },
       "health.http_path: \"healthz\" must start with '/'"},
      {"empty http path", [](Endpoint& e) { e.health.http_path = ""; },
       "health.http_path: \"\" must start with '/'"},
      {"http path with space", [](Endpoint& e) { e.health.http_path = "/a b"; },
       "health.http_path: \"/a b\" contains a space, control or non-ASCII character"},
      {"http path with CRLF", [](Endpoint& e) { e.health.http_path = "/a\r\nHost: x"; },
       "health.http_path: \"/a\\r\\nHost: x\" contains a space, control or non-ASCII character"},
      {"non-ASCII http path", [](Endpoint& e) { e.health.http_path = "/\xc3\xa9"; },
       "contains a space, control or non-ASCII character"},
      {"bad UTF-8 version", [](Endpoint& e) { e.version = "v\xff"; },
       "version: is not valid UTF-8"},
      {"bad UTF-8 label value",
       [](Endpoint& e) {
         e.labels = {{"a", "\xc0\x80"}};
       },
       "labels.a: is not valid UTF-8"},
      {"surrogate in zone", [](Endpoint& e) { e.zone = "\xed\xa0\x80"; },
       "zone: is not valid UTF-8"},
      {"truncated UTF-8", [](Endpoint& e) { e.zone = "ab\xe2\x82"; }, "zone: is not valid UTF-8"},
      {"bad UTF-8 label key",
       [](Endpoint& e) {
         e.labels = {{"\x80", "v"}};
       },
       "labels: a key is not valid UTF-8"},
      {"long http path", [](Endpoint& e) { e.health.http_path = "/" + std::string(1024, 'p'); },
       "is 1025 characters; at most 1024"},
      {"status", [](Endpoint& e) { e.health.expected_status = 600; },
       "health.expected_status: 600 is not in 100..599"},
      {"short interval", [](Endpoint& e) { e.health.interval_ms = 99; },
       "health.interval_ms: 99 is not in 100..3600000"},
      {"long interval", [](Endpoint& e) { e.health.interval_ms = 3600001; },
       "health.interval_ms: 3600001 is not in 100..3600000"},
      {"zero timeout", [](Endpoint& e) { e.health.timeout_ms = 0; },
       "health.timeout_ms: 0 is not in 1..3600000"},
      {"timeout = interval",
       [](Endpoint& e) {
         e.health.interval_ms = 1000;
         e.health.timeout_ms = 1000;
       },
       "health.timeout_ms: 1000 must be less than interval_ms (1000)"},
      {"healthy threshold", [](Endpoint& e) { e.health.healthy_threshold = 0; },
       "health.healthy_threshold: 0 is not in 1..100"},
      {"unhealthy threshold", [](Endpoint& e) { e.health.unhealthy_threshold = 101; },
       "health.unhealthy_threshold: 101 is not in 1..100"},
  };
  for (const EndpointCase& c : cases) {
    Endpoint ep = validEndpoint();
    c.change(ep);
    auto st = validateEndpoint(ep);
    ASSERT_FALSE(st) << c.what;
    EXPECT_EQ(st.error().code, kInvalid) << c.what;
    EXPECT_NE(st.error().message.find(c.message), std::string::npos)
        << c.what << ": " << st.error().message;
  }
}

TEST(RegistryValidate, PathPrefixesFieldNames) {
  Endpoint ep = validEndpoint();
  ep.health.interval_ms = 1;
  auto st = validateEndpoint(ep, "endpoints[2]");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "endpoints[2].health.interval_ms: 1 is not in 100..3600000");
}

TEST(RegistryValidate, DnsLabelProblem) {
  EXPECT_EQ(dnsLabelProblem("name", "a"), "");
  EXPECT_EQ(dnsLabelProblem("name", "0-9"), "");
  EXPECT_NE(dnsLabelProblem("name", "a b"), "");
  EXPECT_NE(dnsLabelProblem("name", "\xc3\xa9"), "");
}

}  // namespace
}  // namespace weft::registry
