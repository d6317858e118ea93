// SPDX-License-Identifier: Apache-2.0
// Controller against the in-memory store: adds, removals, changes, write ordering, backend
// sharing and the UDP removal hook.
#include "userspace/controller/controller.h"

#include "tests/unit/controller_test_util.h"

namespace weft {
namespace {

using testing_util::backend;
using testing_util::ControllerFixture;
using testing_util::Op;
using testing_util::OpKind;
using testing_util::opsText;
using testing_util::service;

class ControllerTest : public ControllerFixture {};

TEST_F(ControllerTest, AddsServiceBackendsThenSlotsThenValue) {
  auto web =
      service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081), backend("127.0.0.2", 8082)});
  ApplySummary sum = applyOk({web});

  EXPECT_EQ(sum.services_added, 1u);
  EXPECT_EQ(sum.backends_added, 2u);
  EXPECT_EQ(sum.map_writes, 8u);
  const auto& ops = store_.ops();
  ASSERT_EQ(ops.size(), 8u) << opsText(ops);
  EXPECT_EQ(ops[0].kind, OpKind::kPutBackend);
  EXPECT_EQ(ops[1].kind, OpKind::kPutBackend);
  EXPECT_EQ(ops[2].kind, OpKind::kPutMember);
  EXPECT_EQ(ops[3].kind, OpKind::kPutMember);
  EXPECT_EQ(ops[4].kind, OpKind::kPutSlot);
  EXPECT_EQ(ops[5].kind, OpKind::kPutSlot);
  EXPECT_EQ(ops[6].kind, OpKind::kPutServiceInfo);
  EXPECT_EQ(ops[7].kind, OpKind::kPutService);
  EXPECT_EQ(ops[4].half, 0);
  EXPECT_EQ(ops[5].half, 0);

  weft_svc_value value = valueOf(web);
  EXPECT_EQ(value.svc_id, 1u);
  EXPECT_EQ(value.count, 2);
  EXPECT_EQ(value.half, 0);
  EXPECT_EQ(value.algo, WEFT_LB_ROUND_ROBIN);
  EXPECT_EQ(value.generation, 1u);
  EXPECT_EQ(value.flags, 0u);
  EXPECT_EQ(activeBackends(web), expectedBackends(web));

  auto be = store_.backend(ctl_.backendId(web.backends[0], WEFT_PROTO_TCP));
  ASSERT_TRUE(be.has_value());
  EXPECT_EQ(be->state, WEFT_BE_ACTIVE);
  auto info = store_.serviceInfo(value.svc_id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(decodeServiceName(*info), "web");
  EXPECT_TRUE(sameBytes(info->key, encodeServiceKey(web)));
}

TEST_F(ControllerTest, EmptyBackendSetIsCountZero) {
  auto empty = service("empty", "10.96.0.20", 80, {});
  ApplySummary sum = applyOk({empty});

  EXPECT_EQ(sum.map_writes, 2u) << opsText(store_.ops());
  EXPECT_EQ(valueOf(empty).count, 0);
  EXPECT_EQ(store_.slotCount(), 0u);

  // Emptying a service that had backends flips to an empty half.
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  web.backends.clear();
  applyOk({web});
  EXPECT_EQ(valueOf(web).count, 0);
  EXPECT_EQ(valueOf(web).half, 1);
  EXPECT_EQ(valueOf(web).generation, 2u);
}

TEST_F(ControllerTest, ChangeWritesInactiveHalfThenFlips) {
  auto a = backend("127.0.0.1", 8081);
  auto b = backend("127.0.0.2", 8082);
  auto c = backend("127.0.0.3", 8083);
  auto web = service("web", "10.96.0.10", 80, {a, b});
  applyOk({web});
  uint32_t id = valueOf(web).svc_id;
  store_.clearOps();

  web.backends = {a, c};
  ApplySummary sum = applyOk({web});
  EXPECT_EQ(sum.services_changed, 1u);
  EXPECT_EQ(sum.backends_added, 1u);
  EXPECT_EQ(sum.backends_removed, 0u);

  // The flip follows every slot write, all to half 1, none to half 0; only the member that
  // left is deleted after it.
  const auto& ops = store_.ops();
  size_t flip = indexOf(OpKind::kPutService);
  ASSERT_EQ(flip, ops.size() - 2) << opsText(ops);
  EXPECT_EQ(ops.back().kind, OpKind::kEraseMember);
  EXPECT_EQ(ops.back().backend_id, ctl_.backendId(b, WEFT_PROTO_TCP));
  EXPECT_LT(indexOf(OpKind::kPutMember), indexOf(OpKind::kPutSlot));
  EXPECT_LT(indexOf(OpKind::kPutBackend), indexOf(OpKind::kPutSlot));
  EXPECT_EQ(countOf(OpKind::kPutSlot), 2u);
  for (const Op& op : ops) {
    if (op.kind == OpKind::kPutSlot || op.kind == OpKind::kEraseSlot) {
      EXPECT_EQ(op.half, 1) << toString(op);
    }
  }

  weft_svc_value value = valueOf(web);
  EXPECT_EQ(value.half, 1);
  EXPECT_EQ(value.count, 2);
  EXPECT_EQ(value.generation, 2u);
  EXPECT_EQ(activeBackends(web), expectedBackends(web));
  // The old half stays as it was for readers that still hold the old value; b stays with it.
  std::vector<uint32_t> old_half = {ctl_.backendId(a, WEFT_PROTO_TCP),
                                    ctl_.backendId(b, WEFT_PROTO_TCP)};
  EXPECT_EQ(halfIds(id, 0, 2), old_half);
  EXPECT_TRUE(store_.backend(old_half[1]).has_value());
}

TEST_F(ControllerTest, StaleSlotsAndBackendsGoWhenTheHalfIsWrittenAgain) {
  auto a = backend("127.0.0.1", 8081);
  auto b = backend("127.0.0.2", 8082);
  auto c = backend("127.0.0.3", 8083);
  auto web = service("web", "10.96.0.10", 80, {a, b});
  applyOk({web});
  web.backends = {a, c};
  applyOk({web});
  uint32_t id = valueOf(web).svc_id;
  uint32_t b_id = ctl_.backendId(b, WEFT_PROTO_TCP);
  uint32_t c_id = ctl_.backendId(c, WEFT_PROTO_TCP);
  store_.clearOps();

  // Back to half 0 with one backend: slot 0 already names a, slot 1 (b) is stale.
  web.backends = {a};
  ApplySummary sum = applyOk({web});
  const auto& ops = store_.ops();
  ASSERT_EQ(ops.size(), 4u) << opsText(ops);
  EXPECT_EQ(ops[0].kind, OpKind::kEraseSlot);
  EXPECT_EQ(ops[0].half, 0);
  EXPECT_EQ(ops[0].index, 1u);
  EXPECT_EQ(ops[1].kind, OpKind::kPutService);
  EXPECT_EQ(ops[2].kind, OpKind::kEraseMember);
  EXPECT_EQ(ops[2].backend_id, c_id);
  EXPECT_EQ(ops[3].kind, OpKind::kEraseBackend);
  EXPECT_EQ(ops[3].id, b_id);
  EXPECT_EQ(sum.backends_removed, 1u);

  EXPECT_EQ(valueOf(web).half, 0);
  EXPECT_EQ(valueOf(web).count, 1);
  EXPECT_EQ(valueOf(web).generation, 3u);
  // c is still named by half 1, which a slow reader may be using.
  EXPECT_TRUE(store_.backend(c_id).has_value());
  EXPECT_EQ(halfIds(id, 1, 2)[1], c_id);
}

TEST_F(ControllerTest, ReorderedBackendsFlip) {
  auto web =
      service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081), backend("127.0.0.2", 8082)});
  applyOk({web});
  std::swap(web.backends[0], web.backends[1]);
  ApplySummary sum = applyOk({web});
  EXPECT_EQ(sum.services_changed, 1u);
  EXPECT_EQ(valueOf(web).half, 1);
  EXPECT_EQ(activeBackends(web), expectedBackends(web));
}

TEST_F(ControllerTest, AlgorithmChangeUpdatesOnlyTheValue) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  store_.clearOps();

  web.algorithm = WEFT_LB_RANDOM;
  ApplySummary sum = applyOk({web});
  EXPECT_EQ(sum.services_changed, 1u);
  ASSERT_EQ(store_.ops().size(), 1u) << opsText(store_.ops());
  EXPECT_EQ(store_.ops()[0].kind, OpKind::kPutService);
  weft_svc_value value = valueOf(web);
  EXPECT_EQ(value.algo, WEFT_LB_RANDOM);
  EXPECT_EQ(value.half, 0);
  EXPECT_EQ(value.count, 1);
  EXPECT_EQ(value.generation, 2u);
}

TEST_F(ControllerTest, RenameWritesOnlyTheName) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  store_.clearOps();

  web.name = "www";
  ApplySummary sum = applyOk({web});
  EXPECT_EQ(sum.services_changed, 1u);
  ASSERT_EQ(store_.ops().size(), 1u) << opsText(store_.ops());
  EXPECT_EQ(store_.ops()[0].kind, OpKind::kPutServiceInfo);
  EXPECT_EQ(decodeServiceName(*store_.serviceInfo(valueOf(web).svc_id)), "www");
  EXPECT_EQ(valueOf(web).generation, 1u);
}

TEST_F(ControllerTest, RemovesValueFirstThenSlotsNameCounterAndBackends) {
  auto web =
      service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081), backend("127.0.0.2", 8082)});
  auto api = service("api", "10.96.0.11", 80, {backend("127.0.0.3", 8083)});
  applyOk({web, api});
  web.backends.pop_back();
  applyOk({web, api});  // slots in both halves now
  uint32_t id = valueOf(web).svc_id;
  store_.setRoundRobin(id, 7);
  store_.clearOps();

  ApplySummary sum = applyOk({api});
  EXPECT_EQ(sum.services_removed, 1u);
  EXPECT_EQ(sum.backends_removed, 2u);

  const auto& ops = store_.ops();
  ASSERT_FALSE(ops.empty());
  EXPECT_EQ(ops[0].kind, OpKind::kEraseService) << opsText(ops);
  EXPECT_EQ(ops[0].id, id);
  EXPECT_EQ(countOf(OpKind::kEraseSlot), 3u) << opsText(ops);
  size_t info = indexOf(OpKind::kEraseServiceInfo);
  size_t rr = indexOf(OpKind::kResetRoundRobin);
  size_t first_backend = indexOf(OpKind::kEraseBackend);
  for (size_t i = 1; i < info; ++i) {
    EXPECT_TRUE(ops[i].kind == OpKind::kEraseSlot || ops[i].kind == OpKind::kEraseMember)
        << opsText(ops);
  }
  EXPECT_EQ(store_.memberCount(), 1u);
  EXPECT_LT(info, rr);
  EXPECT_LT(rr, first_backend);
  EXPECT_EQ(countOf(OpKind::kEraseBackend), 2u);

  EXPECT_FALSE(store_.service(encodeServiceKey(web)).has_value());
  EXPECT_FALSE(store_.serviceInfo(id).has_value());
  EXPECT_EQ(store_.roundRobin(id), 0u);
  EXPECT_EQ(store_.slotCount(), 1u);
  EXPECT_EQ(store_.backendCount(), 1u);
  EXPECT_EQ(activeBackends(api), expectedBackends(api));
}

TEST_F(ControllerTest, SharesBackendsAcrossServicesAndCountsReferences) {
  auto a = backend("127.0.0.1", 8081);
  auto b = backend("127.0.0.2", 8082);
  auto c = backend("127.0.0.3", 8083);
  auto web = service("web", "10.96.0.10", 80, {a, b});
  auto api = service("api", "10.96.0.11", 80, {b, c});
  ApplySummary sum = applyOk({web, api});

  EXPECT_EQ(sum.backends_added, 3u);
  EXPECT_EQ(store_.backendCount(), 3u);
  EXPECT_EQ(activeIds(web)[1], activeIds(api)[0]);

  sum = applyOk({api});
  EXPECT_EQ(sum.backends_removed, 1u);  // a only; b is still api's
  EXPECT_TRUE(store_.backend(activeIds(api)[0]).has_value());
  EXPECT_EQ(ctl_.backendId(a, WEFT_PROTO_TCP), 0u);
  EXPECT_NE(ctl_.backendId(b, WEFT_PROTO_TCP), 0u);

  sum = applyOk({});
  EXPECT_EQ(sum.backends_removed, 2u);
  EXPECT_EQ(store_.backendCount(), 0u);
  EXPECT_EQ(store_.slotCount(), 0u);
  EXPECT_EQ(store_.serviceCount(), 0u);
  EXPECT_EQ(store_.serviceInfoCount(), 0u);
}

TEST_F(ControllerTest, ProtocolIsPartOfBackendIdentity) {
  auto a = backend("127.0.0.1", 8053);
  auto tcp = service("dns-tcp", "10.96.0.53", 53, {a}, WEFT_PROTO_TCP);
  auto udp = service("dns-udp", "10.96.0.53", 53, {a}, WEFT_PROTO_UDP);
  applyOk({tcp, udp});

  EXPECT_EQ(store_.serviceCount(), 2u);
  EXPECT_EQ(store_.backendCount(), 2u);
  EXPECT_NE(ctl_.backendId(a, WEFT_PROTO_TCP), ctl_.backendId(a, WEFT_PROTO_UDP));
  EXPECT_EQ(activeBackends(udp), std::vector<std::string>{"127.0.0.1:8053/udp"});
}

TEST_F(ControllerTest, ServiceIdsAreStableAndFreedIdsWaitOneApply) {
  auto a = service("a", "10.96.0.1", 80, {});
  auto b = service("b", "10.96.0.2", 80, {});
  auto c = service("c", "10.96.0.3", 80, {});
  auto d = service("d", "10.96.0.4", 80, {});
  auto e = service("e", "10.96.0.5", 80, {});
  applyOk({a, b, c});
  EXPECT_EQ(valueOf(a).svc_id, 1u);
  EXPECT_EQ(valueOf(b).svc_id, 2u);
  EXPECT_EQ(valueOf(c).svc_id, 3u);

  // b's id is not handed to d in the same apply that removed b.
  applyOk({a, c, d});
  EXPECT_EQ(valueOf(a).svc_id, 1u);
  EXPECT_EQ(valueOf(c).svc_id, 3u);
  EXPECT_EQ(valueOf(d).svc_id, 4u);

  applyOk({a, c, d, e});
  EXPECT_EQ(valueOf(e).svc_id, 2u);
  EXPECT_EQ(ctl_.serviceId(encodeServiceKey(e)), 2u);
}

TEST_F(ControllerTest, UnchangedConfigWritesNothing) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  store_.clearOps();

  ApplySummary sum = applyOk({web});
  EXPECT_EQ(sum.map_writes, 0u);
  EXPECT_EQ(sum.services_changed, 0u);
  EXPECT_TRUE(store_.ops().empty()) << opsText(store_.ops());
}

TEST_F(ControllerTest, UdpHookRunsOnceAfterTheFlipWithTheRemovedBackend) {
  struct Call {
    uint32_t svc_id;
    weft_backend backend;
    size_t ops_before;
  };
  std::vector<Call> calls;
  ctl_.setUdpBackendRemovedHook([&](uint32_t svc_id, const weft_backend& be) {
    calls.push_back({svc_id, be, store_.ops().size()});
  });

  auto a = backend("127.0.0.1", 5301);
  auto b = backend("127.0.0.2", 5302);
  auto c = backend("127.0.0.3", 5303);
  auto dns = service("dns", "10.96.0.53", 53, {a, b, c}, WEFT_PROTO_UDP);
  applyOk({dns});
  EXPECT_TRUE(calls.empty());
  uint32_t id = valueOf(dns).svc_id;
  store_.clearOps();

  dns.backends = {a, c};
  applyOk({dns});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].svc_id, id);
  EXPECT_EQ(formatBackend(calls[0].backend), "127.0.0.2:5302/udp");
  ASSERT_GT(calls[0].ops_before, 0u);
  EXPECT_EQ(store_.ops()[calls[0].ops_before - 1].kind, OpKind::kPutService)
      << opsText(store_.ops());

  // Unchanged: no call. Removal: one call per remaining backend, after the value is gone.
  calls.clear();
  applyOk({dns});
  EXPECT_TRUE(calls.empty());
  store_.clearOps();
  applyOk({});
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(formatBackend(calls[0].backend), "127.0.0.1:5301/udp");
  EXPECT_EQ(formatBackend(calls[1].backend), "127.0.0.3:5303/udp");
  EXPECT_EQ(store_.ops()[calls[0].ops_before - 1].kind, OpKind::kEraseService);
}

TEST_F(ControllerTest, UdpHookIsNotCalledForTcp) {
  int calls = 0;
  ctl_.setUdpBackendRemovedHook([&](uint32_t, const weft_backend&) { ++calls; });
  auto web =
      service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081), backend("127.0.0.2", 8082)});
  applyOk({web});
  web.backends.pop_back();
  applyOk({web});
  applyOk({});
  EXPECT_EQ(calls, 0);
}

TEST_F(ControllerTest, RejectsInvalidServicesWithoutWriting) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  auto dup = service("dup", "10.96.0.10", 80, {});
  auto r = ctl_.apply({web, dup});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("service \"dup\" (10.96.0.10:80/tcp): another service"),
            std::string::npos)
      << r.error().message;

  auto mixed = service("mixed", "10.96.0.10", 80, {backend("::1", 8081)});
  r = ctl_.apply({mixed});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("backend ::1 port 8081"), std::string::npos)
      << r.error().message;

  auto big = service("big", "10.96.0.10", 80, {});
  for (uint16_t p = 1; p <= WEFT_MAX_SLOTS_PER_SVC + 1; ++p) {
    big.backends.push_back(backend("127.0.0.1", p));
  }
  r = ctl_.apply({big});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("1025 active backends; at most 1024"), std::string::npos);

  EXPECT_TRUE(store_.ops().empty()) << opsText(store_.ops());
}

TEST_F(ControllerTest, HandlesTheLargestBackendSet) {
  auto big = service("big", "10.96.0.10", 80, {});
  for (uint16_t p = 1; p <= WEFT_MAX_SLOTS_PER_SVC; ++p) {
    big.backends.push_back(backend("127.0.0.1", p));
  }
  applyOk({big});
  EXPECT_EQ(valueOf(big).count, WEFT_MAX_SLOTS_PER_SVC);
  big.backends.pop_back();
  applyOk({big});
  EXPECT_EQ(activeBackends(big), expectedBackends(big));
}

}  // namespace
}  // namespace weft
