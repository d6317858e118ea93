// SPDX-License-Identifier: Apache-2.0
// weftctl service show/list rows: Maglev settings and session affinity are spelled out, with
// the defaults the registry leaves out of its JSON filled in.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "userspace/cli/api_render.h"

namespace weft::cli {
namespace {

TEST(ServiceRow, MaglevShowsTableSizeAndHashKeyWithDefaults) {
  auto row = serviceRow(nlohmann::json::parse(R"({"name":"web","algorithm":"maglev"})"));
  EXPECT_EQ(row["algorithm"], "maglev (table 16381, client_addr)");
  EXPECT_EQ(row["affinity"], "-");

  row = serviceRow(nlohmann::json::parse(
      R"({"name":"dns","algorithm":"maglev","maglev_table_size":1021,
          "hash_key":"client_addr_port","affinity_timeout_seconds":90})"));
  EXPECT_EQ(row["algorithm"], "maglev (table 1021, client_addr_port)");
  EXPECT_EQ(row["affinity"], "90s");
}

TEST(ServiceRow, OtherAlgorithmsAreTheirName) {
  auto row = serviceRow(nlohmann::json::parse(
      R"({"name":"web","algorithm":"round_robin","affinity_timeout_seconds":30})"));
  EXPECT_EQ(row["algorithm"], "round_robin");
  EXPECT_EQ(row["affinity"], "30s");
}

}  // namespace
}  // namespace weft::cli
