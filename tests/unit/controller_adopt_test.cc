// SPDX-License-Identifier: Apache-2.0
// Controller restarts and failures: adopting what the maps hold, cleaning up after an
// interrupted run, recovering from a failed write, and a randomised run of many applies.
#include <random>
#include <set>

#include "tests/unit/controller_test_util.h"
#include "userspace/controller/controller.h"

namespace weft {
namespace {

using testing_util::backend;
using testing_util::ControllerFixture;
using testing_util::OpKind;
using testing_util::opsText;
using testing_util::service;

class ControllerAdoptTest : public ControllerFixture {};

TEST_F(ControllerAdoptTest, RestartedControllerKeepsIdsHalvesAndWritesNothing) {
  auto a = backend("127.0.0.1", 8081);
  auto b = backend("127.0.0.2", 8082);
  auto web = service("web", "10.96.0.10", 80, {a, b});
  auto dns = service("dns", "10.96.0.53", 53, {backend("127.0.0.1", 5353)}, WEFT_PROTO_UDP);
  auto web6 = service("web6", "fd00:96::10", 443, {backend("::1", 8443)});
  applyOk({web, dns, web6});
  web.backends = {b};
  applyOk({web, dns, web6});  // web now lives in half 1
  weft_svc_value web_before = valueOf(web);
  uint32_t b_id = ctl_.backendId(b, WEFT_PROTO_TCP);

  Controller restarted(store_);
  ASSERT_TRUE(restarted.adopt().ok());
  EXPECT_EQ(restarted.serviceId(encodeServiceKey(web)), web_before.svc_id);
  EXPECT_EQ(restarted.backendId(b, WEFT_PROTO_TCP), b_id);
  store_.clearOps();

  ApplySummary sum = applyOk(restarted, {web, dns, web6});
  EXPECT_EQ(sum.map_writes, 0u);
  EXPECT_EQ(sum.services_added + sum.services_removed + sum.services_changed, 0u);
  EXPECT_EQ(sum.backends_added + sum.backends_removed, 0u);
  EXPECT_TRUE(store_.ops().empty()) << opsText(store_.ops());
  EXPECT_TRUE(sameBytes(valueOf(web), web_before));

  // The next change goes to the half that is inactive in the maps: half 0.
  web.backends = {a, b};
  applyOk(restarted, {web, dns, web6});
  for (const auto& op : store_.ops()) {
    if (op.kind == OpKind::kPutSlot || op.kind == OpKind::kEraseSlot) {
      EXPECT_EQ(op.half, 0) << toString(op);
    }
  }
  EXPECT_EQ(valueOf(web).half, 0);
  EXPECT_EQ(valueOf(web).generation, web_before.generation + 1);
  EXPECT_EQ(activeBackends(web), expectedBackends(web));
}

TEST_F(ControllerAdoptTest, FirstApplyAdoptsByItself) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  store_.clearOps();

  Controller restarted(store_);
  ApplySummary sum = applyOk(restarted, {web});
  EXPECT_EQ(sum.map_writes, 0u);
  EXPECT_TRUE(store_.ops().empty()) << opsText(store_.ops());
}

TEST_F(ControllerAdoptTest, NewIdsAfterAdoptSkipAdoptedOnes) {
  auto a = service("a", "10.96.0.1", 80, {backend("127.0.0.1", 1)});
  auto b = service("b", "10.96.0.2", 80, {backend("127.0.0.1", 2)});
  auto c = service("c", "10.96.0.3", 80, {backend("127.0.0.1", 3)});
  applyOk({a, b, c});
  applyOk({a, c});  // id 2 and backend 2 free again

  Controller restarted(store_);
  auto d = service("d", "10.96.0.4", 80, {backend("127.0.0.1", 4)});
  applyOk(restarted, {a, c, d});
  EXPECT_EQ(valueOf(a).svc_id, 1u);
  EXPECT_EQ(valueOf(c).svc_id, 3u);
  EXPECT_EQ(valueOf(d).svc_id, 2u);
  EXPECT_EQ(restarted.backendId(d.backends[0], WEFT_PROTO_TCP), 2u);
  EXPECT_EQ(restarted.backendId(c.backends[0], WEFT_PROTO_TCP), 3u);
}

TEST_F(ControllerAdoptTest, CleansUpAfterAnInterruptedRemoval) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});

  // What a crash between "delete value" and the rest of a removal leaves behind.
  check_readers_ = false;
  weft_slot_key slot{};
  slot.svc_id = 9;
  weft_slot_value slot_value{};
  slot_value.backend_id = 7;
  ASSERT_TRUE(
      store_.putBackend(7, encodeBackend(backend("127.0.0.9", 9), WEFT_PROTO_TCP, WEFT_BE_ACTIVE))
          .ok());
  ASSERT_TRUE(store_.putSlot(slot, slot_value).ok());
  ASSERT_TRUE(store_.putServiceInfo(9, encodeServiceInfo(weft_svc_key{}, "gone")).ok());
  store_.setRoundRobin(9, 3);
  store_.clearOps();
  check_readers_ = true;

  Controller restarted(store_);
  ApplySummary sum = applyOk(restarted, {web});
  const auto& ops = store_.ops();
  ASSERT_EQ(ops.size(), 4u) << opsText(ops);
  EXPECT_EQ(ops[0].kind, OpKind::kEraseSlot);
  EXPECT_EQ(ops[0].id, 9u);
  EXPECT_EQ(ops[1].kind, OpKind::kEraseServiceInfo);
  EXPECT_EQ(ops[2].kind, OpKind::kResetRoundRobin);
  EXPECT_EQ(ops[3].kind, OpKind::kEraseBackend);
  EXPECT_EQ(ops[3].id, 7u);
  EXPECT_EQ(sum.backends_removed, 1u);
  EXPECT_EQ(store_.roundRobin(9), 0u);

  store_.clearOps();
  EXPECT_EQ(applyOk(restarted, {web}).map_writes, 0u) << opsText(store_.ops());
}

TEST_F(ControllerAdoptTest, RewritesBackendStateToActive) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  uint32_t id = ctl_.backendId(web.backends[0], WEFT_PROTO_TCP);
  ASSERT_TRUE(store_.putBackend(id, encodeBackend(web.backends[0], WEFT_PROTO_TCP, 0)).ok());
  store_.clearOps();

  Controller restarted(store_);
  ApplySummary sum = applyOk(restarted, {web});
  EXPECT_EQ(sum.map_writes, 1u);
  ASSERT_EQ(store_.ops().size(), 1u);
  EXPECT_EQ(store_.ops()[0].kind, OpKind::kPutBackend);
  EXPECT_EQ(store_.backend(id)->state, WEFT_BE_ACTIVE);
}

TEST_F(ControllerAdoptTest, RejectsValuesItWouldNeverWrite) {
  check_readers_ = false;
  auto web = service("web", "10.96.0.10", 80, {});
  weft_svc_value bad{};
  bad.svc_id = 1;
  bad.half = 3;
  ASSERT_TRUE(store_.putService(encodeServiceKey(web), bad).ok());

  Controller restarted(store_);
  auto st = restarted.adopt();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("map weft_svc_v2: service 10.96.0.10:80/tcp has an invalid "
                                    "value (svc_id 1, half 3, count 0)"),
            std::string::npos)
      << st.error().message;

  bad.half = 0;
  ASSERT_TRUE(store_.putService(encodeServiceKey(web), bad).ok());
  auto api = service("api", "10.96.0.11", 80, {});
  ASSERT_TRUE(store_.putService(encodeServiceKey(api), bad).ok());
  st = restarted.adopt();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("svc_id 1 is used by both"), std::string::npos)
      << st.error().message;
}

TEST_F(ControllerAdoptTest, FailedFlipLeavesTheOldSetActiveAndRecovers) {
  auto a = backend("127.0.0.1", 8081);
  auto b = backend("127.0.0.2", 8082);
  auto c = backend("127.0.0.3", 8083);
  auto web = service("web", "10.96.0.10", 80, {a, b});
  applyOk({web});
  weft_svc_value before = valueOf(web);

  web.backends = {a, c};
  store_.failWrite(OpKind::kPutService);
  auto failed = ctl_.apply({web});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("injected EIO"), std::string::npos);
  EXPECT_TRUE(sameBytes(valueOf(web), before));
  EXPECT_EQ(activeBackends(web),
            (std::vector<std::string>{"127.0.0.1:8081/tcp", "127.0.0.2:8082/tcp"}));

  ApplySummary sum = applyOk({web});
  EXPECT_EQ(sum.services_changed, 1u);
  EXPECT_EQ(valueOf(web).half, 1);
  EXPECT_EQ(activeBackends(web), expectedBackends(web));
  store_.clearOps();
  EXPECT_EQ(applyOk({web}).map_writes, 0u) << opsText(store_.ops());
}

TEST_F(ControllerAdoptTest, FailedSlotWriteNeverPublishesTheNewService) {
  auto web =
      service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081), backend("127.0.0.2", 8082)});
  store_.failWrite(OpKind::kPutSlot, 1);
  ASSERT_FALSE(ctl_.apply({web}).ok());
  EXPECT_FALSE(store_.service(encodeServiceKey(web)).has_value());

  // The half-written slots of id 1 are leftovers now: deleted, and id 1 rests for one apply.
  applyOk({web});
  EXPECT_EQ(activeBackends(web), expectedBackends(web));
  EXPECT_EQ(valueOf(web).svc_id, 2u);
  EXPECT_EQ(store_.slotCount(), 2u);
  EXPECT_FALSE(store_.slot(1, 0, 0).has_value());
}

TEST_F(ControllerAdoptTest, FailedRemovalIsFinishedByTheNextApply) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  store_.failWrite(OpKind::kEraseSlot);
  ASSERT_FALSE(ctl_.apply({}).ok());
  EXPECT_FALSE(store_.service(encodeServiceKey(web)).has_value());

  applyOk({});
  EXPECT_EQ(store_.slotCount(), 0u);
  EXPECT_EQ(store_.backendCount(), 0u);
  EXPECT_EQ(store_.serviceInfoCount(), 0u);
}

// Many random applies (and some failed writes) from a fixed seed. After each: the maps hold
// exactly the wanted services, nothing unreferenced is left, a restarted controller would write
// nothing, and the fixture checked every single write for what readers could see.
TEST_F(ControllerAdoptTest, RandomisedApplies) {
  std::mt19937 rng(20240611);
  const char* vips[] = {"10.96.0.1", "10.96.0.2", "10.96.0.3", "fd00:96::1"};
  const char* v4_backends[] = {"127.0.0.1", "127.0.0.2", "127.0.0.3"};
  const char* names[] = {"a", "b", "c", "d", "e"};
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };

  for (int round = 0; round < 300; ++round) {
    std::vector<ServiceConfig> wanted;
    std::set<std::string> keys;
    for (size_t i = pick(5); i > 0; --i) {
      const char* vip = vips[pick(4)];
      uint16_t port = static_cast<uint16_t>(80 + pick(2));
      uint8_t proto = pick(2) ? WEFT_PROTO_TCP : WEFT_PROTO_UDP;
      if (!keys.insert(std::string(vip) + std::to_string(port) + std::to_string(proto)).second) {
        continue;
      }
      auto svc = service(names[pick(5)], vip, port, {}, proto,
                         pick(2) ? WEFT_LB_RANDOM : WEFT_LB_ROUND_ROBIN);
      for (size_t j = pick(4); j > 0; --j) {
        bool v6 = svc.vip.isV6();
        svc.backends.push_back(
            backend(v6 ? "::1" : v4_backends[pick(3)], static_cast<uint16_t>(8000 + pick(3))));
      }
      wanted.push_back(svc);
    }

    if (pick(6) == 0) {
      store_.failWrite(static_cast<OpKind>(pick(9)), static_cast<int>(pick(4)));
      (void)ctl_.apply(wanted);
      store_.clearFailure();
    }
    applyOk(wanted);

    ASSERT_EQ(store_.serviceCount(), wanted.size()) << "round " << round;
    for (const ServiceConfig& svc : wanted) {
      ASSERT_EQ(activeBackends(svc), expectedBackends(svc)) << "round " << round;
      EXPECT_EQ(valueOf(svc).algo, svc.algorithm);
      EXPECT_EQ(decodeServiceName(*store_.serviceInfo(valueOf(svc).svc_id)), svc.name);
    }
    std::set<uint32_t> named;
    auto slots = store_.listSlots();
    for (const auto& [key, value] : *slots) {
      named.insert(value.backend_id);
    }
    ASSERT_EQ(named.size(), store_.backendCount()) << "round " << round;

    store_.clearOps();
    Controller restarted(store_);
    ASSERT_EQ(applyOk(restarted, wanted).map_writes, 0u) << "round " << round << "\n"
                                                         << opsText(store_.ops());
  }
}

}  // namespace
}  // namespace weft
