// SPDX-License-Identifier: Apache-2.0
// Maglev options, session affinity and drain in the registry: JSON and validation of the new
// service fields, persistence in SQLite, live edits through Registry and the PATCH route, and
// what toServiceConfigs hands the controller (the fields, draining members).
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/unit/registry_api_fixture.h"
#include "tests/unit/registry_test_util.h"
#include "userspace/api/api_router.h"
#include "userspace/registry/endpoint_usable.h"
#include "userspace/registry/model_json.h"
#include "userspace/registry/model_validate.h"
#include "userspace/registry/registry.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::registry {
namespace {

using nlohmann::json;
using testing::cidr;
using testing::ip;
using testing::makeEndpoint;
using testing::makeService;
using testing::TempDir;

constexpr int64_t kNow = 1'000'000;

Service maglevService() {
  Service svc = makeService("web");
  svc.vip = ip("10.96.0.1");
  svc.algorithm = WEFT_LB_MAGLEV;
  svc.maglev_table_size = 251;
  svc.hash_key = HashKey::kClientAddrPort;
  svc.affinity_timeout_seconds = 30;
  return svc;
}

// Every endpoint down except those listed.
class UpSet : public HealthView {
 public:
  explicit UpSet(std::set<std::string> up) : up_(std::move(up)) {}
  bool healthy(const Endpoint& ep) const override { return up_.count(ep.id()) > 0; }

 private:
  std::set<std::string> up_;
};

TEST(BalancingJson, RoundTripsAndDefaultsAreLeftOutOfStoredDocuments) {
  Service svc = maglevService();
  json full = toJson(svc);
  EXPECT_EQ(full["algorithm"], "maglev");
  EXPECT_EQ(full["maglev_table_size"], 251);
  EXPECT_EQ(full["hash_key"], "client_addr_port");
  EXPECT_EQ(full["affinity_timeout_seconds"], 30);
  for (JsonForm form : {JsonForm::kFull, JsonForm::kStored}) {
    auto back = serviceFromJson(toJson(svc, form));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->maglev_table_size, 251u);
    EXPECT_EQ(back->hash_key, HashKey::kClientAddrPort);
    EXPECT_EQ(back->affinity_timeout_seconds, 30u);
  }

  // The API shows the defaults; stores leave them out, as agents before these fields did.
  Service plain = makeService("web");
  EXPECT_EQ(toJson(plain)["maglev_table_size"], 0);
  EXPECT_EQ(toJson(plain)["hash_key"], "client_addr");
  EXPECT_EQ(toJson(plain)["affinity_timeout_seconds"], 0);
  json stored = toJson(plain, JsonForm::kStored);
  EXPECT_FALSE(stored.contains("maglev_table_size"));
  EXPECT_FALSE(stored.contains("hash_key"));
  EXPECT_FALSE(stored.contains("affinity_timeout_seconds"));

  auto old =
      serviceFromJson(json::parse(R"({"name":"web","ports":[{"port":80}],"algorithm":"random"})"));
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->maglev_table_size, 0u);
  EXPECT_EQ(old->hash_key, HashKey::kClientAddr);
  EXPECT_EQ(old->affinity_timeout_seconds, 0u);
}

TEST(BalancingJson, DecodingErrorsNameTheFieldAndValue) {
  struct Case {
    const char* doc;
    const char* message;
  } cases[] = {
      {R"({"name":"w","algorithm":"ring_hash"})",
       "algorithm: \"ring_hash\" is not one of round_robin, random, weighted, least_conn, maglev"},
      {R"({"name":"w","maglev_table_size":-1})", "maglev_table_size: -1 is not in 0..4294967295"},
      {R"({"name":"w","maglev_table_size":"251"})", "maglev_table_size: \"251\" is not an integer"},
      {R"({"name":"w","hash_key":"client"})",
       "hash_key: \"client\" is not one of client_addr, client_addr_port"},
      {R"({"name":"w","hash_key":1})", "hash_key: 1 is not a string"},
      {R"({"name":"w","affinity_timeout_seconds":86401})",
       "affinity_timeout_seconds: 86401 is not in 0..86400"},
  };
  for (const Case& c : cases) {
    auto svc = serviceFromJson(json::parse(c.doc));
    ASSERT_FALSE(svc) << c.doc;
    EXPECT_EQ(svc.error().message, c.message) << c.doc;
    EXPECT_EQ(svc.error().code, kInvalid);
  }
}

TEST(BalancingValidation, RejectsWithFieldAndValue) {
  EXPECT_TRUE(validateService(maglevService()));

  Service svc = maglevService();
  svc.maglev_table_size = 1000;
  EXPECT_EQ(validateService(svc, "services[0]").error().message,
            "services[0].maglev_table_size: 1000 is not a prime in 251..131071 (0 picks the "
            "default 16381)");
  svc.maglev_table_size = 131101;  // prime, but past the maximum
  EXPECT_EQ(validateService(svc).error().message,
            "maglev_table_size: 131101 is not a prime in 251..131071 (0 picks the default 16381)");

  svc = maglevService();
  svc.affinity_timeout_seconds = 86401;
  EXPECT_EQ(validateService(svc).error().message,
            "affinity_timeout_seconds: 86401 is not in 0..86400");
  svc.affinity_timeout_seconds = 86400;
  EXPECT_TRUE(validateService(svc));

  svc.hash_key = static_cast<HashKey>(7);
  EXPECT_EQ(validateService(svc).error().message,
            "hash_key: 7 is not client_addr or client_addr_port");
}

TEST(BalancingValidation, LeastConnRefusesAnyUdpPort) {
  Service dns = makeService("dns");
  dns.algorithm = WEFT_LB_LEAST_CONN;
  dns.ports = {{"tcp", 53, WEFT_PROTO_TCP}, {"udp", 53, WEFT_PROTO_UDP}};
  auto st = validateService(dns, "services[2]");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message,
            "services[2].algorithm: least_conn counts TCP connections; service \"dns\" port 53 "
            "is udp");
  EXPECT_EQ(st.error().code, kInvalid);
  dns.ports.pop_back();
  EXPECT_TRUE(validateService(dns));
  dns.ports = {{"", 53, WEFT_PROTO_UDP}};
  dns.algorithm = WEFT_LB_MAGLEV;  // every other algorithm balances UDP
  EXPECT_TRUE(validateService(dns));
}

TEST(BalancingConfigs, FieldsReachEveryPortsConfig) {
  Service svc = maglevService();
  svc.ports = {{"http", 80, WEFT_PROTO_TCP}, {"dns", 53, WEFT_PROTO_UDP}};
  AllHealthy all;
  auto configs = toServiceConfigs(svc, {}, all, kNow);
  ASSERT_EQ(configs.size(), 2u);
  for (const ServiceConfig& config : configs) {
    EXPECT_EQ(config.algorithm, WEFT_LB_MAGLEV);
    EXPECT_EQ(config.maglev_table_size, 251u);
    EXPECT_EQ(config.hash_key, HashKey::kClientAddrPort);
    EXPECT_EQ(config.affinity_timeout_s, 30u);
  }
}

TEST(BalancingConfigs, DrainedEndpointsStayAsDrainingMembersOnlyWhileOtherwiseUsable) {
  Service svc = maglevService();
  Endpoint active = makeEndpoint("web", "10.0.0.4", 80);
  Endpoint drained = makeEndpoint("web", "10.0.0.1", 80);
  drained.drained = true;
  Endpoint drained_sick = makeEndpoint("web", "10.0.0.2", 80);
  drained_sick.drained = true;
  Endpoint drained_expired = makeEndpoint("web", "10.0.0.3", 80);
  drained_expired.drained = true;
  drained_expired.ttl_seconds = 5;
  drained_expired.last_heartbeat_ms = kNow - 5001;
  Endpoint drained_weight0 = makeEndpoint("web", "10.0.0.5", 80);
  drained_weight0.drained = true;
  drained_weight0.weight = 0;
  Endpoint weight0 = makeEndpoint("web", "10.0.0.6", 80);
  weight0.weight = 0;
  UpSet health({"10.0.0.1:80", "10.0.0.3:80", "10.0.0.4:80", "10.0.0.5:80", "10.0.0.6:80"});

  EXPECT_TRUE(endpointDraining(drained, health, kNow));
  EXPECT_FALSE(endpointDraining(drained_sick, health, kNow));
  EXPECT_FALSE(endpointDraining(drained_expired, health, kNow));
  EXPECT_FALSE(endpointDraining(drained_weight0, health, kNow));
  EXPECT_FALSE(endpointDraining(active, health, kNow));

  auto configs = toServiceConfigs(
      svc, {active, drained, drained_sick, drained_expired, drained_weight0, weight0}, health,
      kNow);
  ASSERT_EQ(configs.size(), 1u);
  // Sorted by address as before: the draining member first, then the active one.
  std::vector<BackendConfig> want = {{ip("10.0.0.1"), 80, 100, true},
                                     {ip("10.0.0.4"), 80, 100, false}};
  EXPECT_EQ(configs[0].backends, want);
}

TEST(BalancingConfigs, WithASplitDrainedEndpointsGetNoShareButStayDraining) {
  Service svc = maglevService();
  svc.split = TrafficSplit{"version", {{"v1", 50}, {"v2", 50}}};
  Endpoint v1 = makeEndpoint("web", "10.0.0.1", 80);
  v1.version = "v1";
  Endpoint v2 = makeEndpoint("web", "10.0.0.2", 80);
  v2.version = "v2";
  Endpoint v2_drained = makeEndpoint("web", "10.0.0.3", 80);
  v2_drained.version = "v2";
  v2_drained.weight = 300;
  v2_drained.drained = true;
  AllHealthy all;

  auto configs = toServiceConfigs(svc, {v2_drained, v2, v1}, all, kNow);
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].algorithm, WEFT_LB_WEIGHTED);
  // v2's half goes to 10.0.0.2 alone: the drained endpoint's weight 300 does not dilute it.
  std::vector<BackendConfig> want = {{ip("10.0.0.1"), 80, 1, false},
                                     {ip("10.0.0.2"), 80, 1, false},
                                     {ip("10.0.0.3"), 80, 300, true}};
  EXPECT_EQ(configs[0].backends, want);
}

class BalancingRegistryTest : public testing::SqliteRegistryFixture {};

TEST_F(BalancingRegistryTest, FieldsPersistAcrossReopen) {
  Service svc = maglevService();
  svc.vip.reset();
  ASSERT_TRUE(registry_->registerService(svc));
  ASSERT_TRUE(registry_->registerService(makeService("plain")));
  reopen();

  auto web = registry_->getService("default", "web");
  ASSERT_TRUE(web) << web.error().message;
  EXPECT_EQ(web->algorithm, WEFT_LB_MAGLEV);
  EXPECT_EQ(web->maglev_table_size, 251u);
  EXPECT_EQ(web->hash_key, HashKey::kClientAddrPort);
  EXPECT_EQ(web->affinity_timeout_seconds, 30u);
  auto plain = registry_->getService("default", "plain");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->maglev_table_size, 0u);
  EXPECT_EQ(plain->affinity_timeout_seconds, 0u);
}

TEST_F(BalancingRegistryTest, RegisteringRefusesBadValues) {
  Service svc = maglevService();
  svc.vip.reset();
  svc.maglev_table_size = 256;
  auto stored = registry_->registerService(svc);
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code, kInvalid);
  EXPECT_EQ(stored.error().message,
            "maglev_table_size: 256 is not a prime in 251..131071 (0 picks the default 16381)");
}

TEST_F(BalancingRegistryTest, PatchSetsEachFieldAndKeepsTheOthers) {
  ASSERT_TRUE(registry_->registerService(makeService("web")));
  ServicePatch patch;
  patch.algorithm = WEFT_LB_MAGLEV;
  patch.maglev_table_size = 65521;
  patch.hash_key = HashKey::kClientAddrPort;
  auto svc = registry_->patchService("default", "web", patch);
  ASSERT_TRUE(svc) << svc.error().message;
  EXPECT_EQ(svc->maglev_table_size, 65521u);

  ServicePatch affinity;
  affinity.affinity_timeout_seconds = 120;
  svc = registry_->patchService("default", "web", affinity);
  ASSERT_TRUE(svc) << svc.error().message;
  reopen();
  auto reread = registry_->getService("default", "web");
  ASSERT_TRUE(reread);
  EXPECT_EQ(reread->algorithm, WEFT_LB_MAGLEV);
  EXPECT_EQ(reread->maglev_table_size, 65521u);
  EXPECT_EQ(reread->hash_key, HashKey::kClientAddrPort);
  EXPECT_EQ(reread->affinity_timeout_seconds, 120u);

  ServicePatch bad;
  bad.maglev_table_size = 65535;
  auto refused = registry_->patchService("default", "web", bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, kInvalid);
  EXPECT_EQ(registry_->getService("default", "web")->maglev_table_size, 65521u);
}

TEST_F(BalancingRegistryTest, ConfigDeclaredServicesKeepTheFilesBalancing) {
  Service declared = makeService("cfg");
  declared.vip = ip("10.96.1.1");
  declared.labels[kSourceLabel] = kSourceConfig;
  declared.affinity_timeout_seconds = 10;
  ASSERT_TRUE(registry_->declare({declared}, {}));

  ServicePatch affinity;
  affinity.affinity_timeout_seconds = 60;
  auto svc = registry_->patchService("default", "cfg", affinity);
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error().code, kConflict);
  EXPECT_EQ(svc.error().message,
            "affinity_timeout_seconds: service default/cfg is declared in weftd's config file "
            "(label weft.io/source=config); change its affinity_timeout_seconds there");
  ServicePatch table;
  table.maglev_table_size = 251;
  EXPECT_EQ(registry_->patchService("default", "cfg", table).error().code, kConflict);
  // Setting what the file says already is no change.
  affinity.affinity_timeout_seconds = 10;
  EXPECT_TRUE(registry_->patchService("default", "cfg", affinity));
}

TEST_F(BalancingRegistryTest, PatchRouteAcceptsTheFieldsAndGetShowsThem) {
  ASSERT_TRUE(registry_->registerService(makeService("web")));
  auto r = call("PATCH", "/v1/services/default/web",
                R"({"algorithm":"maglev","maglev_table_size":251,"hash_key":"client_addr_port",)"
                R"("affinity_timeout_seconds":30})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = call("GET", "/v1/services/default/web");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["algorithm"], "maglev");
  EXPECT_EQ(body["maglev_table_size"], 251);
  EXPECT_EQ(body["hash_key"], "client_addr_port");
  EXPECT_EQ(body["affinity_timeout_seconds"], 30);

  r = call("PATCH", "/v1/services/default/web", R"({"affinity_timeout_seconds":0})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["affinity_timeout_seconds"], 0);
  EXPECT_EQ(json::parse(r.body)["maglev_table_size"], 251);

  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {R"({"maglev_table_size":1000})",
       "maglev_table_size: 1000 is not a prime in 251..131071 (0 picks the default 16381)"},
      {R"({"maglev_table_size":-3})", "maglev_table_size: -3 is not in 0..4294967295"},
      {R"({"maglev_table_size":"big"})", "maglev_table_size: \"big\" is not an integer"},
      {R"({"hash_key":"port"})", "hash_key: \"port\" is not one of client_addr, client_addr_port"},
      {R"({"hash_key":[1]})", "hash_key: a list is not one of client_addr, client_addr_port"},
      {R"({"affinity_timeout_seconds":90000})",
       "affinity_timeout_seconds: 90000 is not in 0..86400"},
      {R"({"affinity_timeout_seconds":1.5})", "affinity_timeout_seconds: 1.5 is not an integer"},
  };
  for (const Case& c : cases) {
    r = call("PATCH", "/v1/services/default/web", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(json::parse(r.body)["error"]["message"], c.message) << c.body;
  }
}

TEST_F(BalancingRegistryTest, LeastConnPatchOfAUdpServiceIsRefused) {
  Service dns = makeService("dns", 53);
  dns.ports[0].protocol = WEFT_PROTO_UDP;
  ASSERT_TRUE(registry_->registerService(dns));
  auto r = call("PATCH", "/v1/services/default/dns", R"({"algorithm":"least_conn"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["message"],
            "algorithm: least_conn counts TCP connections; service \"dns\" port 53 is udp");
}

TEST_F(BalancingRegistryTest, EndpointsCreatingTheirServiceUseTheGivenAlgorithm) {
  auto r = call("POST", "/v1/services/default/mesh/endpoints?create_service=true&algorithm=maglev",
                R"({"host":"10.0.0.1","port":8080})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(registry_->getService("default", "mesh")->algorithm, WEFT_LB_MAGLEV);
  // An existing service keeps its own algorithm.
  r = call("POST", "/v1/services/default/mesh/endpoints?create_service=true&algorithm=random",
           R"({"host":"10.0.0.2","port":8080})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(registry_->getService("default", "mesh")->algorithm, WEFT_LB_MAGLEV);

  r = call("POST", "/v1/services/default/other/endpoints?create_service=true&algorithm=fastest",
           R"({"host":"10.0.0.3","port":8080})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["message"],
            "algorithm: \"fastest\" is not one of round_robin, random, weighted, least_conn, "
            "maglev");
}

}  // namespace
}  // namespace weft::registry
