// SPDX-License-Identifier: Apache-2.0
// toServiceConfigs: one balanced service per port with the usable endpoints of that port.
#include <gtest/gtest.h>

#include <set>

#include "tests/unit/registry_test_util.h"
#include "userspace/registry/endpoint_usable.h"
#include "userspace/registry/registry.h"

namespace weft::registry {
namespace {

using testing::ip;
using testing::makeEndpoint;
using testing::makeService;

constexpr int64_t kNow = 1'000'000;

class DownSet : public HealthView {
 public:
  bool healthy(const Endpoint& ep) const override { return !down.count(ep.id()); }
  std::set<std::string> down;
};

Service withVip(Service svc, const char* vip) {
  svc.vip = ip(vip);
  return svc;
}

Endpoint endpoint(const char* service, const char* host, uint16_t port,
                  const std::string& port_name = "") {
  Endpoint ep = makeEndpoint(service, host, port);
  ep.port_name = port_name;
  ep.last_heartbeat_ms = kNow;
  return ep;
}

std::vector<BackendConfig> backends(std::initializer_list<std::pair<const char*, uint16_t>> list) {
  std::vector<BackendConfig> out;
  for (const auto& [host, port] : list) {
    out.push_back({ip(host), port});
  }
  return out;
}

TEST(ToServiceConfigs, SinglePortServiceIsNamedNameDotNamespace) {
  Snapshot snap;
  snap.services = {withVip(makeService("web"), "10.96.0.1")};
  snap.endpoints = {endpoint("web", "10.0.0.2", 8080), endpoint("web", "10.0.0.1", 8080)};
  AllHealthy all;

  auto configs = toServiceConfigs(snap, all, kNow);
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].name, "web.default");
  EXPECT_EQ(configs[0].vip, ip("10.96.0.1"));
  EXPECT_EQ(configs[0].port, 80);
  EXPECT_EQ(configs[0].protocol, WEFT_PROTO_TCP);
  EXPECT_EQ(configs[0].algorithm, WEFT_LB_ROUND_ROBIN);
  // Sorted, whatever order the store gave.
  EXPECT_EQ(configs[0].backends, backends({{"10.0.0.1", 8080}, {"10.0.0.2", 8080}}));
}

TEST(ToServiceConfigs, MultiPortServicesGetOneConfigPerPort) {
  Service svc = makeService("app", 80, "shop");
  svc.ports = {{"http", 80, WEFT_PROTO_TCP}, {"dns", 53, WEFT_PROTO_UDP}};
  svc.algorithm = WEFT_LB_RANDOM;
  Snapshot snap;
  snap.services = {withVip(svc, "10.96.0.7")};
  Endpoint unnamed = endpoint("app", "10.0.0.1", 8080);  // "" serves the first port
  Endpoint http = endpoint("app", "10.0.0.2", 8080, "http");
  Endpoint dns = endpoint("app", "10.0.0.3", 5353, "dns");
  for (Endpoint* ep : {&unnamed, &http, &dns}) {
    ep->ns = "shop";
  }
  snap.endpoints = {unnamed, http, dns};
  AllHealthy all;

  auto configs = toServiceConfigs(snap, all, kNow);
  ASSERT_EQ(configs.size(), 2u);
  EXPECT_EQ(configs[0].name, "app.shop:http");
  EXPECT_EQ(configs[0].backends, backends({{"10.0.0.1", 8080}, {"10.0.0.2", 8080}}));
  EXPECT_EQ(configs[1].name, "app.shop:dns");
  EXPECT_EQ(configs[1].port, 53);
  EXPECT_EQ(configs[1].protocol, WEFT_PROTO_UDP);
  EXPECT_EQ(configs[1].algorithm, WEFT_LB_RANDOM);
  EXPECT_EQ(configs[1].backends, backends({{"10.0.0.3", 5353}}));
}

TEST(ToServiceConfigs, UnusableEndpointsAreLeftOut) {
  Snapshot snap;
  snap.services = {withVip(makeService("web"), "10.96.0.1")};
  Endpoint ok = endpoint("web", "10.0.0.1", 80);
  Endpoint sick = endpoint("web", "10.0.0.2", 80);
  Endpoint expired = endpoint("web", "10.0.0.3", 80);
  expired.ttl_seconds = 5;
  expired.last_heartbeat_ms = kNow - 5001;
  Endpoint fresh = endpoint("web", "10.0.0.4", 80);
  fresh.ttl_seconds = 5;
  fresh.last_heartbeat_ms = kNow - 5000;
  Endpoint drained = endpoint("web", "10.0.0.5", 80);
  drained.weight = 0;
  Endpoint other_family = endpoint("web", "fd00::1", 80);
  Endpoint wrong_port = endpoint("web", "10.0.0.6", 80, "grpc");
  Endpoint other_service = endpoint("api", "10.0.0.7", 80);
  snap.endpoints = {ok, sick, expired, fresh, drained, other_family, wrong_port, other_service};
  DownSet health;
  health.down.insert("10.0.0.2:80");

  auto configs = toServiceConfigs(snap, health, kNow);
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].backends, backends({{"10.0.0.1", 80}, {"10.0.0.4", 80}}));
}

TEST(ToServiceConfigs, ServicesWithoutEndpointsKeepAnEmptySet) {
  Snapshot snap;
  snap.services = {withVip(makeService("b-svc", 81), "10.96.0.2"),
                   withVip(makeService("a-svc", 80), "10.96.0.1"), makeService("no-vip")};
  AllHealthy all;

  auto configs = toServiceConfigs(snap, all, kNow);
  ASSERT_EQ(configs.size(), 2u);  // a service without a VIP cannot be balanced
  EXPECT_EQ(configs[0].name, "a-svc.default");
  EXPECT_TRUE(configs[0].backends.empty());
  EXPECT_EQ(configs[1].name, "b-svc.default");
}

TEST(ToServiceConfigs, NamesFitTheServiceInfoMap) {
  Service svc = makeService(std::string(63, 'a'), 80, std::string(63, 'b'));
  svc.ports = {{std::string(63, 'c'), 80, WEFT_PROTO_TCP}, {"x", 81, WEFT_PROTO_TCP}};
  Snapshot snap;
  snap.services = {withVip(svc, "10.96.0.1")};
  AllHealthy all;

  auto configs = toServiceConfigs(snap, all, kNow);
  ASSERT_EQ(configs.size(), 2u);
  std::string base = std::string(63, 'a') + "." + std::string(63, 'b');
  EXPECT_EQ(configs[0].name, base.substr(0, 63) + ":" + std::string(63, 'c'));
  EXPECT_EQ(configs[1].name, base.substr(0, 125) + ":x");
  EXPECT_EQ(configs[1].name.size(), WEFT_SVC_NAME_LEN - 1u);
}

TEST(ToServiceConfigs, BackendSetIsCappedAtTheSlotLimit) {
  Snapshot snap;
  snap.services = {withVip(makeService("big"), "10.96.0.1")};
  for (int i = 0; i < WEFT_MAX_SLOTS_PER_SVC + 10; ++i) {
    std::string host = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    snap.endpoints.push_back(endpoint("big", host.c_str(), 80));
  }
  AllHealthy all;
  auto configs = toServiceConfigs(snap, all, kNow);
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].backends.size(), static_cast<size_t>(WEFT_MAX_SLOTS_PER_SVC));
}

}  // namespace
}  // namespace weft::registry
