// SPDX-License-Identifier: Apache-2.0
// Traffic splits, drain and live edits: JSON and validation of the new fields, split weights
// in toServiceConfigs, Registry patches over SQLite, and the PATCH routes.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <numeric>

#include <nlohmann/json.hpp>

#include "tests/unit/registry_api_fixture.h"
#include "tests/unit/registry_test_util.h"
#include "userspace/api/api_router.h"
#include "userspace/controller/weighted_slots.h"
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

TrafficSplit split(std::vector<SplitSubset> subsets, std::string key = "version") {
  return TrafficSplit{std::move(key), std::move(subsets)};
}

Endpoint versioned(const char* host, const std::string& version, uint32_t weight = 100) {
  Endpoint ep = makeEndpoint("web", host, 8080);
  ep.version = version;
  ep.weight = weight;
  ep.last_heartbeat_ms = kNow;
  return ep;
}

Service splitWeb(TrafficSplit s) {
  Service svc = makeService("web");
  svc.vip = ip("10.96.0.1");
  svc.split = std::move(s);
  return svc;
}

// Backend host -> weight of the active backends of the one config toServiceConfigs makes
// (draining ones take no new connections, so they have no share).
std::map<std::string, uint32_t> weights(const Service& svc, const std::vector<Endpoint>& eps) {
  AllHealthy all;
  auto configs = toServiceConfigs(svc, eps, all, kNow);
  std::map<std::string, uint32_t> out;
  EXPECT_EQ(configs.size(), 1u);
  for (const BackendConfig& be : configs.at(0).backends) {
    if (!be.draining) {
      out[be.address.toString()] = be.weight;
    }
  }
  return out;
}

// Share of the slots the controller would give each host, in slots out of `total`.
std::map<std::string, size_t> slotCounts(const Service& svc, const std::vector<Endpoint>& eps,
                                         size_t* total) {
  AllHealthy all;
  auto configs = toServiceConfigs(svc, eps, all, kNow);
  std::vector<uint32_t> w;
  for (const BackendConfig& be : configs.at(0).backends) {
    EXPECT_FALSE(be.draining) << be.address.toString();
    w.push_back(be.weight);
  }
  auto slots = weightedSlots(w, WEFT_MAX_SLOTS_PER_SVC);
  std::map<std::string, size_t> out;
  for (size_t index : slots) {
    ++out[configs[0].backends[index].address.toString()];
  }
  *total = slots.size();
  return out;
}

TEST(SplitJson, RoundTripsAndOldDocumentsLoad) {
  Service svc = splitWeb(split({{"v1", 90}, {"v2", 10}}));
  json full = toJson(svc);
  EXPECT_EQ(full["split"], json::parse(R"({"key":"version","subsets":[{"value":"v1","percent":90},)"
                                       R"({"value":"v2","percent":10}]})"));
  auto back = serviceFromJson(full);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->split, svc.split);
  auto stored = serviceFromJson(toJson(svc, JsonForm::kStored));
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->split, svc.split);

  // Without a split nothing is written; documents of older agents (no split, no drained)
  // load with the defaults.
  EXPECT_FALSE(toJson(makeService("web"), JsonForm::kStored).contains("split"));
  auto old = serviceFromJson(json::parse(R"({"name":"web","ports":[{"port":80}]})"));
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->split);
  auto nulled = serviceFromJson(json::parse(R"({"name":"web","split":null})"));
  ASSERT_TRUE(nulled);
  EXPECT_FALSE(nulled->split);

  Endpoint ep = versioned("10.0.0.1", "v1");
  EXPECT_FALSE(toJson(ep, JsonForm::kStored).contains("drained"));
  EXPECT_EQ(toJson(ep)["drained"], false);
  ep.drained = true;
  EXPECT_EQ(toJson(ep, JsonForm::kStored)["drained"], true);
  auto decoded = endpointFromJson(toJson(ep, JsonForm::kStored));
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->drained);
  auto old_ep = endpointFromJson(json::parse(R"({"host":"10.0.0.1","port":80})"));
  ASSERT_TRUE(old_ep);
  EXPECT_FALSE(old_ep->drained);
}

TEST(SplitJson, DecodingErrorsNameTheField) {
  struct Case {
    const char* doc;
    const char* message;
  } cases[] = {
      {R"({"name":"w","split":[]})", "split: a list is not an object"},
      {R"({"name":"w","split":{"key":"version"}})", "split.subsets: required field is missing"},
      {R"({"name":"w","split":{"subsets":[{"value":"v1","percent":101}]}})",
       "split.subsets[0].percent: 101 is not in 0..100"},
      {R"({"name":"w","split":{"subsets":[{"value":"v1"}]}})",
       "split.subsets[0].percent: required field is missing"},
      {R"({"name":"w","split":{"subsets":[{"value":"v1","percent":100,"x":1}]}})",
       "split.subsets[0].x: unknown field"},
  };
  for (const Case& c : cases) {
    auto svc = serviceFromJson(json::parse(c.doc));
    ASSERT_FALSE(svc) << c.doc;
    EXPECT_EQ(svc.error().message, c.message) << c.doc;
  }
  auto ep = endpointFromJson(json::parse(R"({"host":"10.0.0.1","port":80,"drained":"yes"})"));
  ASSERT_FALSE(ep);
  EXPECT_EQ(ep.error().message, "drained: \"yes\" is not true or false");
}

TEST(SplitValidate, PercentsSubsetsAndKey) {
  EXPECT_TRUE(validateSplit(split({{"v1", 100}, {"v2", 0}}), "split"));
  EXPECT_TRUE(validateSplit(split({{"nobody-has-this", 100}}), "split"));
  struct Case {
    TrafficSplit split;
    const char* message;
  } cases[] = {
      {split({{"v1", 90}, {"v2", 20}}),
       "split.subsets: percents add up to 110; they must add up to 100"},
      {split({{"v1", 50}}), "split.subsets: percents add up to 50; they must add up to 100"},
      {split({}), "split.subsets: 0 subsets; a split has 1..16"},
      {split({{"v1", 50}, {"v1", 50}}), "split.subsets[1].value: \"v1\" is already subsets[0]"},
      {split({{"", 100}}), "split.subsets[0].value: \"\" is not a label value to split by"},
      {split({{"v1", 100}}, ""), "split.key: \"\" is not a label key of 1..63 characters"},
  };
  for (const Case& c : cases) {
    Status st = validateSplit(c.split, "split");
    ASSERT_FALSE(st) << c.message;
    EXPECT_EQ(st.error().message, c.message);
  }
  std::vector<SplitSubset> many;
  for (int i = 0; i < 17; ++i) {
    many.push_back({"v" + std::to_string(i), i == 0 ? 100u : 0u});
  }
  Status st = validateSplit(split(many), "split");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "split.subsets: 17 subsets; a split has 1..16");
  // validateService checks the split with its field path.
  Status svc = validateService(splitWeb(split({{"v1", 99}})));
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error().message, "split.subsets: percents add up to 99; they must add up to 100");
}

TEST(SplitConfigs, SharesAreExactForCanaryPercents) {
  std::vector<Endpoint> eps = {versioned("10.0.0.1", "v1"), versioned("10.0.0.2", "v1"),
                               versioned("10.0.0.3", "v1"), versioned("10.0.0.4", "v2"),
                               versioned("10.0.0.5", "v2")};
  Service svc = splitWeb(split({{"v1", 95}, {"v2", 5}}));
  svc.algorithm = WEFT_LB_ROUND_ROBIN;  // a split balances as weighted whatever this says
  AllHealthy all;
  EXPECT_EQ(toServiceConfigs(svc, eps, all, kNow).at(0).algorithm, WEFT_LB_WEIGHTED);

  size_t total = 0;
  auto slots = slotCounts(svc, eps, &total);
  // 95% over three and 5% over two: 38+38+38 of 120 = 95%, 3+3 = 5%.
  EXPECT_EQ(total, 120u);
  EXPECT_EQ(slots["10.0.0.1"], 38u);
  EXPECT_EQ(slots["10.0.0.4"], 3u);

  svc.split = split({{"v1", 90}, {"v2", 10}});
  slots = slotCounts(svc, eps, &total);
  EXPECT_EQ(slots["10.0.0.1"] * 3 * 100, total * 90);
  EXPECT_EQ((slots["10.0.0.4"] + slots["10.0.0.5"]) * 100, total * 10);

  svc.split = split({{"v1", 75}, {"v2", 25}});
  auto w = weights(svc, {versioned("10.0.0.1", "v1"), versioned("10.0.0.4", "v2")});
  EXPECT_EQ(w, (std::map<std::string, uint32_t>{{"10.0.0.1", 3}, {"10.0.0.4", 1}}));
}

TEST(SplitConfigs, EndpointWeightsDivideTheirSubsetsShare) {
  Service svc = splitWeb(split({{"v1", 50}, {"v2", 50}}));
  auto w = weights(svc, {versioned("10.0.0.1", "v1", 300), versioned("10.0.0.2", "v1", 100),
                         versioned("10.0.0.3", "v2", 7)});
  EXPECT_EQ(w,
            (std::map<std::string, uint32_t>{{"10.0.0.1", 3}, {"10.0.0.2", 1}, {"10.0.0.3", 4}}));
  // Labels name subsets too, and take precedence over the version field.
  svc.split = split({{"a", 60}, {"b", 40}}, "track");
  Endpoint a = versioned("10.0.0.1", "v1");
  a.labels["track"] = "a";
  Endpoint b = versioned("10.0.0.2", "v1");
  b.labels["track"] = "b";
  Endpoint none = versioned("10.0.0.3", "v1");
  w = weights(svc, {a, b, none});
  EXPECT_EQ(w, (std::map<std::string, uint32_t>{{"10.0.0.1", 3}, {"10.0.0.2", 2}}));
}

TEST(SplitConfigs, EmptySubsetsAndBlueGreen) {
  std::vector<Endpoint> eps = {versioned("10.0.0.1", "blue"), versioned("10.0.0.2", "green")};
  Service svc = splitWeb(split({{"blue", 100}, {"green", 0}}));
  EXPECT_EQ(weights(svc, eps), (std::map<std::string, uint32_t>{{"10.0.0.1", 1}}));
  svc.split = split({{"blue", 0}, {"green", 100}});
  EXPECT_EQ(weights(svc, eps), (std::map<std::string, uint32_t>{{"10.0.0.2", 1}}));

  // A subset without usable endpoints: the others keep their proportions between them.
  svc.split = split({{"blue", 60}, {"green", 30}, {"canary", 10}});
  EXPECT_EQ(weights(svc, eps), (std::map<std::string, uint32_t>{{"10.0.0.1", 2}, {"10.0.0.2", 1}}));
  // Only a 0% subset has endpoints: nothing to balance to.
  svc.split = split({{"canary", 100}, {"green", 0}});
  AllHealthy all;
  EXPECT_TRUE(toServiceConfigs(svc, eps, all, kNow).at(0).backends.empty());
}

TEST(SplitConfigs, DrainedAndWeightZeroEndpointsGetNothing) {
  Endpoint drained = versioned("10.0.0.1", "v1");
  drained.drained = true;
  EXPECT_FALSE(endpointUsable(drained, AllHealthy(), kNow));
  std::vector<Endpoint> eps = {drained, versioned("10.0.0.2", "v1"), versioned("10.0.0.3", "v1", 0),
                               versioned("10.0.0.4", "v2")};
  Service plain = makeService("web");
  plain.vip = ip("10.96.0.1");
  EXPECT_EQ(weights(plain, eps),
            (std::map<std::string, uint32_t>{{"10.0.0.2", 100}, {"10.0.0.4", 100}}));
  Service svc = splitWeb(split({{"v1", 80}, {"v2", 20}}));
  EXPECT_EQ(weights(svc, eps), (std::map<std::string, uint32_t>{{"10.0.0.2", 4}, {"10.0.0.4", 1}}));
  // The drained endpoint stays a draining member; the weight-0 one is gone.
  AllHealthy all;
  auto backends = toServiceConfigs(svc, eps, all, kNow).at(0).backends;
  ASSERT_EQ(backends.size(), 3u);
  EXPECT_EQ(backends[0].address, ip("10.0.0.1"));
  EXPECT_TRUE(backends[0].draining);
  EXPECT_FALSE(backends[1].draining);
}

TEST(SplitConfigs, LargeExactWeightsAreScaledWithSmallError) {
  // Exact weights would be 65535 : 1 : 65536, past the 65535 bound: scaled instead.
  Service svc = splitWeb(split({{"v1", 50}, {"v2", 50}}));
  auto w = weights(svc, {versioned("10.0.0.1", "v1", 65535), versioned("10.0.0.2", "v1", 1),
                         versioned("10.0.0.3", "v2", 65521)});
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w["10.0.0.3"], 65535u);
  EXPECT_EQ(w["10.0.0.2"], 1u);
  EXPECT_NEAR(double(w["10.0.0.1"]) / w["10.0.0.3"], 65535.0 / 65536.0, 1e-4);
}

class LiveEditTest : public testing::SqliteRegistryFixture {
 protected:
  void SetUp() override {
    SqliteRegistryFixture::SetUp();
    ASSERT_TRUE(registry_->registerService(makeService("web")));
    ASSERT_TRUE(registry_->registerEndpoint(versioned("10.0.0.1", "v1")));
    ASSERT_TRUE(registry_->registerEndpoint(versioned("10.0.0.2", "v2")));
  }
};

TEST_F(LiveEditTest, PatchesPersistAndReopenedStoreKeepsThem) {
  ServicePatch patch;
  patch.set_split = true;
  patch.split = split({{"v1", 90}, {"v2", 10}});
  patch.algorithm = WEFT_LB_WEIGHTED;
  auto svc = registry_->patchService("default", "web", patch);
  ASSERT_TRUE(svc) << svc.error().message;
  EXPECT_EQ(svc->split, patch.split);
  auto ep = registry_->patchEndpoint("default", "web", "10.0.0.1:8080", {uint32_t{7}, true});
  ASSERT_TRUE(ep) << ep.error().message;

  reopen();
  auto reread = store_->getService("default", "web");
  ASSERT_TRUE(reread);
  EXPECT_EQ(reread->split, patch.split);
  EXPECT_EQ(reread->algorithm, WEFT_LB_WEIGHTED);
  auto endpoint = store_->getEndpoint("default", "web", "10.0.0.1:8080");
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->weight, 7u);
  EXPECT_TRUE(endpoint->drained);
}

TEST_F(LiveEditTest, BadPatchesChangeNothing) {
  auto before = registry_->snapshot();
  ASSERT_TRUE(before);
  ServicePatch bad;
  bad.set_split = true;
  bad.split = split({{"v1", 90}, {"v2", 20}});
  auto svc = registry_->patchService("default", "web", bad);
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error().code, kInvalid);
  EXPECT_EQ(registry_->patchService("default", "nope", bad).error().code, kNotFound);
  EXPECT_EQ(
      registry_->patchEndpoint("default", "web", "10.0.0.9:1", {uint32_t{1}, {}}).error().code,
      kNotFound);
  auto after = registry_->snapshot();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->services, before->services);
  EXPECT_EQ(after->endpoints, before->endpoints);
}

TEST_F(LiveEditTest, ConfigDeclaredItemsKeepTheFilesAlgorithmAndWeight) {
  Service declared = makeService("cfg");
  declared.vip = ip("10.96.1.1");
  declared.labels[kSourceLabel] = kSourceConfig;
  Endpoint backend = makeEndpoint("cfg", "10.0.0.5", 80);
  backend.labels[kSourceLabel] = kSourceConfig;
  ASSERT_TRUE(registry_->declare({declared}, {backend}));

  ServicePatch algo;
  algo.algorithm = WEFT_LB_RANDOM;
  auto svc = registry_->patchService("default", "cfg", algo);
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error().code, kConflict);
  EXPECT_EQ(svc.error().message,
            "algorithm: service default/cfg is declared in weftd's config file (label "
            "weft.io/source=config); change its algorithm there");
  auto ep = registry_->patchEndpoint("default", "cfg", "10.0.0.5:80", {uint32_t{5}, {}});
  ASSERT_FALSE(ep);
  EXPECT_EQ(ep.error().code, kConflict);

  // Drain and split are live state the file does not express: allowed, and a later
  // declare of the same content keeps them.
  ASSERT_TRUE(registry_->patchEndpoint("default", "cfg", "10.0.0.5:80", {{}, true}));
  ServicePatch s;
  s.set_split = true;
  s.split = split({{"v1", 100}});
  ASSERT_TRUE(registry_->patchService("default", "cfg", s));
  ASSERT_TRUE(registry_->declare({declared}, {backend}));
  EXPECT_TRUE(store_->getEndpoint("default", "cfg", "10.0.0.5:80")->drained);
  EXPECT_EQ(store_->getService("default", "cfg")->split, s.split);
}

TEST_F(LiveEditTest, PatchRoutes) {
  auto r =
      call("PATCH", "/v1/services/default/web",
           R"({"split":{"subsets":[{"value":"v1","percent":75},{"value":"v2","percent":25}]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["split"]["key"], "version");
  r = call("PATCH", "/v1/services/default/web", R"({"split":null,"algorithm":"random"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(json::parse(r.body).contains("split"));
  EXPECT_EQ(json::parse(r.body)["algorithm"], "random");

  r = call("PATCH", "/v1/services/default/web/endpoints/10.0.0.1%3A8080",
           R"({"weight":0,"drained":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["weight"], 0);
  EXPECT_EQ(json::parse(r.body)["drained"], true);
  EXPECT_EQ(json::parse(r.body)["id"], "10.0.0.1:8080");

  struct Case {
    const char* target;
    const char* body;
    int status;
    const char* message;
  } cases[] = {
      {"/v1/services/default/web", R"({})", 400,
       "body: nothing to change; give algorithm, maglev_table_size, hash_key, "
       "affinity_timeout_seconds or split"},
      {"/v1/services/default/web", R"({"vip":"10.96.0.9"})", 400,
       "vip: unknown field; a service patch has algorithm, maglev_table_size, hash_key, "
       "affinity_timeout_seconds or split"},
      {"/v1/services/default/web", R"({"split":{"subsets":[{"value":"v1","percent":50}]}})", 400,
       "split.subsets: percents add up to 50; they must add up to 100"},
      {"/v1/services/default/nope", R"({"algorithm":"random"})", 404,
       "service default/nope does not exist"},
      {"/v1/services/default/web/endpoints/10.0.0.1%3A8080", R"({"weight":70000})", 400,
       "weight: 70000 is not in 0..65535"},
      {"/v1/services/default/web/endpoints/10.0.0.1%3A8080", R"({"drained":1})", 400,
       "drained: 1 is not true or false"},
      {"/v1/services/default/web/endpoints/10.0.0.1%3A8080", R"({})", 400,
       "body: nothing to change; give weight or drained"},
  };
  for (const Case& c : cases) {
    r = call("PATCH", c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " " << r.body;
    json body = json::parse(r.body, nullptr, false);
    EXPECT_EQ(body["error"]["message"], c.message) << c.body;
  }
  r = call("PATCH", "/v1/services/default/web", R"({"algorithm":"nosuch"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["message"],
            "algorithm: \"nosuch\" is not one of " + algorithmNames());
  r = call("POST", "/v1/services/default/web/endpoints/10.0.0.1%3A8080", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "PATCH, DELETE");
}

}  // namespace
}  // namespace weft::registry
