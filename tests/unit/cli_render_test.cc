// SPDX-License-Identifier: Apache-2.0
// weftctl's rows from a map snapshot: backend list with draining and drained members, and the
// balancing columns of service list -o json.
#include "userspace/cli/render.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

namespace weft::cli {
namespace {

weft_backend backend(const char* addr, uint16_t port) {
  weft_backend b{};
  EXPECT_EQ(inet_pton(AF_INET, addr, &b.addr[0]), 1);
  b.port = htons(port);
  b.proto = WEFT_PROTO_TCP;
  b.family = WEFT_AF_INET;
  b.state = WEFT_BE_ACTIVE;
  return b;
}

// Service "web.default" (id 1) with backends 7 and 8 in its slots, 9 draining with two
// connections and 10 drained with none; service "api.default" (id 2) is a Maglev service
// whose backend 11 is only a member (no slots).
Snapshot snapshot() {
  Snapshot snap;
  ServiceRow web;
  web.key.port = htons(80);
  web.key.proto = WEFT_PROTO_TCP;
  web.key.family = WEFT_AF_INET;
  inet_pton(AF_INET, "10.96.0.10", &web.key.addr[0]);
  web.value.svc_id = 1;
  web.value.count = 2;
  web.value.algo = WEFT_LB_ROUND_ROBIN;
  web.value.affinity_timeout_s = 30;
  web.name = "web.default";
  ServiceRow api = web;
  api.key.port = htons(81);
  api.value.svc_id = 2;
  api.value.count = 0;
  api.value.algo = WEFT_LB_MAGLEV;
  api.value.maglev_size = 16381;
  api.value.affinity_timeout_s = 0;
  api.name = "api.default";
  snap.services = {web, api};

  snap.backends[7] = backend("127.0.0.1", 8081);
  snap.backends[8] = backend("127.0.0.1", 8082);
  snap.backends[9] = backend("127.0.0.1", 8083);
  snap.backends[10] = backend("127.0.0.1", 8084);
  snap.backends[11] = backend("127.0.0.1", 9090);
  snap.active_backends[1] = {8, 7};
  snap.active_backends[2] = {};
  snap.members[1] = {
      {7, WEFT_BE_ACTIVE}, {8, WEFT_BE_ACTIVE}, {9, WEFT_BE_DRAINING}, {10, WEFT_BE_DRAINING}};
  snap.members[2] = {{11, WEFT_BE_ACTIVE}};
  snap.active_connections = {{7, 1}, {9, 2}, {10, 0}};
  return snap;
}

TEST(CliRender, BackendListShowsDrainingWhileConnectionsRemainThenDrained) {
  auto rows = backendsJson(snapshot(), std::string("web"));
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 4u);
  // Slot order first, as connects see it, then the draining members by id.
  EXPECT_EQ((*rows)[0].dump(),
            R"({"service":"web.default","backend_id":8,"address":"127.0.0.1","port":8082,)"
            R"("protocol":"tcp","state":"active","active_connections":0})");
  EXPECT_EQ((*rows)[1]["backend_id"], 7);
  EXPECT_EQ((*rows)[1]["active_connections"], 1);
  EXPECT_EQ((*rows)[2].dump(),
            R"({"service":"web.default","backend_id":9,"address":"127.0.0.1","port":8083,)"
            R"("protocol":"tcp","state":"draining","active_connections":2})");
  EXPECT_EQ((*rows)[3]["backend_id"], 10);
  EXPECT_EQ((*rows)[3]["state"], "drained");
  EXPECT_EQ((*rows)[3]["active_connections"], 0);
}

TEST(CliRender, MembersWithoutSlotsAreListedAsActive) {
  auto rows = backendsJson(snapshot(), std::string("10.96.0.10:81/tcp"));
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0]["backend_id"], 11);
  EXPECT_EQ((*rows)[0]["state"], "active");
}

TEST(CliRender, SnapshotsWithoutMembersListSlotsOnly) {
  Snapshot snap = snapshot();
  snap.members.clear();
  auto rows = backendsJson(snap, std::nullopt);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0]["backend_id"], 8);
  EXPECT_EQ((*rows)[1]["backend_id"], 7);
}

TEST(CliRender, ServiceListAddsBalancingColumnsOnlyWhenAsked) {
  Snapshot snap = snapshot();
  auto table = servicesJson(snap);
  ASSERT_EQ(table.size(), 2u);
  EXPECT_FALSE(table[0].contains("maglev_size"));
  auto json = servicesJson(snap, true);
  EXPECT_EQ(json[0]["algorithm"], "round_robin");
  EXPECT_EQ(json[0]["maglev_size"], 0);
  EXPECT_EQ(json[0]["affinity_timeout_seconds"], 30);
  EXPECT_EQ(json[1]["algorithm"], "maglev");
  EXPECT_EQ(json[1]["maglev_size"], 16381);
  EXPECT_EQ(json[1]["affinity_timeout_seconds"], 0);
}

}  // namespace
}  // namespace weft::cli
