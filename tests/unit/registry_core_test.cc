// SPDX-License-Identifier: Apache-2.0
// Registry operations over a real SQLite store: services, endpoints, create_service,
// heartbeats and TTL expiry, discovery, and bad input leaving the store untouched.
#include "userspace/registry/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "tests/unit/registry_test_util.h"
#include "userspace/registry/endpoint_usable.h"
#include "userspace/registry/model_validate.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::registry {
namespace {

using testing::cidr;
using testing::ip;
using testing::makeEndpoint;
using testing::makeService;
using testing::TempDir;

class UnhealthySet : public HealthView {
 public:
  bool healthy(const Endpoint& ep) const override { return !down.count(ep.id()); }
  std::set<std::string> down;
};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::open(dir_.file("registry.db"));
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    registry_ = std::make_unique<Registry>(
        *store_, std::vector<Cidr>{cidr("10.96.0.0/16"), cidr("fd00:96::/112")},
        [this] { return now_ms_.load(); });
  }

  uint64_t revision() {
    auto snap = registry_->snapshot();
    EXPECT_TRUE(snap);
    return snap ? snap->revision : 0;
  }

  TempDir dir_;
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, RegisterUpdateDeregisterService) {
  Service svc = makeService("web");
  svc.labels["team"] = "a";
  auto stored = registry_->registerService(svc);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->vip, ip("10.96.0.1"));
  EXPECT_GT(stored->revision, 0u);

  Service changed = makeService("web");
  changed.ports = {{"http", 80, WEFT_PROTO_TCP}, {"metrics", 9100, WEFT_PROTO_TCP}};
  changed.algorithm = WEFT_LB_RANDOM;
  auto updated = registry_->updateService(changed);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->vip, stored->vip);
  EXPECT_TRUE(updated->labels.empty());
  EXPECT_EQ(updated->ports.size(), 2u);

  ASSERT_TRUE(registry_->deregisterService("default", "web"));
  auto gone = registry_->deregisterService("default", "web");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, kNotFound);

  auto missing = registry_->updateService(makeService("web"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, kNotFound);
  EXPECT_EQ(missing.error().message, "service default/web does not exist");
}

TEST_F(RegistryTest, InvalidInputLeavesTheStoreUntouched) {
  ASSERT_TRUE(registry_->registerService(makeService("web")));
  ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("web", "10.0.0.1", 80)));
  uint64_t before = revision();

  auto bad_name = registry_->registerService(makeService("Web"));
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().code, kInvalid);
  EXPECT_EQ(bad_name.error().message.rfind("name: \"Web\" is not a DNS label", 0), 0u);

  auto bad_port = registry_->updateService(makeService("web", 0));
  ASSERT_FALSE(bad_port);
  EXPECT_EQ(bad_port.error().message, "ports[0].port: 0 is not in 1..65535");

  auto bad_host = registry_->registerEndpoint(makeEndpoint("web", "0.0.0.0", 80));
  ASSERT_FALSE(bad_host);
  EXPECT_EQ(bad_host.error().message, "host: 0.0.0.0 is the unspecified address");

  Endpoint heavy = makeEndpoint("web", "10.0.0.2", 80);
  heavy.weight = 70000;
  auto bad_weight = registry_->registerEndpoint(heavy);
  ASSERT_FALSE(bad_weight);
  EXPECT_EQ(bad_weight.error().message, "weight: 70000 is not in 0..65535");

  auto dup = registry_->registerEndpoint(makeEndpoint("web", "10.0.0.1", 80));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, kConflict);
  EXPECT_EQ(dup.error().message, "endpoint 10.0.0.1:80 already exists in service default/web");

  auto unknown = registry_->registerEndpoint(makeEndpoint("api", "10.0.0.1", 80));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, kNotFound);
  EXPECT_EQ(unknown.error().message, "service default/api does not exist");

  EXPECT_EQ(revision(), before);
}

TEST_F(RegistryTest, CreateServiceWithTheFirstEndpoint) {
  Endpoint ep = makeEndpoint("api", "fd00::5", 8443, "shop");
  auto stored = registry_->registerEndpoint(ep, true);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->last_heartbeat_ms, now_ms_.load());

  auto svc = store_->getService("shop", "api");
  ASSERT_TRUE(svc);
  // The VIP follows the endpoint's family although the IPv4 range comes first.
  EXPECT_EQ(svc->vip, ip("fd00:96::1"));
  ASSERT_EQ(svc->ports.size(), 1u);
  EXPECT_EQ(svc->ports[0], (ServicePort{"", 8443, WEFT_PROTO_TCP}));

  // A second endpoint joins the existing service.
  ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("api", "fd00::6", 8443, "shop"), true));
  auto snap = registry_->snapshot();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->services.size(), 1u);
  EXPECT_EQ(snap->endpoints.size(), 2u);

  Endpoint named = makeEndpoint("grpc", "10.0.0.9", 9000);
  named.port_name = "grpc";
  auto with_name = registry_->registerEndpoint(named, true);
  ASSERT_TRUE(with_name) << with_name.error().message;
  auto grpc = store_->getService("default", "grpc");
  ASSERT_TRUE(grpc);
  EXPECT_EQ(grpc->ports[0].name, "grpc");
  EXPECT_EQ(grpc->vip, ip("10.96.0.1"));
}

TEST_F(RegistryTest, EndpointMustMatchAPortAndTheVipFamily) {
  Service svc = makeService("web");
  svc.ports = {{"http", 80, WEFT_PROTO_TCP}, {"admin", 81, WEFT_PROTO_TCP}};
  ASSERT_TRUE(registry_->registerService(svc));

  Endpoint ep = makeEndpoint("web", "10.0.0.1", 8080);
  ep.port_name = "grpc";
  auto bad_port = registry_->registerEndpoint(ep);
  ASSERT_FALSE(bad_port);
  EXPECT_EQ(bad_port.error().code, kInvalid);
  EXPECT_EQ(bad_port.error().message,
            "port_name: \"grpc\" is not a port of service default/web (http, admin)");

  auto v6 = registry_->registerEndpoint(makeEndpoint("web", "fd00::1", 8080));
  ASSERT_FALSE(v6);
  EXPECT_EQ(v6.error().code, kInvalid);
  EXPECT_EQ(v6.error().message,
            "host: fd00::1 is IPv6 but service default/web has the IPv4 vip 10.96.0.1");

  ep.port_name = "admin";
  EXPECT_TRUE(registry_->registerEndpoint(ep));
}

TEST_F(RegistryTest, DeregisterEndpointAcceptsAnyIdSpelling) {
  ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("web", "fd00::1", 80), true));
  auto bad = registry_->deregisterEndpoint("default", "web", "fd00::1:80");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, kInvalid);
  EXPECT_EQ(bad.error().message,
            "endpoint: \"fd00::1:80\" is not host:port (IPv6 as [address]:port)");

  ASSERT_TRUE(registry_->deregisterEndpoint("default", "web", "[fd00:0:0::1]:080"));
  auto gone = registry_->deregisterEndpoint("default", "web", "[fd00::1]:80");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, kNotFound);
  EXPECT_EQ(gone.error().message, "endpoint [fd00::1]:80 does not exist in service default/web");
}

TEST_F(RegistryTest, CanonicalEndpointIds) {
  EXPECT_EQ(*canonicalEndpointId("10.0.0.1:80"), "10.0.0.1:80");
  EXPECT_EQ(*canonicalEndpointId("[FD00::0001]:65535"), "[fd00::1]:65535");
  for (const char* bad :
       {"", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536", "[10.0.0.1]:80", "[fd00::1]80",
        "::1:80", "host:80", "10.0.0.1:+80", "10.0.0.1:123456"}) {
    EXPECT_FALSE(canonicalEndpointId(bad)) << bad;
  }
}

TEST_F(RegistryTest, HeartbeatKeepsTtlEndpointsUsable) {
  ASSERT_TRUE(registry_->registerService(makeService("web")));
  Endpoint ttl = makeEndpoint("web", "10.0.0.1", 80);
  ttl.ttl_seconds = 10;
  ASSERT_TRUE(registry_->registerEndpoint(ttl));
  ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("web", "10.0.0.2", 80)));
  AllHealthy all;

  auto usable = [&] {
    auto eps = registry_->usableEndpoints("default", "web", all);
    EXPECT_TRUE(eps);
    std::set<std::string> ids;
    for (const Endpoint& ep : *eps) {
      ids.insert(ep.id());
    }
    return ids;
  };

  now_ms_ += 10'000;  // exactly at the deadline: still usable
  EXPECT_EQ(usable(), (std::set<std::string>{"10.0.0.1:80", "10.0.0.2:80"}));
  now_ms_ += 1;
  EXPECT_EQ(usable(), (std::set<std::string>{"10.0.0.2:80"}));

  ASSERT_TRUE(registry_->heartbeat("default", "web", "10.0.0.1:80"));
  auto ep = store_->getEndpoint("default", "web", "10.0.0.1:80");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->last_heartbeat_ms, now_ms_.load());
  EXPECT_EQ(usable(), (std::set<std::string>{"10.0.0.1:80", "10.0.0.2:80"}));

  // Without a TTL a heartbeat succeeds and writes nothing.
  uint64_t before = revision();
  ASSERT_TRUE(registry_->heartbeat("default", "web", "10.0.0.2:80"));
  EXPECT_EQ(revision(), before);

  auto unknown = registry_->heartbeat("default", "web", "10.0.0.3:80");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, kNotFound);
}

TEST_F(RegistryTest, UsableEndpointsExcludeUnhealthyAndDrained) {
  ASSERT_TRUE(registry_->registerService(makeService("web")));
  ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("web", "10.0.0.1", 80)));
  ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("web", "10.0.0.2", 80)));
  Endpoint drained = makeEndpoint("web", "10.0.0.3", 80);
  drained.weight = 0;
  ASSERT_TRUE(registry_->registerEndpoint(drained));

  UnhealthySet health;
  health.down.insert("10.0.0.2:80");
  auto eps = registry_->usableEndpoints("default", "web", health);
  ASSERT_TRUE(eps);
  ASSERT_EQ(eps->size(), 1u);
  EXPECT_EQ((*eps)[0].id(), "10.0.0.1:80");

  auto unknown = registry_->usableEndpoints("default", "nope", health);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, kNotFound);
}

TEST_F(RegistryTest, DeregisteringAServiceRemovesItsEndpoints) {
  ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("web", "10.0.0.1", 80), true));
  ASSERT_TRUE(registry_->deregisterService("default", "web"));
  auto snap = registry_->snapshot();
  ASSERT_TRUE(snap);
  EXPECT_TRUE(snap->services.empty());
  EXPECT_TRUE(snap->endpoints.empty());
}

TEST(EndpointUsable, ExpiryAndWeight) {
  Endpoint ep = makeEndpoint("web", "10.0.0.1", 80);
  ep.last_heartbeat_ms = 1000;
  AllHealthy all;
  EXPECT_FALSE(endpointExpired(ep, 1'000'000'000));  // no TTL: never expires
  ep.ttl_seconds = 1;
  EXPECT_FALSE(endpointExpired(ep, 2000));
  EXPECT_TRUE(endpointExpired(ep, 2001));
  EXPECT_TRUE(endpointUsable(ep, all, 2000));
  EXPECT_FALSE(endpointUsable(ep, all, 2001));
  ep.weight = 0;
  EXPECT_FALSE(endpointUsable(ep, all, 2000));
}

}  // namespace
}  // namespace weft::registry
