// SPDX-License-Identifier: Apache-2.0
// Maglev, drain and affinity in the controller: the table written to weft_maglev_v1 and only
// its changed slots rewritten, table growth, draining members, and the service value fields.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/unit/controller_test_util.h"
#include "userspace/lb/maglev.h"

namespace weft {
namespace {

using testing_util::backend;
using testing_util::ControllerFixture;
using testing_util::OpKind;
using testing_util::opsText;
using testing_util::service;

// Small enough for the reader check after every write to stay fast.
constexpr uint32_t kTableSize = 1021;

class MaglevControllerTest : public ControllerFixture {
 protected:
  ServiceConfig maglevService(size_t backends) {
    std::vector<BackendConfig> list;
    for (size_t i = 0; i < backends; ++i) {
      list.push_back(backend("127.0.0.1", static_cast<uint16_t>(8081 + i)));
    }
    auto svc = service("web", "10.96.0.10", 80, list);
    svc.algorithm = WEFT_LB_MAGLEV;
    svc.maglev_table_size = kTableSize;
    return svc;
  }

  // The table as backend text, read back from the store.
  std::vector<std::string> table(const ServiceConfig& svc) const {
    weft_svc_value value = valueOf(svc);
    std::vector<std::string> out;
    for (uint32_t i = 0; i < value.maglev_size; ++i) {
      auto id = store_.maglevSlot(value.svc_id, i);
      auto be = id ? store_.backend(*id) : std::nullopt;
      out.push_back(be ? formatBackend(*be) : "missing");
    }
    return out;
  }
};

TEST_F(MaglevControllerTest, WritesTheTableBeforeTheValue) {
  auto web = maglevService(3);
  applyOk({web});

  weft_svc_value value = valueOf(web);
  EXPECT_EQ(value.algo, WEFT_LB_MAGLEV);
  EXPECT_EQ(value.maglev_size, kTableSize);
  EXPECT_EQ(value.count, 3);
  EXPECT_EQ(store_.maglevCount(), kTableSize);
  EXPECT_EQ(countOf(OpKind::kPutMaglev), kTableSize);
  EXPECT_LT(indexOf(OpKind::kPutMaglev), indexOf(OpKind::kPutService));

  // The same table a builder makes from the backends' identities alone.
  std::vector<lb::MaglevBackend> keys;
  for (const BackendConfig& be : web.backends) {
    keys.push_back({formatBackend(encodeBackend(be, WEFT_PROTO_TCP, 0)), be.weight});
  }
  auto built = lb::buildMaglevTable(keys, kTableSize);
  ASSERT_TRUE(built.ok());
  std::vector<std::string> expected;
  for (uint32_t index : *built) {
    expected.push_back(keys[index].key);
  }
  EXPECT_EQ(table(web), expected);
}

TEST_F(MaglevControllerTest, OrderOfBackendsDoesNotChangeTheTable) {
  auto web = maglevService(4);
  applyOk({web});
  auto first = table(web);

  MemoryMapStore other_store;
  Controller other(other_store);
  auto reversed = web;
  std::reverse(reversed.backends.begin(), reversed.backends.end());
  ASSERT_TRUE(other.apply({reversed}).ok());
  weft_svc_value value = *other_store.service(encodeServiceKey(web));
  for (uint32_t i = 0; i < value.maglev_size; ++i) {
    auto be = other_store.backend(*other_store.maglevSlot(value.svc_id, i));
    ASSERT_EQ(formatBackend(*be), first[i]) << "slot " << i;
  }
}

TEST_F(MaglevControllerTest, RemovingABackendRewritesOnlyItsSlots) {
  auto web = maglevService(5);
  applyOk({web});
  auto before = table(web);
  std::string leaving = formatBackend(encodeBackend(web.backends[2], WEFT_PROTO_TCP, 0));
  size_t owned = std::count(before.begin(), before.end(), leaving);
  store_.clearOps();

  web.backends.erase(web.backends.begin() + 2);
  applyOk({web});
  auto after = table(web);
  size_t moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    moved += before[i] != after[i] ? 1 : 0;
  }
  EXPECT_EQ(std::count(after.begin(), after.end(), leaving), 0);
  EXPECT_EQ(countOf(OpKind::kPutMaglev), moved) << "only changed slots are written";
  // Every slot of the leaving backend moves; of the others, few do (minimal disruption; a
  // table of 200 slots per backend moves a few more than the 65,537-slot one in maglev_test).
  EXPECT_GE(moved, owned);
  EXPECT_LE(moved - owned, kTableSize * 2 / 100) << "moved " << moved << " owned " << owned;
  // The backend entry goes after the value that no longer names it.
  EXPECT_LT(indexOf(OpKind::kPutService), indexOf(OpKind::kEraseBackend)) << opsText(store_.ops());
  EXPECT_EQ(valueOf(web).generation, 2u);
}

TEST_F(MaglevControllerTest, TableGrowsAlongTheLadderWhenBackendsNeedRoom) {
  auto web = maglevService(2);
  web.maglev_table_size = 251;  // room for two backends at 100 slots each
  applyOk({web});
  EXPECT_EQ(valueOf(web).maglev_size, 251u);

  web.backends.push_back(backend("127.0.0.2", 9000));
  applyOk({web});
  EXPECT_EQ(valueOf(web).maglev_size, 509u);
  EXPECT_EQ(store_.maglevCount(), 509u);

  web.backends.pop_back();
  applyOk({web});
  EXPECT_EQ(valueOf(web).maglev_size, 251u);
  EXPECT_EQ(store_.maglevCount(), 251u) << "the tail goes after the value shrinks";
}

TEST_F(MaglevControllerTest, SwitchingAwayDeletesTheTableAfterTheValue) {
  auto web = maglevService(2);
  applyOk({web});
  store_.clearOps();
  web.algorithm = WEFT_LB_ROUND_ROBIN;
  applyOk({web});
  EXPECT_EQ(valueOf(web).maglev_size, 0u);
  EXPECT_EQ(store_.maglevCount(), 0u);
  EXPECT_EQ(indexOf(OpKind::kPutService), 0u) << opsText(store_.ops());
}

TEST_F(MaglevControllerTest, RemovingTheServiceDeletesTableAndMembers) {
  auto web = maglevService(2);
  applyOk({web});
  applyOk({});
  EXPECT_EQ(store_.maglevCount(), 0u);
  EXPECT_EQ(store_.memberCount(), 0u);
  EXPECT_EQ(store_.backendCount(), 0u);
}

TEST_F(MaglevControllerTest, ARestartedControllerAdoptsTheTableAndWritesNothing) {
  auto web = maglevService(3);
  applyOk({web});
  store_.clearOps();

  Controller restarted(store_);
  ApplySummary sum = applyOk(restarted, {web});
  EXPECT_EQ(sum.map_writes, 0u) << opsText(store_.ops());

  web.backends.pop_back();
  applyOk(restarted, {web});
  EXPECT_GT(countOf(OpKind::kPutMaglev), 0u);
  EXPECT_LT(countOf(OpKind::kPutMaglev), kTableSize / 2);
}

TEST_F(MaglevControllerTest, HashKeyAndAffinityGoIntoTheValue) {
  auto dns = maglevService(2);
  dns.protocol = WEFT_PROTO_UDP;
  dns.hash_key = HashKey::kClientAddrPort;
  dns.affinity_timeout_s = 30;
  applyOk({dns});
  EXPECT_EQ(valueOf(dns).flags, WEFT_SVC_F_HASH_PORT);
  EXPECT_EQ(valueOf(dns).affinity_timeout_s, 30u);

  store_.clearOps();
  dns.affinity_timeout_s = 0;
  applyOk({dns});
  ASSERT_EQ(store_.ops().size(), 1u) << opsText(store_.ops());
  EXPECT_EQ(valueOf(dns).affinity_timeout_s, 0u);
  EXPECT_EQ(valueOf(dns).generation, 2u);
}

TEST_F(MaglevControllerTest, RejectsBadTableSizesAndLeastConnOverUdp) {
  auto web = maglevService(2);
  web.maglev_table_size = 1000;
  auto bad = ctl_.apply({web});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("maglev_table_size 1000 is not a prime in 251..131071"),
            std::string::npos)
      << bad.error().message;

  auto dns = service("dns", "10.96.0.53", 53, {backend("127.0.0.1", 5353)}, WEFT_PROTO_UDP);
  dns.algorithm = WEFT_LB_LEAST_CONN;
  auto udp = ctl_.apply({dns});
  ASSERT_FALSE(udp.ok());
  EXPECT_NE(udp.error().message.find("least_conn counts TCP connections only"), std::string::npos)
      << udp.error().message;
  EXPECT_EQ(store_.ops().size(), 0u);
}

class DrainControllerTest : public ControllerFixture {};

TEST_F(DrainControllerTest, ADrainingBackendStaysAMemberButLeavesTheSlots) {
  auto a = backend("127.0.0.1", 8081);
  auto b = backend("127.0.0.2", 8082);
  auto web = service("web", "10.96.0.10", 80, {a, b});
  applyOk({web});
  uint32_t svc_id = valueOf(web).svc_id;
  uint32_t b_id = ctl_.backendId(b, WEFT_PROTO_TCP);
  store_.clearOps();

  web.backends[1].draining = true;
  applyOk({web});
  EXPECT_EQ(valueOf(web).count, 1);
  EXPECT_EQ(activeIds(web), std::vector<uint32_t>{ctl_.backendId(a, WEFT_PROTO_TCP)});
  ASSERT_TRUE(store_.member(svc_id, b_id).has_value());
  EXPECT_EQ(store_.member(svc_id, b_id)->state, WEFT_BE_DRAINING);
  EXPECT_TRUE(store_.backend(b_id).has_value()) << "its connection count must stay readable";
  // Marked draining before the flip, so affinity cannot pick it after.
  EXPECT_LT(indexOf(OpKind::kPutMember), indexOf(OpKind::kPutService)) << opsText(store_.ops());

  // Undrain brings it back as an active member; leaving the registry removes it.
  web.backends[1].draining = false;
  applyOk({web});
  EXPECT_EQ(store_.member(svc_id, b_id)->state, WEFT_BE_ACTIVE);
  EXPECT_EQ(valueOf(web).count, 2);
  web.backends.pop_back();
  applyOk({web});
  EXPECT_FALSE(store_.member(svc_id, b_id).has_value());
  // The backend entry itself lives on while the inactive half still names it.
}

TEST_F(DrainControllerTest, ADrainingBackendLeavesTheMaglevTable) {
  auto web =
      service("web", "10.96.0.10", 80,
              {backend("127.0.0.1", 8081), backend("127.0.0.2", 8082), backend("127.0.0.3", 8083)});
  web.algorithm = WEFT_LB_MAGLEV;
  web.maglev_table_size = kTableSize;
  applyOk({web});
  uint32_t svc_id = valueOf(web).svc_id;
  uint32_t drained = ctl_.backendId(web.backends[0], WEFT_PROTO_TCP);

  web.backends[0].draining = true;
  applyOk({web});
  std::set<uint32_t> owners;
  for (uint32_t i = 0; i < valueOf(web).maglev_size; ++i) {
    owners.insert(*store_.maglevSlot(svc_id, i));
  }
  EXPECT_FALSE(owners.contains(drained));
  EXPECT_EQ(owners.size(), 2u);
}

}  // namespace
}  // namespace weft
