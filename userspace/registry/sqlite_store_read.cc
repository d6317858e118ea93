// SPDX-License-Identifier: Apache-2.0
// SqliteStore reads: the whole snapshot in one read transaction, and keyed lookups.
#include <fmt/format.h>

#include "userspace/registry/registry.h"
#include "userspace/registry/sqlite_rows.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::registry {

using sqlite_rows::decodeEndpoint;
using sqlite_rows::decodeService;
using sqlite_rows::key;
using sqlite_rows::readRows;

Result<uint64_t> SqliteStore::readRevisionLocked() {
  auto query = db_->prepare("SELECT value FROM revision WHERE id = 1");
  if (!query) {
    return query.error();
  }
  auto row = query->step();
  if (!row || !*row) {
    return row ? db_->error("revision row is missing") : row.error();
  }
  return static_cast<uint64_t>(query->integer(0));
}

Result<uint64_t> SqliteStore::revision() {
  std::lock_guard lock(mutex_);
  return readRevisionLocked();
}

Result<Snapshot> SqliteStore::snapshot() {
  std::lock_guard lock(mutex_);
  const std::string& path = db_->path();
  // One read transaction: WAL gives it a consistent view while others write.
  if (auto st = db_->exec("BEGIN"); !st) {
    return st.error();
  }

  auto result = [&]() -> Result<Snapshot> {
    Snapshot snap;
    auto revision = readRevisionLocked();
    if (!revision) {
      return revision.error();
    }
    snap.revision = *revision;

    auto services = db_->prepare("SELECT json, revision FROM services ORDER BY ns, name");
    if (!services) {
      return services.error();
    }
    auto decode_service = [&](const SqliteStatement& row) { return decodeService(row, path); };
    if (auto st = readRows(*services, decode_service, &snap.services); !st) {
      return st.error();
    }

    auto endpoints = db_->prepare("SELECT json, revision FROM endpoints ORDER BY ns, service, id");
    if (!endpoints) {
      return endpoints.error();
    }
    auto decode_endpoint = [&](const SqliteStatement& row) { return decodeEndpoint(row, path); };
    if (auto st = readRows(*endpoints, decode_endpoint, &snap.endpoints); !st) {
      return st.error();
    }
    return snap;
  }();
  db_->rollback();  // ends the read transaction
  return result;
}

Result<std::vector<Service>> SqliteStore::listServices() {
  std::lock_guard lock(mutex_);
  const std::string& path = db_->path();
  auto rows = db_->prepare("SELECT json, revision FROM services ORDER BY ns, name");
  if (!rows) {
    return rows.error();
  }
  std::vector<Service> out;
  auto decode = [&](const SqliteStatement& row) { return decodeService(row, path); };
  if (auto st = readRows(*rows, decode, &out); !st) {
    return st.error();
  }
  return out;
}

Result<Service> SqliteStore::getService(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto query = db_->prepare("SELECT json, revision FROM services WHERE ns = ?1 AND name = ?2");
  if (!query) {
    return query.error();
  }
  auto row = query->bind(1, ns).bind(2, name).step();
  if (!row) {
    return row.error();
  }
  if (!*row) {
    return makeError(fmt::format("service {} does not exist", key(ns, name)), kNotFound);
  }
  return decodeService(*query, db_->path());
}

Result<Endpoint> SqliteStore::getEndpoint(const std::string& ns, const std::string& service,
                                          const std::string& endpoint_id) {
  std::lock_guard lock(mutex_);
  auto query = db_->prepare(
      "SELECT json, revision FROM endpoints WHERE ns = ?1 AND service = ?2 AND id = ?3");
  if (!query) {
    return query.error();
  }
  auto row = query->bind(1, ns).bind(2, service).bind(3, endpoint_id).step();
  if (!row) {
    return row.error();
  }
  if (!*row) {
    return makeError(
        fmt::format("endpoint {} does not exist in service {}", endpoint_id, key(ns, service)),
        kNotFound);
  }
  return decodeEndpoint(*query, db_->path());
}

Result<std::vector<Endpoint>> SqliteStore::listEndpoints(const std::string& ns,
                                                         const std::string& service) {
  std::lock_guard lock(mutex_);
  auto query = db_->prepare(
      "SELECT json, revision FROM endpoints WHERE ns = ?1 AND service = ?2 ORDER BY id");
  if (!query) {
    return query.error();
  }
  query->bind(1, ns).bind(2, service);

  std::vector<Endpoint> out;
  auto decode = [&](const SqliteStatement& row) { return decodeEndpoint(row, db_->path()); };
  if (auto st = readRows(*query, decode, &out); !st) {
    return st.error();
  }
  return out;
}

Result<std::vector<IpAddr>> SqliteStore::usedVips() {
  std::lock_guard lock(mutex_);
  auto query = db_->prepare("SELECT vip FROM services");
  if (!query) {
    return query.error();
  }

  std::vector<IpAddr> out;
  auto decode = [&](const SqliteStatement& row) -> Result<IpAddr> {
    auto vip = IpAddr::parse(row.text(0));
    if (!vip) {
      return makeError(
          fmt::format("registry store {}: stored vip {} is unreadable", db_->path(), row.text(0)));
    }
    return *vip;
  };
  if (auto st = readRows(*query, decode, &out); !st) {
    return st.error();
  }
  return out;
}

}  // namespace weft::registry
