// SPDX-License-Identifier: Apache-2.0
// The embedded registry store: one SQLite file in WAL mode with synchronous=FULL, so a write
// that returned success survives kill -9 and power loss. Several processes may open the
// same file; the revision counter tells every watcher about everyone's changes.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "userspace/registry/sqlite_db.h"
#include "userspace/registry/store.h"

namespace weft::registry {

class SqliteStore : public Store {
 public:
  // Opens or creates the database (mode 0600; missing parent directories are created with
  // mode 0700) and its schema. Fails when the file holds a newer schema than this build knows.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  // Stops the watch thread. Must not run on that thread (from inside on_change).
  ~SqliteStore() override;

  Result<Service> putService(const Service& service, bool create_only) override;
  Status deleteService(const std::string& ns, const std::string& name) override;
  Result<Endpoint> putEndpoint(const Endpoint& endpoint, bool create_only) override;
  Status deleteEndpoint(const std::string& ns, const std::string& service,
                        const std::string& endpoint_id) override;
  Result<Snapshot> snapshot() override;

  Result<Service> getService(const std::string& ns, const std::string& name) override;
  Result<Endpoint> getEndpoint(const std::string& ns, const std::string& service,
                               const std::string& endpoint_id) override;
  Result<std::vector<Endpoint>> listEndpoints(const std::string& ns,
                                              const std::string& service) override;
  Result<std::vector<IpAddr>> usedVips() override;

  // Polls the revision every 100 ms on a second connection and calls every registered
  // callback once when it moved, whoever wrote. May be called more than once to add
  // callbacks; they run on the store's watch thread, one after another.
  Status watch(std::function<void()> on_change) override;

  // Stores many services (VIPs set) and endpoints in one transaction and one revision, for
  // seeding and benchmarks where a commit per row would cost an fsync each. Replaces rows
  // with the same keys; all or nothing. No validation: callers pass Registry-checked values.
  Status putAll(const std::vector<Service>& services,
                const std::vector<Endpoint>& endpoints) override;

  // The current revision (0 for a new store).
  Result<uint64_t> revision();

 private:
  explicit SqliteStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  Status initSchema();
  // Runs `body` inside BEGIN IMMEDIATE with the revision already bumped; commits when it
  // succeeds, rolls back otherwise. Returns the new revision.
  Result<uint64_t> write(const std::function<Status(uint64_t revision)>& body);
  Status checkVipFree(const Service& service);
  Result<uint64_t> readRevisionLocked();
  void watchLoop(std::unique_ptr<SqliteDb> db, uint64_t seen);

  std::mutex mutex_;  // guards db_
  std::unique_ptr<SqliteDb> db_;

  std::mutex watch_mutex_;  // guards the fields below
  std::condition_variable watch_cv_;
  std::vector<std::function<void()>> callbacks_;
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace weft::registry
