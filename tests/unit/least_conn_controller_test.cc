// SPDX-License-Identifier: Apache-2.0
// Least connections in the controller and config: the algorithm is accepted and written, and
// a backend id handed out again starts with no active connections.
#include <gtest/gtest.h>

#include "tests/unit/controller_test_util.h"
#include "userspace/config/agent_config.h"

namespace weft {
namespace {

using testing_util::backend;
using testing_util::ControllerFixture;
using testing_util::service;

TEST(LeastConnNames, NameTableKnowsLeastConn) {
  weft_lb_algo algo = WEFT_LB_RANDOM;
  ASSERT_TRUE(algorithmFromName("least_conn", &algo));
  EXPECT_EQ(algo, WEFT_LB_LEAST_CONN);
  EXPECT_STREQ(algorithmName(WEFT_LB_LEAST_CONN), "least_conn");
}

class LeastConnControllerTest : public ControllerFixture {};

TEST_F(LeastConnControllerTest, ServiceIsWrittenWithOneSlotPerBackend) {
  auto web =
      service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081), backend("127.0.0.2", 8082)});
  web.algorithm = WEFT_LB_LEAST_CONN;
  applyOk({web});
  EXPECT_EQ(valueOf(web).algo, WEFT_LB_LEAST_CONN);
  EXPECT_EQ(valueOf(web).count, 2);
}

TEST_F(LeastConnControllerTest, AReusedBackendIdStartsWithNoConnections) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  web.algorithm = WEFT_LB_LEAST_CONN;
  applyOk({web});
  uint32_t old_id = ctl_.backendId(web.backends[0], WEFT_PROTO_TCP);
  ASSERT_NE(old_id, 0u);
  // Connections to the old backend are still open when it leaves.
  store_.setConnCount(old_id, 7);

  // Removing the service frees the id; the next new backend gets it back (ids are handed
  // out lowest-free-first).
  applyOk({});
  EXPECT_EQ(store_.connCount(old_id), 7u);  // freed, not reset: nothing names it
  web.backends = {backend("127.0.0.3", 8083)};
  applyOk({web});
  uint32_t new_id = ctl_.backendId(web.backends[0], WEFT_PROTO_TCP);
  ASSERT_EQ(new_id, old_id);
  EXPECT_EQ(store_.connCount(new_id), 0u);
}

TEST_F(LeastConnControllerTest, AnUnchangedBackendKeepsItsCount) {
  auto web = service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081)});
  web.algorithm = WEFT_LB_LEAST_CONN;
  applyOk({web});
  uint32_t id = ctl_.backendId(web.backends[0], WEFT_PROTO_TCP);
  store_.setConnCount(id, 3);
  web.backends.push_back(backend("127.0.0.2", 8082));
  applyOk({web});
  EXPECT_EQ(store_.connCount(id), 3u);
}

}  // namespace
}  // namespace weft
