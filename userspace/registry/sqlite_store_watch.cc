// SPDX-License-Identifier: Apache-2.0
// SqliteStore change notification: a thread polls the revision on its own connection, so
// commits by this store, by other stores on the same file and by other processes are seen
// alike.
#include <chrono>

#include "userspace/common/log.h"
#include "userspace/registry/sqlite_rows.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::registry {
namespace {

constexpr auto kWatchPeriod = std::chrono::milliseconds(100);

// The watch thread must outlive a callback that throws; the next change calls it again.
void runCallback(const std::function<void()>& callback, const std::string& path) {
  try {
    callback();
  } catch (const std::exception& e) {
    log::error(sqlite_rows::kComponent, "registry store: watch callback threw",
               {{"path", path}, {"error", e.what()}});
  } catch (...) {
    log::error(sqlite_rows::kComponent, "registry store: watch callback threw", {{"path", path}});
  }
}

Result<uint64_t> pollRevision(SqliteDb& db) {
  auto query = db.prepare("SELECT value FROM revision WHERE id = 1");
  if (!query) {
    return query.error();
  }
  auto row = query->step();
  if (!row || !*row) {
    return row ? db.error("revision row is missing") : row.error();
  }
  return static_cast<uint64_t>(query->integer(0));
}

}  // namespace

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(watch_mutex_);
    stopping_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) {
    watcher_.join();
  }
}

Status SqliteStore::watch(std::function<void()> on_change) {
  std::lock_guard lock(watch_mutex_);
  if (watcher_.joinable()) {
    callbacks_.push_back(std::move(on_change));
    return {};
  }

  // A connection of its own, so polling never waits behind this store's writers.
  auto db = SqliteDb::open(db_->path(), false);
  if (!db) {
    return db.error();
  }
  if (auto st = (*db)->exec(sqlite_rows::kBusyTimeout); !st) {
    return st;
  }
  auto seen = pollRevision(**db);
  if (!seen) {
    return seen.error();
  }
  callbacks_.push_back(std::move(on_change));
  watcher_ = std::thread(&SqliteStore::watchLoop, this, std::move(*db), *seen);
  return {};
}

void SqliteStore::watchLoop(std::unique_ptr<SqliteDb> db, uint64_t seen) {
  bool failing = false;
  std::unique_lock lock(watch_mutex_);
  while (!watch_cv_.wait_for(lock, kWatchPeriod, [&] { return stopping_; })) {
    std::vector<std::function<void()>> callbacks = callbacks_;
    lock.unlock();

    auto current = pollRevision(*db);
    if (!current) {
      // Logged once per failure streak; the next tick tries again.
      if (!failing) {
        log::warn(sqlite_rows::kComponent, "registry store: watch poll failed",
                  {{"path", db->path()}, {"error", current.error().message}});
      }
      failing = true;
    } else {
      failing = false;
      if (*current != seen) {
        seen = *current;
        for (const auto& callback : callbacks) {
          runCallback(callback, db->path());
        }
      }
    }

    lock.lock();
  }
}

}  // namespace weft::registry
