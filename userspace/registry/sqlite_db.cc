// SPDX-License-Identifier: Apache-2.0
// SQLite connection and statement wrappers.
#include "userspace/registry/sqlite_db.h"

#include <cerrno>

#include <fmt/format.h>

namespace weft::registry {

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : stmt_(other.stmt_), context_(std::move(other.context_)), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(stmt_);  // a no-op on nullptr
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

Result<bool> SqliteStatement::step() {
  if (bind_error_ != SQLITE_OK) {
    return makeError(fmt::format("{}: bind: {}", context_, sqlite3_errstr(bind_error_)));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return makeError(fmt::format("{}: {}", context_, sqlite3_errmsg(sqlite3_db_handle(stmt_))),
                   sqlite3_extended_errcode(sqlite3_db_handle(stmt_)) == SQLITE_BUSY ? EBUSY : 0);
}

Status SqliteStatement::run() {
  while (true) {
    auto more = step();
    if (!more) {
      return more.error();
    }
    if (!*more) {
      return {};
    }
  }
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_);
  bind_error_ = SQLITE_OK;
}

std::string SqliteStatement::text(int column) const {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), size);
}

int64_t SqliteStatement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

bool SqliteStatement::isNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return makeError(fmt::format("registry store {}: open: {}", path, message));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db, path));
}

SqliteDb::~SqliteDb() {
  sqlite3_close_v2(db_);
}

Error SqliteDb::error(std::string_view what) const {
  return makeError(fmt::format("registry store {}: {}: {}", path_, what, sqlite3_errmsg(db_)),
                   sqlite3_errcode(db_) == SQLITE_BUSY ? EBUSY : 0);
}

Status SqliteDb::exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return error(sql);
  }
  return {};
}

Result<SqliteStatement> SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return error(fmt::format("prepare \"{}\"", sql));
  }
  return SqliteStatement(stmt, fmt::format("registry store {}: \"{}\"", path_, sql));
}

void SqliteDb::rollback() {
  if (sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

int SqliteDb::changes() const {
  return sqlite3_changes(db_);
}

}  // namespace weft::registry
