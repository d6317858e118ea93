// SPDX-License-Identifier: Apache-2.0
// SqliteStore change notification: own commits are reported at once by the writer; a thread
// polls the revision on its own connection and reads the change log for commits by other
// stores on the same file and by other processes.
#include <chrono>
#include <set>

#include "userspace/common/log.h"
#include "userspace/registry/sqlite_rows.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::registry {
namespace {

// Short enough that another writer's change reaches the maps in milliseconds; a poll is one
// indexed read of a one-row table.
constexpr auto kWatchPeriod = std::chrono::milliseconds(10);

// The watch thread must outlive a callback that throws; the next change calls it again.
void runCallback(const Store::ChangeCallback& callback, const ChangeSet& changes,
                 const std::string& path) {
  try {
    callback(changes);
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

void SqliteStore::notifyOwnWrite(uint64_t revision, const std::vector<ServiceRef>& touched) {
  std::vector<ChangeCallback> callbacks;
  {
    std::lock_guard lock(watch_mutex_);
    if (!watcher_.joinable()) {
      return;
    }
    own_revisions_.insert(revision);
    callbacks = callbacks_;
  }
  ChangeSet changes;
  changes.services = touched;
  for (const auto& callback : callbacks) {
    runCallback(callback, changes, db_->path());
  }
}

Result<ChangeSet> SqliteStore::readChanges(SqliteDb& db, uint64_t seen, uint64_t current) {
  std::set<uint64_t> own;
  {
    std::lock_guard lock(watch_mutex_);
    auto end = own_revisions_.upper_bound(current);
    own.insert(own_revisions_.begin(), end);
    own_revisions_.erase(own_revisions_.begin(), end);
  }

  ChangeSet changes;
  auto oldest = db.prepare("SELECT MIN(revision) FROM changes");
  if (!oldest) {
    return oldest.error();
  }
  auto row = oldest->step();
  if (!row) {
    return row.error();
  }
  // Revisions after `seen` were pruned before this poll: what they touched is unknown.
  if (oldest->isNull(0) || static_cast<uint64_t>(oldest->integer(0)) > seen + 1) {
    for (uint64_t rev = seen + 1; rev <= current; ++rev) {
      if (!own.contains(rev)) {
        changes.everything = true;
        return changes;
      }
    }
    return changes;
  }

  auto rows = db.prepare(
      "SELECT DISTINCT revision, ns, service FROM changes WHERE revision > ?1 AND revision <= ?2");
  if (!rows) {
    return rows.error();
  }
  rows->bind(1, static_cast<int64_t>(seen)).bind(2, static_cast<int64_t>(current));
  std::set<ServiceRef> services;
  while (true) {
    auto next = rows->step();
    if (!next) {
      return next.error();
    }
    if (!*next) {
      break;
    }
    if (!own.contains(static_cast<uint64_t>(rows->integer(0)))) {
      services.insert({rows->text(1), rows->text(2)});
    }
  }
  changes.services.assign(services.begin(), services.end());
  return changes;
}

Status SqliteStore::watch(ChangeCallback on_change) {
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
    std::vector<ChangeCallback> callbacks = callbacks_;
    lock.unlock();

    auto current = pollRevision(*db);
    Result<ChangeSet> changes = ChangeSet{};
    if (current && *current != seen) {
      changes = readChanges(*db, seen, *current);
    }
    if (!current || !changes) {
      const Error& error = current ? changes.error() : current.error();
      // Logged once per failure streak; the next tick tries again.
      if (!failing) {
        log::warn(sqlite_rows::kComponent, "registry store: watch poll failed",
                  {{"path", db->path()}, {"error", error.message}});
      }
      failing = true;
    } else {
      failing = false;
      seen = *current;
      if (changes->everything || !changes->services.empty()) {
        for (const auto& callback : callbacks) {
          runCallback(callback, *changes, db->path());
        }
      }
    }

    lock.lock();
  }
}

}  // namespace weft::registry
