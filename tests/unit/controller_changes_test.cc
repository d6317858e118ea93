// SPDX-License-Identifier: Apache-2.0
// Controller::applyChanges: a partial update touches only the services it names, keeps the
// same write ordering as a full apply, and collects backends no slot names any more.
#include "tests/unit/controller_test_util.h"
#include "userspace/controller/controller.h"

namespace weft {
namespace {

using testing_util::backend;
using testing_util::ControllerFixture;
using testing_util::OpKind;
using testing_util::opsText;
using testing_util::service;

class ControllerChangesTest : public ControllerFixture {
 protected:
  ApplySummary changeOk(const std::vector<ServiceConfig>& upserts,
                        const std::vector<weft_svc_key>& removals) {
    auto summary = ctl_.applyChanges(upserts, removals);
    EXPECT_TRUE(summary.ok()) << summary.error().message;
    return summary.ok() ? *summary : ApplySummary{};
  }
};

TEST_F(ControllerChangesTest, UpsertWritesOnlyTheNamedServiceAndLeavesTheOthers) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  auto api = service("api", "10.96.0.11", 80, {backend("127.0.0.2", 8082)});
  applyOk({web, api});
  uint32_t api_generation = valueOf(api).generation;
  store_.clearOps();

  web.backends.push_back(backend("127.0.0.3", 8083));
  ApplySummary sum = changeOk({web}, {});
  EXPECT_EQ(sum.services_changed, 1u);
  EXPECT_EQ(sum.backends_added, 1u);
  EXPECT_EQ(activeBackends(web), expectedBackends(web));
  EXPECT_EQ(activeBackends(api), expectedBackends(api));
  EXPECT_EQ(valueOf(api).generation, api_generation);
  for (const auto& op : store_.ops()) {
    EXPECT_NE(op.id, valueOf(api).svc_id) << opsText(store_.ops());
  }
}

TEST_F(ControllerChangesTest, RemovalDeletesTheServiceAndItsUnsharedBackendsOnly) {
  auto shared = backend("127.0.0.2", 8082);
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081), shared});
  auto api = service("api", "10.96.0.11", 80, {shared});
  applyOk({web, api});
  store_.clearOps();

  ApplySummary sum = changeOk({}, {encodeServiceKey(web)});
  EXPECT_EQ(sum.services_removed, 1u);
  EXPECT_EQ(sum.backends_removed, 1u);  // 127.0.0.1; the shared one is still api's
  ASSERT_FALSE(store_.ops().empty());
  EXPECT_EQ(store_.ops()[0].kind, OpKind::kEraseService) << opsText(store_.ops());
  EXPECT_FALSE(store_.service(encodeServiceKey(web)).has_value());
  EXPECT_EQ(store_.backendCount(), 1u);
  EXPECT_EQ(activeBackends(api), expectedBackends(api));
}

TEST_F(ControllerChangesTest, AMovedPortIsRemovedAndAddedInOneCall) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  auto moved = service("web", "10.96.0.10", 8080, {backend("127.0.0.1", 8081)});

  ApplySummary sum = changeOk({moved}, {encodeServiceKey(web)});
  EXPECT_EQ(sum.services_removed, 1u);
  EXPECT_EQ(sum.services_added, 1u);
  EXPECT_EQ(sum.backends_removed, 0u);  // still named by the new service
  EXPECT_FALSE(store_.service(encodeServiceKey(web)).has_value());
  EXPECT_EQ(activeBackends(moved), expectedBackends(moved));
}

TEST_F(ControllerChangesTest, AnUpsertListedAsRemovedTooIsKept) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  uint32_t id = valueOf(web).svc_id;
  store_.clearOps();

  ApplySummary sum = changeOk({web}, {encodeServiceKey(web)});
  EXPECT_EQ(sum.map_writes, 0u) << opsText(store_.ops());
  EXPECT_EQ(valueOf(web).svc_id, id);
}

TEST_F(ControllerChangesTest, AKeyHeldByAnotherNameIsRefusedWithoutWriting) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  applyOk({web});
  store_.clearOps();

  auto thief = service("thief", "10.96.0.10", 80, {backend("127.0.0.9", 8089)});
  auto result = ctl_.applyChanges({thief}, {});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("held by service web"), std::string::npos)
      << result.error().message;
  EXPECT_TRUE(store_.ops().empty()) << opsText(store_.ops());
  EXPECT_EQ(activeBackends(web), expectedBackends(web));
}

TEST_F(ControllerChangesTest, PartialAndFullApplyAgreeOnTheMaps) {
  auto a = service("a", "10.96.0.1", 80, {backend("127.0.0.1", 1), backend("127.0.0.2", 2)});
  auto b = service("b", "10.96.0.2", 80, {backend("127.0.0.2", 2), backend("127.0.0.3", 3)});
  applyOk({a, b});

  b.backends = {backend("127.0.0.4", 4)};
  changeOk({b}, {});
  // 3 stays while b's inactive half still names it (it goes when that half is written next).
  EXPECT_EQ(store_.backendCount(), 4u);

  // A full apply of the same desired state changes nothing more.
  store_.clearOps();
  ApplySummary sum = applyOk({a, b});
  EXPECT_EQ(sum.map_writes, 0u) << opsText(store_.ops());
}

}  // namespace
}  // namespace weft
