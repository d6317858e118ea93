// SPDX-License-Identifier: Apache-2.0
// The API routes without sockets: status codes, error mapping, bodies, and that every failed
// request leaves the registry exactly as it was.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/unit/api_test_util.h"
#include "userspace/api/api_router.h"

namespace weft::api {
namespace {

using nlohmann::json;

class ApiRouterTest : public ::testing::Test {
 protected:
  ApiResponse call(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    return router_.handle(ApiRequest{method, target, body});
  }

  json callJson(const std::string& method, const std::string& target, int expected_status,
                const std::string& body = "") {
    ApiResponse out = call(method, target, body);
    EXPECT_EQ(out.status, expected_status) << method << " " << target << ": " << out.body;
    if (out.body.empty()) {
      return json();
    }
    return json::parse(out.body);
  }

  // Expects an error reply and returns its message.
  std::string expectError(const ApiResponse& out, int status, const std::string& code) {
    EXPECT_EQ(out.status, status) << out.body;
    json body = json::parse(out.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body.contains("error")) << out.body;
    if (!body.is_object() || !body.contains("error")) {
      return "";
    }
    EXPECT_EQ(body["error"]["code"], code) << out.body;
    return body["error"]["message"].get<std::string>();
  }

  void registerWeb() {
    callJson(
        "POST", "/v1/services", 201,
        R"({"name":"web","ports":[{"name":"http","port":80},{"name":"metrics","port":9090}]})");
  }

  void registerEndpoint(const std::string& host, int port, const std::string& extra = "") {
    callJson("POST", "/v1/services/default/web/endpoints", 201,
             R"({"host":")" + host + R"(","port":)" + std::to_string(port) + extra + "}");
  }

  registry::Snapshot snapshot() { return *f_.store.snapshot(); }

  testing::RegistryFixture f_;
  ApiRouter router_{f_.registry, f_.health, "1.2.3"};
};

// Runs `request` and checks that neither the stored data nor the write count moved.
#define EXPECT_UNTOUCHED(request)                                     \
  do {                                                                \
    registry::Snapshot before = snapshot();                           \
    int writes = f_.store.writes();                                   \
    request;                                                          \
    registry::Snapshot after = snapshot();                            \
    EXPECT_EQ(after.services, before.services);                       \
    EXPECT_EQ(after.endpoints, before.endpoints);                     \
    EXPECT_EQ(f_.store.writes(), writes) << "a failed request wrote"; \
  } while (0)

TEST_F(ApiRouterTest, RegistersServiceWithAllocatedVip) {
  json service = callJson("POST", "/v1/services", 201,
                          R"({"name":"web","ns":"shop","ports":[{"port":80}],
                              "labels":{"app":"web"},"algorithm":"random"})");
  EXPECT_EQ(service["name"], "web");
  EXPECT_EQ(service["ns"], "shop");
  EXPECT_EQ(service["algorithm"], "random");
  ASSERT_TRUE(service.contains("vip"));
  auto vip = IpAddr::parse(service["vip"].get<std::string>());
  ASSERT_TRUE(vip.ok());
  EXPECT_TRUE(Cidr::parse("10.96.0.0/16")->contains(*vip));

  json list = callJson("GET", "/v1/services", 200);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["vip"], service["vip"]);
  EXPECT_EQ(list[0]["labels"]["app"], "web");

  json one = callJson("GET", "/v1/services/shop/web", 200);
  EXPECT_EQ(one["vip"], service["vip"]);
  EXPECT_EQ(one["endpoints"], json::array());
}

TEST_F(ApiRouterTest, ListFiltersByNamespaceAndSorts) {
  callJson("POST", "/v1/services", 201, R"({"name":"b","ports":[{"port":80}]})");
  callJson("POST", "/v1/services", 201, R"({"name":"a","ports":[{"port":80}]})");
  callJson("POST", "/v1/services", 201, R"({"name":"c","ns":"other","ports":[{"port":80}]})");

  json all = callJson("GET", "/v1/services", 200);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["name"], "a");
  EXPECT_EQ(all[1]["name"], "b");
  EXPECT_EQ(all[2]["ns"], "other");

  json other = callJson("GET", "/v1/services?ns=other", 200);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0]["name"], "c");
}

TEST_F(ApiRouterTest, InvalidServicesAre400AndStoreNothing) {
  registerWeb();
  struct Case {
    const char* body;
    const char* code;
    const char* field;  // the message must name it
  } cases[] = {
      {R"({"name":"","ports":[{"port":80}]})", "invalid_argument", "name"},
      {R"({"name":"Web_1","ports":[{"port":80}]})", "invalid_argument", "name"},
      {R"({"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
           "ports":[{"port":80}]})",
       "invalid_argument", "name"},
      {R"({"name":"x","ports":[{"port":0}]})", "invalid_argument", "ports[0].port"},
      {R"({"name":"x","ports":[{"port":65536}]})", "invalid_argument", "ports[0].port"},
      {R"({"name":"x","ports":[{"port":80,"protocol":"sctp"}]})", "invalid_argument", "protocol"},
      {R"({"name":"x","ports":[]})", "invalid_argument", "ports"},
      {R"({"name":"x","ports":[{"port":80}],"vip":"192.168.1.1"})", "invalid_argument", "vip"},
      {R"({"name":"x","ports":[{"port":80}],"colour":"red"})", "invalid_argument", "colour"},
      {R"({"name":"x","ports":[{"port":80}],"algorithm":"fastest"})", "invalid_argument",
       "algorithm"},
      {R"([1,2])", "invalid_argument", "body"},
      {R"({"name":"x", "ports":)", "bad_request", ""},
      {"", "bad_request", ""},
      {"\xff\xfe", "bad_request", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    EXPECT_UNTOUCHED({
      std::string message = expectError(call("POST", "/v1/services", c.body), 400, c.code);
      EXPECT_NE(message.find(c.field), std::string::npos) << message;
    });
  }
  EXPECT_EQ(callJson("GET", "/v1/services", 200).size(), 1u);
}

TEST_F(ApiRouterTest, DuplicateServiceIs409) {
  registerWeb();
  EXPECT_UNTOUCHED({
    std::string message = expectError(
        call("POST", "/v1/services", R"({"name":"web","ports":[{"port":81}]})"), 409, "conflict");
    EXPECT_NE(message.find("web"), std::string::npos) << message;
  });
}

TEST_F(ApiRouterTest, UpdateKeepsVipAndChecksPathAgreement) {
  registerWeb();
  std::string vip = callJson("GET", "/v1/services/default/web", 200)["vip"];

  json updated = callJson("PUT", "/v1/services/default/web", 200,
                          R"({"ports":[{"port":8080}],"algorithm":"random"})");
  EXPECT_EQ(updated["vip"], vip);
  EXPECT_EQ(updated["algorithm"], "random");
  EXPECT_EQ(updated["ports"][0]["port"], 8080);

  EXPECT_UNTOUCHED({
    std::string message = expectError(
        call("PUT", "/v1/services/default/web", R"({"name":"api","ports":[{"port":80}]})"), 400,
        "invalid_argument");
    EXPECT_NE(message.find("name"), std::string::npos) << message;
  });
  EXPECT_UNTOUCHED(expectError(
      call("PUT", "/v1/services/other/web", R"({"ns":"default","ports":[{"port":80}]})"), 400,
      "invalid_argument"));
  EXPECT_UNTOUCHED(expectError(
      call("PUT", "/v1/services/default/nope", R"({"ports":[{"port":80}]})"), 404, "not_found"));
  EXPECT_UNTOUCHED(expectError(call("PUT", "/v1/services/default/web", "{"), 400, "bad_request"));
}

TEST_F(ApiRouterTest, DeleteServiceRemovesEndpointsAndUnknownIs404) {
  registerWeb();
  registerEndpoint("127.0.0.1", 8081);
  EXPECT_EQ(call("DELETE", "/v1/services/default/web").status, 204);
  EXPECT_TRUE(snapshot().services.empty());
  EXPECT_TRUE(snapshot().endpoints.empty());

  EXPECT_UNTOUCHED(expectError(call("DELETE", "/v1/services/default/web"), 404, "not_found"));
  EXPECT_UNTOUCHED(expectError(call("GET", "/v1/services/default/web"), 404, "not_found"));
}

TEST_F(ApiRouterTest, EndpointLifecycle) {
  registerWeb();
  registerEndpoint("127.0.0.1", 8081,
                   R"(,"version":"v1","zone":"a","weight":50,"labels":{"k":"v"},
                      "health":{"kind":"http","http_path":"/health","interval_ms":1000,
                                "timeout_ms":500})");
  registerEndpoint("127.0.0.2", 9090, R"(,"port_name":"metrics")");

  json list = callJson("GET", "/v1/services/default/web/endpoints", 200);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], "127.0.0.1:8081");
  EXPECT_EQ(list[0]["version"], "v1");
  EXPECT_EQ(list[0]["health"]["http_path"], "/health");
  EXPECT_EQ(list[0]["healthy"], true);
  EXPECT_EQ(list[1]["id"], "127.0.0.2:9090");
  EXPECT_EQ(list[1]["port_name"], "metrics");

  f_.health.setDown("127.0.0.1:8081", true);
  list = callJson("GET", "/v1/services/default/web", 200)["endpoints"];
  EXPECT_EQ(list[0]["healthy"], false);
  EXPECT_EQ(list[1]["healthy"], true);

  EXPECT_EQ(call("PUT", "/v1/services/default/web/endpoints/127.0.0.1:8081/heartbeat").status, 204);
  EXPECT_EQ(call("DELETE", "/v1/services/default/web/endpoints/127.0.0.1:8081").status, 204);
  EXPECT_EQ(call("DELETE", "/v1/services/default/web/endpoints/127.0.0.2%3A9090").status, 204);
  EXPECT_TRUE(snapshot().endpoints.empty());
}

TEST_F(ApiRouterTest, Ipv6EndpointIdsInPaths) {
  callJson("POST", "/v1/services", 201,
           R"({"name":"web6","ports":[{"port":80}],"vip":"fd00:96::10"})");
  callJson("POST", "/v1/services/default/web6/endpoints", 201, R"({"host":"::1","port":8082})");
  json list = callJson("GET", "/v1/services/default/web6/endpoints", 200);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], "[::1]:8082");

  // Ids travel percent-encoded and in any spelling of the address.
  const std::string base = "/v1/services/default/web6/endpoints/";
  EXPECT_EQ(call("PUT", base + "%5B0%3A0%3A%3A1%5D%3A8082/heartbeat").status, 204);
  EXPECT_EQ(call("PUT", base + "[::1]:8082/heartbeat").status, 204);
  EXPECT_EQ(call("DELETE", base + "%5B%3A%3A1%5D%3A8082").status, 204);
  EXPECT_TRUE(snapshot().endpoints.empty());
}

TEST_F(ApiRouterTest, EndpointErrorsLeaveStoreUntouched) {
  registerWeb();
  registerEndpoint("127.0.0.1", 8081);
  const std::string base = "/v1/services/default/web/endpoints";

  EXPECT_UNTOUCHED(
      expectError(call("POST", base, R"({"host":"127.0.0.1","port":8081})"), 409, "conflict"));
  EXPECT_UNTOUCHED(expectError(
      call("POST", "/v1/services/default/nope/endpoints", R"({"host":"127.0.0.1","port":8081})"),
      404, "not_found"));
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"host":"example.com","port":80})", "host"},
      {R"({"host":"0.0.0.0","port":80})", "host"},
      {R"({"host":"127.0.0.1","port":0})", "port"},
      {R"({"host":"127.0.0.1","port":70000})", "port"},
      {R"({"host":"127.0.0.1"})", "port"},
      {R"({"host":"127.0.0.1","port":80,"service":"other"})", "service"},
      {R"({"host":"127.0.0.1","port":80,"port_name":"nope"})", "port_name"},
      {R"({"host":"127.0.0.1","port":80,"health":{"kind":"udp"}})", "health.kind"},
      {R"({"host":"127.0.0.1","port":80,"weight":-1})", "weight"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    EXPECT_UNTOUCHED({
      std::string message = expectError(call("POST", base, c.body), 400, "invalid_argument");
      EXPECT_NE(message.find(c.field), std::string::npos) << message;
    });
  }
  EXPECT_UNTOUCHED(expectError(call("POST", base, "{\"host\":"), 400, "bad_request"));
  EXPECT_UNTOUCHED(
      expectError(call("POST", base + "?create_service=maybe", R"({"host":"127.0.0.1","port":9})"),
                  400, "invalid_argument"));
  EXPECT_UNTOUCHED(expectError(call("DELETE", base + "/127.0.0.1:9999"), 404, "not_found"));
  EXPECT_UNTOUCHED(expectError(call("DELETE", base + "/127.0.0.1"), 400, "invalid_argument"));
  EXPECT_UNTOUCHED(expectError(call("DELETE", base + "/::1:80"), 400, "invalid_argument"));
  EXPECT_UNTOUCHED(expectError(call("PUT", base + "/127.0.0.1:9999/heartbeat"), 404, "not_found"));
  EXPECT_EQ(callJson("GET", base, 200).size(), 1u);
}

TEST_F(ApiRouterTest, CreateServiceOnEndpointRegistration) {
  json endpoint = callJson("POST", "/v1/services/default/api/endpoints?create_service=true", 201,
                           R"({"host":"127.0.0.1","port":8443})");
  EXPECT_EQ(endpoint["service"], "api");
  json service = callJson("GET", "/v1/services/default/api", 200);
  EXPECT_EQ(service["ports"][0]["port"], 8443);
  EXPECT_EQ(service["endpoints"].size(), 1u);
}

TEST_F(ApiRouterTest, HeartbeatKeepsTtlEndpointUsable) {
  registerWeb();
  registerEndpoint("127.0.0.1", 8081, R"(,"ttl_seconds":10)");
  const std::string base = "/v1/services/default/web/endpoints";

  f_.now_ms += 8000;
  EXPECT_EQ(call("PUT", base + "/127.0.0.1:8081/heartbeat").status, 204);
  f_.now_ms += 8000;
  EXPECT_EQ(callJson("GET", base, 200)[0]["healthy"], true);
  f_.now_ms += 8000;
  EXPECT_EQ(callJson("GET", base, 200)[0]["healthy"], false);
  expectError(call("GET", "/v1/discover/default/web"), 503, "unavailable");
}

TEST_F(ApiRouterTest, DiscoverRoundRobinSkipsUnhealthy) {
  registerWeb();
  registerEndpoint("127.0.0.3", 80);
  registerEndpoint("127.0.0.1", 80);
  registerEndpoint("127.0.0.2", 80);
  f_.health.setDown("127.0.0.2:80", true);

  std::vector<std::string> picked;
  for (int i = 0; i < 4; i++) {
    picked.push_back(callJson("GET", "/v1/discover/default/web", 200)["id"]);
  }
  EXPECT_EQ(picked, (std::vector<std::string>{"127.0.0.1:80", "127.0.0.3:80", "127.0.0.1:80",
                                              "127.0.0.3:80"}));
}

TEST_F(ApiRouterTest, DiscoverRandomStaysInTheUsableSet) {
  callJson("POST", "/v1/services", 201,
           R"({"name":"web","ports":[{"port":80}],"algorithm":"random"})");
  registerEndpoint("127.0.0.1", 80);
  registerEndpoint("127.0.0.2", 80);
  registerEndpoint("127.0.0.3", 80);
  f_.health.setDown("127.0.0.3:80", true);

  std::set<std::string> seen;
  for (int i = 0; i < 200; i++) {
    seen.insert(callJson("GET", "/v1/discover/default/web", 200)["id"].get<std::string>());
  }
  EXPECT_EQ(seen, (std::set<std::string>{"127.0.0.1:80", "127.0.0.2:80"}));
}

TEST_F(ApiRouterTest, DiscoverErrors) {
  expectError(call("GET", "/v1/discover/default/nope"), 404, "not_found");
  registerWeb();
  std::string message = expectError(call("GET", "/v1/discover/default/web"), 503, "unavailable");
  EXPECT_NE(message.find("default/web"), std::string::npos);
}

TEST_F(ApiRouterTest, StatusReportsCountsAndVersion) {
  registerWeb();
  registerEndpoint("127.0.0.1", 80);
  registerEndpoint("127.0.0.2", 80);
  f_.health.setDown("127.0.0.2:80", true);

  json status = callJson("GET", "/v1/status", 200);
  EXPECT_EQ(status["version"], "1.2.3");
  EXPECT_EQ(status["services"], 1);
  EXPECT_EQ(status["endpoints"], 2);
  EXPECT_EQ(status["healthy_endpoints"], 1);
}

TEST_F(ApiRouterTest, UnknownRoutesAndMethods) {
  expectError(call("GET", "/v2/services"), 404, "not_found");
  expectError(call("GET", "/"), 404, "not_found");
  expectError(call("GET", "/v1/services/default/web/endpoints/1.2.3.4:80/other"), 404, "not_found");

  ApiResponse out = call("PATCH", "/v1/services");
  expectError(out, 405, "method_not_allowed");
  EXPECT_EQ(out.allow, "GET, POST");
  expectError(call("POST", "/v1/status"), 405, "method_not_allowed");
  expectError(call("GET", "/v1/services/default/web/endpoints/1.2.3.4:80"), 405,
              "method_not_allowed");

  expectError(call("GET", "/v1/services/default/w%zzb"), 400, "bad_request");
  expectError(call("GET", "/v1/services/default/a%2Fb"), 400, "bad_request");
  expectError(call("GET", "relative"), 400, "bad_request");
}

}  // namespace
}  // namespace weft::api
