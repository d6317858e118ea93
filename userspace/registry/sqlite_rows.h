// SPDX-License-Identifier: Apache-2.0
// Internal to SqliteStore: how model values become row text and back, and the few settings
// its source files share.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "userspace/common/result.h"
#include "userspace/registry/model.h"
#include "userspace/registry/sqlite_db.h"

namespace weft::registry::sqlite_rows {

inline constexpr const char* kComponent = "registry";
// Another process may hold the write lock for one transaction; waiting beats failing.
inline constexpr const char* kBusyTimeout = "PRAGMA busy_timeout = 5000";

// "ns/name", for messages.
std::string key(const std::string& ns, const std::string& name);

// The stored JSON text (JsonForm::kStored). Validation keeps text valid UTF-8; invalid bytes
// from a caller that bypassed the Registry are replaced rather than thrown on.
std::string encode(const Service& service);
std::string encode(const Endpoint& endpoint);

// Rows selected as (json, revision). A row that no longer decodes is reported, never
// skipped: skipping would make the data path drop a service that is still stored.
Result<Service> decodeService(const SqliteStatement& row, const std::string& path);
Result<Endpoint> decodeEndpoint(const SqliteStatement& row, const std::string& path);

// Steps through every row, appending decode(row) to `out`.
template <typename T, typename Decode>
Status readRows(SqliteStatement& stmt, Decode decode, std::vector<T>* out) {
  while (true) {
    auto row = stmt.step();
    if (!row) {
      return row.error();
    }
    if (!*row) {
      return {};
    }
    auto value = decode(stmt);
    if (!value) {
      return value.error();
    }
    out->push_back(std::move(*value));
  }
}

}  // namespace weft::registry::sqlite_rows
