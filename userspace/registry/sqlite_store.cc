// SPDX-License-Identifier: Apache-2.0
// SqliteStore: rows hold the model's JSON next to the key columns SQLite enforces uniqueness
// on. Every change runs in one BEGIN IMMEDIATE transaction that also bumps the revision, so
// a failed change leaves both the data and the revision as they were.
#include "userspace/registry/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "userspace/registry/registry.h"
#include "userspace/registry/sqlite_rows.h"

namespace weft::registry {
namespace {

using sqlite_rows::encode;
using sqlite_rows::kBusyTimeout;
using sqlite_rows::key;

constexpr int64_t kSchemaVersion = 2;

constexpr const char* kCreateSchema = R"(
CREATE TABLE revision (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
);
INSERT INTO revision (id, value) VALUES (1, 0);
CREATE TABLE services (
  ns TEXT NOT NULL,
  name TEXT NOT NULL,
  vip TEXT NOT NULL UNIQUE,
  json TEXT NOT NULL,
  revision INTEGER NOT NULL,
  PRIMARY KEY (ns, name)
) WITHOUT ROWID;
CREATE TABLE endpoints (
  ns TEXT NOT NULL,
  service TEXT NOT NULL,
  id TEXT NOT NULL,
  json TEXT NOT NULL,
  revision INTEGER NOT NULL,
  PRIMARY KEY (ns, service, id),
  FOREIGN KEY (ns, service) REFERENCES services (ns, name) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO schema_version (version) VALUES (1);
)";

// Version 2 adds the change log: the services each revision touched, so a watcher (in this
// process or another) re-reads only those. Rows older than kChangeLogRevisions are pruned;
// a watcher that fell further behind re-reads everything.
constexpr const char* kAddChangeLog = R"(
CREATE TABLE changes (
  revision INTEGER NOT NULL,
  ns TEXT NOT NULL,
  service TEXT NOT NULL
);
CREATE INDEX changes_by_revision ON changes (revision);
UPDATE schema_version SET version = 2;
)";
constexpr int64_t kChangeLogRevisions = 4096;

// Creates the file with owner-only permissions before SQLite opens it; SQLite would use the
// umask. The -wal and -shm files copy the main file's mode.
Status prepareFile(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(parent, ec)) {
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        return makeError(fmt::format("registry store {}: create directory {}: {}", path,
                                     parent.string(), ec.message()),
                         ec.value());
      }
      std::filesystem::permissions(parent, std::filesystem::perms::owner_all, ec);
    }
  }

  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    return makeError(fmt::format("registry store {}: open: {}", path, std::strerror(err)), err);
  }
  ::close(fd);
  return {};
}

// WAL lets readers (the watch thread, other processes) run beside a writer; with
// synchronous=FULL each commit is fsynced before it returns.
Status enableWal(SqliteDb& db) {
  auto mode = db.prepare("PRAGMA journal_mode = WAL");
  if (!mode) {
    return mode.error();
  }
  auto row = mode->step();
  if (!row) {
    return row.error();
  }
  if (!*row || mode->text(0) != "wal") {
    return makeError(
        fmt::format("registry store {}: the file system does not support WAL mode", db.path()));
  }
  return {};
}

// 0 for a new file; the statement is finished before the caller changes the schema.
Result<int64_t> readSchemaVersion(SqliteDb& db) {
  auto query = db.prepare("SELECT version FROM schema_version");
  if (!query) {
    return query.error();
  }
  auto found = query->step();
  if (!found) {
    return found.error();
  }
  return *found ? query->integer(0) : 0;
}

// One upsert per row kind, shared by the single-row puts and putAll.
constexpr std::string_view kUpsertServiceSql =
    "INSERT INTO services (ns, name, vip, json, revision) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (ns, name) DO UPDATE SET vip = excluded.vip, json = excluded.json, "
    "revision = excluded.revision";
constexpr std::string_view kUpsertEndpointSql =
    "INSERT INTO endpoints (ns, service, id, json, revision) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (ns, service, id) DO UPDATE SET json = excluded.json, "
    "revision = excluded.revision";

// Binds and runs a prepared upsert for `service` (VIP set) at revision `rev`.
Status upsertService(SqliteStatement& stmt, Service service, uint64_t rev) {
  service.revision = rev;
  return stmt.bind(1, service.ns)
      .bind(2, service.name)
      .bind(3, service.vip->toString())
      .bind(4, encode(service))
      .bind(5, static_cast<int64_t>(rev))
      .run();
}

Status upsertEndpoint(SqliteStatement& stmt, Endpoint endpoint, uint64_t rev) {
  endpoint.revision = rev;
  std::string id = endpoint.id();
  return stmt.bind(1, endpoint.ns)
      .bind(2, endpoint.service)
      .bind(3, id)
      .bind(4, encode(endpoint))
      .bind(5, static_cast<int64_t>(rev))
      .run();
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       SqliteStoreOptions options) {
  if (auto st = prepareFile(path); !st) {
    return st.error();
  }
  auto db = SqliteDb::open(path, true);
  if (!db) {
    return db.error();
  }

  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(*db), options));
  if (auto st = store->initSchema(); !st) {
    return st.error();
  }
  return store;
}

Status SqliteStore::initSchema() {
  std::lock_guard lock(mutex_);
  if (auto st = db_->exec(kBusyTimeout); !st) {
    return st;
  }

  if (auto st = enableWal(*db_); !st) {
    return st;
  }
  const char* synchronous =
      options_.fsync_each_commit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
  for (const char* pragma : {synchronous, "PRAGMA foreign_keys = ON"}) {
    if (auto st = db_->exec(pragma); !st) {
      return st;
    }
  }

  if (auto st = db_->exec("BEGIN IMMEDIATE"); !st) {
    return st;
  }
  auto st = [&]() -> Status {
    if (auto created = db_->exec("CREATE TABLE IF NOT EXISTS schema_version "
                                 "(version INTEGER NOT NULL)");
        !created) {
      return created;
    }
    auto version = readSchemaVersion(*db_);
    if (!version) {
      return version.error();
    }
    if (*version == 0) {
      if (auto created = db_->exec(kCreateSchema); !created) {
        return created;
      }
      return db_->exec(kAddChangeLog);
    }
    if (*version == 1) {
      return db_->exec(kAddChangeLog);
    }
    if (*version != kSchemaVersion) {
      return makeError(
          fmt::format("registry store {}: schema version {} is not the version "
                      "this build reads ({})",
                      db_->path(), *version, kSchemaVersion));
    }
    return {};
  }();
  if (!st) {
    db_->rollback();
    return st;
  }
  if (auto committed = db_->exec("COMMIT"); !committed) {
    db_->rollback();
    return committed;
  }
  return {};
}

Result<uint64_t> SqliteStore::write(const std::vector<ServiceRef>& touched,
                                    const std::function<Status(uint64_t revision)>& body) {
  std::unique_lock lock(mutex_);
  if (auto st = db_->exec("BEGIN IMMEDIATE"); !st) {
    return st.error();
  }
  auto result = [&]() -> Result<uint64_t> {
    auto bump = db_->prepare("UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value");
    if (!bump) {
      return bump.error();
    }
    auto row = bump->step();
    if (!row || !*row) {
      return row ? db_->error("revision row is missing") : row.error();
    }
    auto revision = static_cast<uint64_t>(bump->integer(0));
    if (auto done = bump->run(); !done) {
      return done.error();
    }
    if (auto st = body(revision); !st) {
      return st.error();
    }
    if (auto st = logChanges(revision, touched); !st) {
      return st.error();
    }
    if (auto st = db_->exec("COMMIT"); !st) {
      return st.error();
    }
    return revision;
  }();
  if (!result) {
    db_->rollback();
    return result;
  }
  // Unlocked first, so a callback may read the store.
  lock.unlock();
  notifyOwnWrite(*result, touched);
  return result;
}

Status SqliteStore::logChanges(uint64_t revision, const std::vector<ServiceRef>& touched) {
  auto insert = db_->prepare("INSERT INTO changes (revision, ns, service) VALUES (?1, ?2, ?3)");
  if (!insert) {
    return insert.error();
  }
  for (const ServiceRef& ref : touched) {
    auto st =
        insert->bind(1, static_cast<int64_t>(revision)).bind(2, ref.ns).bind(3, ref.name).run();
    if (!st) {
      return st;
    }
    insert->reset();
  }
  auto prune = db_->prepare("DELETE FROM changes WHERE revision <= ?1");
  if (!prune) {
    return prune.error();
  }
  return prune->bind(1, static_cast<int64_t>(revision) - kChangeLogRevisions).run();
}

Status SqliteStore::checkVipFree(const Service& service) {
  auto holder = db_->prepare("SELECT ns, name FROM services WHERE vip = ?1");
  if (!holder) {
    return holder.error();
  }
  std::string vip = service.vip->toString();
  auto row = holder->bind(1, vip).step();
  if (!row) {
    return row.error();
  }
  if (*row && (holder->text(0) != service.ns || holder->text(1) != service.name)) {
    return makeError(fmt::format("vip: {} is already held by service {}", vip,
                                 key(holder->text(0), holder->text(1))),
                     kConflict);
  }
  return {};
}

Result<Service> SqliteStore::putService(const Service& service, bool create_only) {
  if (!service.vip) {
    return makeError(
        fmt::format("service {}: the store needs a vip", key(service.ns, service.name)), kInvalid);
  }
  Service stored = service;

  auto revision = write({{service.ns, service.name}}, [&](uint64_t rev) -> Status {
    if (create_only) {
      auto exists = db_->prepare("SELECT 1 FROM services WHERE ns = ?1 AND name = ?2");
      if (!exists) {
        return exists.error();
      }
      auto row = exists->bind(1, service.ns).bind(2, service.name).step();
      if (!row) {
        return row.error();
      }
      if (*row) {
        return makeError(fmt::format("service {} already exists", key(service.ns, service.name)),
                         kConflict);
      }
    }
    if (auto st = checkVipFree(service); !st) {
      return st;
    }

    stored.revision = rev;
    auto upsert = db_->prepare(kUpsertServiceSql);
    if (!upsert) {
      return upsert.error();
    }
    return upsertService(*upsert, stored, rev);
  });
  if (!revision) {
    return revision.error();
  }
  return stored;
}

Status SqliteStore::putAll(const std::vector<Service>& services,
                           const std::vector<Endpoint>& endpoints) {
  std::set<ServiceRef> touched;
  for (const Service& svc : services) {
    touched.insert({svc.ns, svc.name});
  }
  for (const Endpoint& ep : endpoints) {
    touched.insert({ep.ns, ep.service});
  }
  auto revision = write({touched.begin(), touched.end()}, [&](uint64_t rev) -> Status {
    auto svc_stmt = db_->prepare(kUpsertServiceSql);
    if (!svc_stmt) {
      return svc_stmt.error();
    }
    for (Service svc : services) {
      if (!svc.vip) {
        return makeError(fmt::format("service {}: the store needs a vip", key(svc.ns, svc.name)),
                         kInvalid);
      }
      auto st = upsertService(*svc_stmt, svc, rev);
      if (!st) {
        return st;
      }
      svc_stmt->reset();
    }

    auto ep_stmt = db_->prepare(kUpsertEndpointSql);
    if (!ep_stmt) {
      return ep_stmt.error();
    }
    for (Endpoint ep : endpoints) {
      auto st = upsertEndpoint(*ep_stmt, ep, rev);
      if (!st) {
        return st;  // a missing service fails the foreign key: nothing is stored
      }
      ep_stmt->reset();
    }
    return {};
  });
  if (!revision) {
    return revision.error();
  }
  return {};
}

Status SqliteStore::deleteService(const std::string& ns, const std::string& name) {
  auto revision = write({{ns, name}}, [&](uint64_t) -> Status {
    auto del = db_->prepare("DELETE FROM services WHERE ns = ?1 AND name = ?2");
    if (!del) {
      return del.error();
    }
    if (auto st = del->bind(1, ns).bind(2, name).run(); !st) {
      return st;
    }
    if (db_->changes() == 0) {
      return makeError(fmt::format("service {} does not exist", key(ns, name)), kNotFound);
    }
    return {};
  });
  if (!revision) {
    return revision.error();
  }
  return {};
}

Result<Endpoint> SqliteStore::putEndpoint(const Endpoint& endpoint, bool create_only) {
  Endpoint stored = endpoint;
  std::string id = endpoint.id();
  std::string service_key = key(endpoint.ns, endpoint.service);

  auto revision = write({{endpoint.ns, endpoint.service}}, [&](uint64_t rev) -> Status {
    auto service = db_->prepare("SELECT 1 FROM services WHERE ns = ?1 AND name = ?2");
    if (!service) {
      return service.error();
    }
    auto found = service->bind(1, endpoint.ns).bind(2, endpoint.service).step();
    if (!found) {
      return found.error();
    }
    if (!*found) {
      return makeError(fmt::format("service {} does not exist", service_key), kNotFound);
    }

    if (create_only) {
      auto exists =
          db_->prepare("SELECT 1 FROM endpoints WHERE ns = ?1 AND service = ?2 AND id = ?3");
      if (!exists) {
        return exists.error();
      }
      auto row = exists->bind(1, endpoint.ns).bind(2, endpoint.service).bind(3, id).step();
      if (!row) {
        return row.error();
      }
      if (*row) {
        return makeError(fmt::format("endpoint {} already exists in service {}", id, service_key),
                         kConflict);
      }
    }

    stored.revision = rev;
    auto upsert = db_->prepare(kUpsertEndpointSql);
    if (!upsert) {
      return upsert.error();
    }
    return upsertEndpoint(*upsert, stored, rev);
  });
  if (!revision) {
    return revision.error();
  }
  return stored;
}

Status SqliteStore::deleteEndpoint(const std::string& ns, const std::string& service,
                                   const std::string& endpoint_id) {
  auto revision = write({{ns, service}}, [&](uint64_t) -> Status {
    auto del = db_->prepare("DELETE FROM endpoints WHERE ns = ?1 AND service = ?2 AND id = ?3");
    if (!del) {
      return del.error();
    }
    if (auto st = del->bind(1, ns).bind(2, service).bind(3, endpoint_id).run(); !st) {
      return st;
    }
    if (db_->changes() == 0) {
      return makeError(
          fmt::format("endpoint {} does not exist in service {}", endpoint_id, key(ns, service)),
          kNotFound);
    }
    return {};
  });
  if (!revision) {
    return revision.error();
  }
  return {};
}

}  // namespace weft::registry
