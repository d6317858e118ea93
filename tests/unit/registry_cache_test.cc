// SPDX-License-Identifier: Apache-2.0
// RegistryCache over a real SQLite store: a full load, per-service refreshes, and the deltas
// that tell listeners whether services or only endpoints changed.
#include "userspace/registry/registry_cache.h"

#include <gtest/gtest.h>

#include "tests/unit/registry_test_util.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::registry {
namespace {

using testing::cidr;
using testing::makeEndpoint;
using testing::makeService;
using testing::TempDir;

class RegistryCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::open(dir_.file("registry.db"));
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    registry_ = std::make_unique<Registry>(*store_, std::vector<Cidr>{cidr("10.96.0.0/24")},
                                           [] { return int64_t{1000}; });
    ASSERT_TRUE(registry_->registerService(makeService("web")));
    ASSERT_TRUE(registry_->registerService(makeService("api")));
    ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("web", "127.0.0.1", 8081)));
    ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("web", "127.0.0.2", 8082)));
  }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
  RegistryCache cache_;
};

TEST_F(RegistryCacheTest, LoadGroupsEndpointsUnderTheirService) {
  auto delta = cache_.load(*registry_);
  ASSERT_TRUE(delta) << delta.error().message;
  EXPECT_TRUE(delta->services_changed);
  ASSERT_EQ(cache_.entries().size(), 2u);
  EXPECT_EQ(cache_.endpointCount(), 2u);
  const RegistryCache::Entry* web = cache_.find({"default", "web"});
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->endpoints.size(), 2u);
  EXPECT_TRUE(web->service.vip.has_value());
  ASSERT_NE(cache_.find({"default", "api"}), nullptr);
  EXPECT_TRUE(cache_.find({"default", "api"})->endpoints.empty());
}

TEST_F(RegistryCacheTest, RefreshRereadsOnlyTheNamedServices) {
  ASSERT_TRUE(cache_.load(*registry_));
  ASSERT_TRUE(registry_->registerEndpoint(makeEndpoint("api", "127.0.0.3", 8083)));
  ASSERT_TRUE(registry_->deregisterEndpoint("default", "web", "127.0.0.1:8081"));

  auto delta = cache_.refresh(*registry_, {{"default", "api"}});
  ASSERT_TRUE(delta) << delta.error().message;
  EXPECT_FALSE(delta->services_changed);
  EXPECT_TRUE(delta->endpoints_changed);
  EXPECT_FALSE(delta->checks_changed);  // makeEndpoint has no health check
  EXPECT_EQ(cache_.find({"default", "api"})->endpoints.size(), 1u);
  EXPECT_EQ(cache_.find({"default", "web"})->endpoints.size(), 2u);  // not named: not re-read
  EXPECT_EQ(cache_.endpointCount(), 3u);

  delta = cache_.refresh(*registry_, {{"default", "web"}});
  ASSERT_TRUE(delta);
  EXPECT_EQ(cache_.find({"default", "web"})->endpoints.size(), 1u);
  EXPECT_EQ(cache_.endpointCount(), 2u);
}

TEST_F(RegistryCacheTest, RefreshDropsADeletedServiceAndReportsIt) {
  ASSERT_TRUE(cache_.load(*registry_));
  ASSERT_TRUE(registry_->deregisterService("default", "web"));

  auto delta = cache_.refresh(*registry_, {{"default", "web"}, {"default", "gone-long-ago"}});
  ASSERT_TRUE(delta) << delta.error().message;
  EXPECT_TRUE(delta->services_changed);
  EXPECT_TRUE(delta->endpoints_changed);
  EXPECT_EQ(cache_.find({"default", "web"}), nullptr);
  EXPECT_EQ(cache_.entries().size(), 1u);
  EXPECT_EQ(cache_.endpointCount(), 0u);
}

TEST_F(RegistryCacheTest, ChecksChangeOnlyWithCheckedEndpointsNotWithHeartbeats) {
  Endpoint checked = makeEndpoint("api", "127.0.0.3", 8083);
  checked.health.kind = HealthCheckKind::kTcp;
  checked.ttl_seconds = 30;
  ASSERT_TRUE(registry_->registerEndpoint(checked));
  ASSERT_TRUE(cache_.load(*registry_));

  ASSERT_TRUE(registry_->heartbeat("default", "api", "127.0.0.3:8083"));
  auto delta = cache_.refresh(*registry_, {{"default", "api"}});
  ASSERT_TRUE(delta);
  EXPECT_TRUE(delta->endpoints_changed);  // the heartbeat time moved
  EXPECT_FALSE(delta->checks_changed);

  ASSERT_TRUE(registry_->deregisterEndpoint("default", "api", "127.0.0.3:8083"));
  delta = cache_.refresh(*registry_, {{"default", "api"}});
  ASSERT_TRUE(delta);
  EXPECT_TRUE(delta->checks_changed);
}

TEST_F(RegistryCacheTest, RefreshOfAnUnchangedServiceReportsNoChange) {
  ASSERT_TRUE(cache_.load(*registry_));
  auto delta = cache_.refresh(*registry_, {{"default", "web"}, {"default", "api"}});
  ASSERT_TRUE(delta);
  EXPECT_FALSE(delta->services_changed);
  EXPECT_FALSE(delta->endpoints_changed);
}

}  // namespace
}  // namespace weft::registry
