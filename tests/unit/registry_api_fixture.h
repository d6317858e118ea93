// SPDX-License-Identifier: Apache-2.0
// A registry on a SQLite file in a private directory, with its API router, for tests that
// edit through the API and check what survives reopening the file.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/unit/registry_test_util.h"
#include "userspace/api/api_router.h"
#include "userspace/registry/endpoint_usable.h"
#include "userspace/registry/registry.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::registry::testing {

class SqliteRegistryFixture : public ::testing::Test {
 protected:
  static constexpr int64_t kFixtureNow = 1'000'000;

  void SetUp() override { open(); }

  void open() {
    auto store = SqliteStore::open(dir_.file("registry.db"));
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    registry_ = std::make_unique<Registry>(*store_, std::vector<Cidr>{cidr("10.96.0.0/16")},
                                           [] { return kFixtureNow; });
  }

  void reopen() {
    registry_.reset();
    store_.reset();
    open();
  }

  api::ApiResponse call(const std::string& method, const std::string& target,
                        const std::string& body = "") {
    api::ApiRouter router(*registry_, health_, "test");
    return router.handle({method, target, body});
  }

  TempDir dir_;
  AllHealthy health_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
};

}  // namespace weft::registry::testing
