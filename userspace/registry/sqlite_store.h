// SPDX-License-Identifier: Apache-2.0
// The embedded registry store: one SQLite file in WAL mode. A write that returned success
// survives kill -9 of the agent; with fsync_each_commit it also survives power loss. Several
// processes may open the same file; a change log tells every watcher what anyone changed.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "userspace/registry/sqlite_db.h"
#include "userspace/registry/store.h"

namespace weft::registry {

struct SqliteStoreOptions {
  // synchronous=FULL: each commit waits for an fsync (power-loss durable, several ms a write
  // here). Otherwise synchronous=NORMAL: a commit is in the WAL file before it returns, so it
  // survives a crash or kill -9 of the process; only an OS crash can lose the last commits,
  // never the file's consistency.
  bool fsync_each_commit = false;
};

class SqliteStore : public Store {
 public:
  // Opens or creates the database (mode 0600; missing parent directories are created with
  // mode 0700) and its schema, upgrading a version-1 schema in place. Fails when the file
  // holds a newer schema than this build knows.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   SqliteStoreOptions options = {});
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
  Result<std::vector<Service>> listServices() override;
  Result<std::vector<Endpoint>> listEndpoints(const std::string& ns,
                                              const std::string& service) override;
  Result<std::vector<IpAddr>> usedVips() override;

  // This store's own writes are reported from the writing thread right after the commit. Other
  // writers' changes (other stores on the file, other processes) are found by polling the change
  // log every 10 ms on a second connection and reported from the store's watch thread. May be
  // called more than once to add callbacks.
  Status watch(ChangeCallback on_change) override;

  // Stores many services (VIPs set) and endpoints in one transaction and one revision, for
  // seeding and benchmarks where a commit per row would cost an fsync each. Replaces rows
  // with the same keys; all or nothing. No validation: callers pass Registry-checked values.
  Status putAll(const std::vector<Service>& services,
                const std::vector<Endpoint>& endpoints) override;

  // The current revision (0 for a new store).
  Result<uint64_t> revision();

 private:
  SqliteStore(std::unique_ptr<SqliteDb> db, SqliteStoreOptions options)
      : options_(options), db_(std::move(db)) {}

  Status initSchema();
  // Takes mutex_ and runs `body` inside BEGIN IMMEDIATE with the revision already bumped and
  // `touched` logged; commits when it succeeds, rolls back otherwise; then reports the change
  // to watchers, unlocked. Returns the new revision.
  Result<uint64_t> write(const std::vector<ServiceRef>& touched,
                         const std::function<Status(uint64_t revision)>& body);
  Status logChanges(uint64_t revision, const std::vector<ServiceRef>& touched);
  void notifyOwnWrite(uint64_t revision, const std::vector<ServiceRef>& touched);
  // What the change log says happened after `seen` up to `current`, leaving out this store's
  // own revisions (already reported).
  Result<ChangeSet> readChanges(SqliteDb& db, uint64_t seen, uint64_t current);
  Status checkVipFree(const Service& service);
  Result<uint64_t> readRevisionLocked();
  void watchLoop(std::unique_ptr<SqliteDb> db, uint64_t seen);

  const SqliteStoreOptions options_;
  std::mutex mutex_;  // guards db_
  std::unique_ptr<SqliteDb> db_;

  std::mutex watch_mutex_;  // guards the fields below
  std::condition_variable watch_cv_;
  std::vector<ChangeCallback> callbacks_;
  std::set<uint64_t> own_revisions_;  // written here, not yet passed by the watch thread
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace weft::registry
