// SPDX-License-Identifier: Apache-2.0
// Thin RAII wrappers over one SQLite connection and its prepared statements, turning result
// codes into weft::Status with the database path and SQLite's message. Not thread-safe:
// each connection is used by one thread at a time (SqliteStore holds a mutex around it).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "userspace/common/result.h"

namespace weft::registry {

class SqliteStatement {
 public:
  SqliteStatement(sqlite3_stmt* stmt, std::string context) : stmt_(stmt), context_(context) {}
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  SqliteStatement(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameters are numbered from 1 as in SQLite. Text is copied by SQLite.
  SqliteStatement& bind(int index, std::string_view text);
  SqliteStatement& bind(int index, int64_t value);

  // True when a row is available, false when done.
  Result<bool> step();
  // Steps to completion, for statements that return no rows.
  Status run();

  // Makes the statement runnable again with new bindings.
  void reset();

  std::string text(int column) const;
  int64_t integer(int column) const;
  bool isNull(int column) const;

 private:
  sqlite3_stmt* stmt_;
  std::string context_;  // "<path>: <sql>" for messages
  int bind_error_ = SQLITE_OK;
};

class SqliteDb {
 public:
  // Opens (creating when `create`) with SQLITE_OPEN_NOMUTEX; the caller serialises use.
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path, bool create);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Status exec(const char* sql);
  Result<SqliteStatement> prepare(std::string_view sql);
  // Rolls back an open transaction, if any; used on every failure path.
  void rollback();
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int changes() const;

  const std::string& path() const { return path_; }
  Error error(std::string_view what) const;

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
};

}  // namespace weft::registry
