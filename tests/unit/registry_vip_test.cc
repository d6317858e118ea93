// SPDX-License-Identifier: Apache-2.0
// VIP allocation: the pure lowest-free search, and the Registry's use of it over a real
// SQLite store, including two registries racing on one file.
#include "userspace/registry/vip_allocator.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "tests/unit/registry_test_util.h"
#include "userspace/registry/registry.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::registry {
namespace {

using testing::cidr;
using testing::ip;
using testing::makeService;
using testing::TempDir;

int64_t fixedNow() {
  return 1'000'000;
}

TEST(VipAllocator, LowestFreeSkipsNetworkAndBroadcast) {
  std::vector<Cidr> ranges = {cidr("10.96.0.0/30")};
  EXPECT_EQ(*lowestFreeVip(ranges, {}), ip("10.96.0.1"));
  EXPECT_EQ(*lowestFreeVip(ranges, {ip("10.96.0.1")}), ip("10.96.0.2"));

  auto full = lowestFreeVip(ranges, {ip("10.96.0.1"), ip("10.96.0.2")});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, kConflict);
  EXPECT_EQ(full.error().message, "vip: no free address left in vip_ranges (10.96.0.0/30)");
}

TEST(VipAllocator, FillsHolesFirst) {
  std::vector<Cidr> ranges = {cidr("10.96.0.0/24")};
  std::set<IpAddr> used = {ip("10.96.0.1"), ip("10.96.0.2"), ip("10.96.0.4"), ip("10.97.0.3")};
  EXPECT_EQ(*lowestFreeVip(ranges, used), ip("10.96.0.3"));
}

TEST(VipAllocator, SmallPrefixesUseEveryAddress) {
  EXPECT_EQ(*lowestFreeVip({cidr("10.96.0.0/31")}, {}), ip("10.96.0.0"));
  EXPECT_EQ(*lowestFreeVip({cidr("10.96.0.0/31")}, {ip("10.96.0.0")}), ip("10.96.0.1"));
  EXPECT_EQ(*lowestFreeVip({cidr("10.96.0.7/32")}, {}), ip("10.96.0.7"));
  EXPECT_FALSE(lowestFreeVip({cidr("10.96.0.7/32")}, {ip("10.96.0.7")}));
  EXPECT_FALSE(lowestFreeVip({cidr("0.0.0.0/32")}, {}));  // only the unspecified address
}

TEST(VipAllocator, Ipv6SkipsTheSubnetRouterAddressAndCarries) {
  EXPECT_EQ(*lowestFreeVip({cidr("fd00:96::/112")}, {}), ip("fd00:96::1"));
  std::set<IpAddr> used;
  for (int i = 1; i <= 0xff; ++i) {
    IpAddr addr = ip("fd00:96::");
    addr.bytes[15] = static_cast<uint8_t>(i);
    used.insert(addr);
  }
  EXPECT_EQ(*lowestFreeVip({cidr("fd00:96::/112")}, used), ip("fd00:96::100"));
  EXPECT_EQ(*lowestFreeVip({cidr("fd00:96::/64")}, {}), ip("fd00:96::1"));
  EXPECT_EQ(*lowestFreeVip({cidr("fd00:96::5/128")}, {}), ip("fd00:96::5"));
  EXPECT_EQ(*lowestFreeVip({cidr("fd00:96::4/127")}, {ip("fd00:96::4")}), ip("fd00:96::5"));
}

TEST(VipAllocator, RangesInOrderAndPreferredFamilyFirst) {
  std::vector<Cidr> ranges = {cidr("10.96.0.0/30"), cidr("fd00:96::/126"), cidr("10.97.0.0/30")};
  EXPECT_EQ(*lowestFreeVip(ranges, {}), ip("10.96.0.1"));
  EXPECT_EQ(*lowestFreeVip(ranges, {}, WEFT_AF_INET6), ip("fd00:96::1"));
  EXPECT_EQ(*lowestFreeVip(ranges, {ip("10.96.0.1"), ip("10.96.0.2")}), ip("fd00:96::1"));
  EXPECT_EQ(*lowestFreeVip(ranges, {ip("10.96.0.1"), ip("10.96.0.2")}, WEFT_AF_INET),
            ip("10.97.0.1"));

  // A preferred family with no free address falls back to the others.
  std::set<IpAddr> v6_full = {ip("fd00:96::1"), ip("fd00:96::2"), ip("fd00:96::3")};
  EXPECT_EQ(*lowestFreeVip(ranges, v6_full, WEFT_AF_INET6), ip("10.96.0.1"));

  auto none = lowestFreeVip({}, {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, kInvalid);
  EXPECT_EQ(none.error().message,
            "vip: none given and no vip_ranges are configured to allocate from");
}

TEST(VipAllocator, ExhaustionNamesEveryRange) {
  std::vector<Cidr> ranges = {cidr("10.96.0.0/32"), cidr("fd00:96::1/128")};
  auto full = lowestFreeVip(ranges, {ip("10.96.0.0"), ip("fd00:96::1")});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().message,
            "vip: no free address left in vip_ranges (10.96.0.0/32, fd00:96::1/128)");
}

TEST(VipAllocator, LargeUsedSetStaysFast) {
  std::set<IpAddr> used;
  IpAddr addr = ip("10.96.0.1");
  for (int i = 0; i < 60000; ++i) {
    used.insert(addr);
    for (size_t b = 4; b-- > 0 && ++addr.bytes[b] == 0;) {
    }
  }
  EXPECT_EQ(*lowestFreeVip({cidr("10.96.0.0/16")}, used), ip("10.96.234.97"));
}

TEST(VipAllocator, CheckVipInRanges) {
  std::vector<Cidr> ranges = {cidr("10.96.0.0/16"), cidr("fd00:96::/112")};
  EXPECT_TRUE(checkVipInRanges(ranges, ip("10.96.200.1")));
  EXPECT_TRUE(checkVipInRanges(ranges, ip("fd00:96::ffff")));
  auto outside = checkVipInRanges(ranges, ip("10.97.0.1"));
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, kInvalid);
  EXPECT_EQ(outside.error().message,
            "vip: 10.97.0.1 is outside every vip_ranges entry (10.96.0.0/16, fd00:96::/112)");
  auto empty = checkVipInRanges({}, ip("10.97.0.1"));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "vip: 10.97.0.1 is outside vip_ranges, which is empty");
}

class RegistryVipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::open(dir_.file("registry.db"));
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    registry_ = std::make_unique<Registry>(
        *store_, std::vector<Cidr>{cidr("10.96.0.0/29"), cidr("fd00:96::/126")}, fixedNow);
  }

  IpAddr registered(const std::string& name) {
    auto svc = registry_->registerService(makeService(name));
    EXPECT_TRUE(svc) << svc.error().message;
    return svc && svc->vip ? *svc->vip : IpAddr{};
  }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryVipTest, AllocatesLowestFreeAndReusesReleased) {
  EXPECT_EQ(registered("a"), ip("10.96.0.1"));
  EXPECT_EQ(registered("b"), ip("10.96.0.2"));
  EXPECT_EQ(registered("c"), ip("10.96.0.3"));

  ASSERT_TRUE(registry_->deregisterService("default", "b"));
  EXPECT_EQ(registered("d"), ip("10.96.0.2"));
  EXPECT_EQ(registered("e"), ip("10.96.0.4"));
}

TEST_F(RegistryVipTest, VipIsStableAcrossUpdatesAndReopen) {
  IpAddr vip = registered("web");
  Service update = makeService("web", 8080);
  ASSERT_TRUE(registry_->updateService(update));

  registry_.reset();
  store_.reset();
  auto store = SqliteStore::open(dir_.file("registry.db"));
  ASSERT_TRUE(store);
  Registry again(**store, {cidr("10.96.0.0/29")}, fixedNow);
  auto snap = again.snapshot();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->services.size(), 1u);
  EXPECT_EQ(snap->services[0].vip, vip);
  EXPECT_EQ(snap->services[0].ports[0].port, 8080);

  auto next = again.registerService(makeService("api"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->vip, ip("10.96.0.2"));
}

TEST_F(RegistryVipTest, ExhaustionIsAConflictNamingTheRanges) {
  for (int i = 0; i < 6 + 3; ++i) {  // 6 IPv4 hosts in /29, then 3 IPv6 in /126
    ASSERT_NE(registered("s" + std::to_string(i)), IpAddr{});
  }
  auto full = registry_->registerService(makeService("late"));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, kConflict);
  EXPECT_EQ(full.error().message,
            "vip: no free address left in vip_ranges (10.96.0.0/29, fd00:96::/126)");
  auto snap = registry_->snapshot();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->services.size(), 9u);
}

TEST_F(RegistryVipTest, GivenVipMustBeInARangeAndFree) {
  Service outside = makeService("web");
  outside.vip = ip("10.97.0.1");
  auto rejected = registry_->registerService(outside);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, kInvalid);
  EXPECT_EQ(rejected.error().message,
            "vip: 10.97.0.1 is outside every vip_ranges entry (10.96.0.0/29, fd00:96::/126)");

  Service given = makeService("web");
  given.vip = ip("10.96.0.5");
  auto stored = registry_->registerService(given);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->vip, ip("10.96.0.5"));

  Service clash = makeService("api");
  clash.vip = ip("10.96.0.5");
  auto taken = registry_->registerService(clash);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, kConflict);
  EXPECT_EQ(taken.error().message, "vip: 10.96.0.5 is already held by service default/web");

  // Allocation steps around the given one.
  EXPECT_EQ(registered("x"), ip("10.96.0.1"));
}

TEST_F(RegistryVipTest, UpdateCannotMoveTheVip) {
  registered("web");
  Service moved = makeService("web");
  moved.vip = ip("10.96.0.6");
  auto rejected = registry_->updateService(moved);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, kInvalid);
  EXPECT_EQ(rejected.error().message,
            "vip: 10.96.0.6 differs from the allocated 10.96.0.1; a service's vip never changes");
}

// Delegates to a real store, but before each of the first `steals` service writes another
// "host" stores a rival service holding the VIP the caller is about to claim.
class StealingStore : public Store {
 public:
  StealingStore(Store& inner, int steals) : inner_(inner), steals_left_(steals) {}

  Result<Service> putService(const Service& service, bool create_only) override {
    if (steals_left_ > 0 && service.vip) {
      --steals_left_;
      Service rival = makeService("rival" + std::to_string(steals_left_));
      rival.vip = service.vip;
      EXPECT_TRUE(inner_.putService(rival, true));
    }
    return inner_.putService(service, create_only);
  }
  Status deleteService(const std::string& ns, const std::string& name) override {
    return inner_.deleteService(ns, name);
  }
  Result<Endpoint> putEndpoint(const Endpoint& endpoint, bool create_only) override {
    return inner_.putEndpoint(endpoint, create_only);
  }
  Status deleteEndpoint(const std::string& ns, const std::string& service,
                        const std::string& id) override {
    return inner_.deleteEndpoint(ns, service, id);
  }
  Result<Snapshot> snapshot() override { return inner_.snapshot(); }
  Status watch(ChangeCallback on_change) override { return inner_.watch(on_change); }

 private:
  Store& inner_;
  int steals_left_;
};

TEST_F(RegistryVipTest, LosingARaceMovesToTheNextFreeAddress) {
  StealingStore racing(*store_, 2);
  Registry registry(racing, {cidr("10.96.0.0/24")}, fixedNow);

  auto svc = registry.registerService(makeService("web"));
  ASSERT_TRUE(svc) << svc.error().message;
  EXPECT_EQ(svc->vip, ip("10.96.0.3"));
  auto rival = store_->getService("default", "rival1");
  ASSERT_TRUE(rival);
  EXPECT_EQ(rival->vip, ip("10.96.0.1"));
}

TEST_F(RegistryVipTest, RetriesAreBounded) {
  StealingStore racing(*store_, 1000);
  Registry registry(racing, {cidr("10.96.0.0/24")}, fixedNow);

  auto svc = registry.registerService(makeService("web"));
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error().code, kConflict);
  EXPECT_EQ(svc.error().message,
            "vip: no address could be claimed after 16 attempts; other registrations keep "
            "taking the free ones");
  EXPECT_FALSE(store_->getService("default", "web"));
}

TEST_F(RegistryVipTest, AnExistingServiceIsNotRetried) {
  registered("web");
  StealingStore racing(*store_, 0);
  Registry registry(racing, {cidr("10.96.0.0/24")}, fixedNow);
  auto again = registry.registerService(makeService("web"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, kConflict);
  EXPECT_EQ(again.error().message, "service default/web already exists");
}

// Two registries (as two hosts would) over one file, allocating at the same time: the store's
// UNIQUE(vip) rejects the loser of each race and it moves to the next free address.
TEST(RegistryVipRace, TwoRegistriesNeverShareAVip) {
  TempDir dir;
  std::string path = dir.file("registry.db");
  auto store_a = SqliteStore::open(path);
  auto store_b = SqliteStore::open(path);
  ASSERT_TRUE(store_a && store_b);
  std::vector<Cidr> ranges = {cidr("10.96.0.0/24")};
  Registry a(**store_a, ranges, fixedNow);
  Registry b(**store_b, ranges, fixedNow);

  constexpr int kPerRegistry = 20;
  auto run = [&](Registry& registry, const char* prefix) {
    for (int i = 0; i < kPerRegistry; ++i) {
      auto svc = registry.registerService(makeService(prefix + std::to_string(i)));
      EXPECT_TRUE(svc) << svc.error().message;
    }
  };
  std::thread ta(run, std::ref(a), "a");
  std::thread tb(run, std::ref(b), "b");
  ta.join();
  tb.join();

  auto snap = a.snapshot();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->services.size(), 2u * kPerRegistry);
  std::set<IpAddr> vips;
  for (const Service& svc : snap->services) {
    ASSERT_TRUE(svc.vip);
    EXPECT_TRUE(vips.insert(*svc.vip).second) << svc.vip->toString() << " handed out twice";
  }
  // Nothing was skipped: the addresses are exactly the lowest 40.
  EXPECT_EQ(*vips.begin(), ip("10.96.0.1"));
  EXPECT_EQ(*vips.rbegin(), ip("10.96.0.40"));
}

}  // namespace
}  // namespace weft::registry
