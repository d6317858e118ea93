// SPDX-License-Identifier: Apache-2.0
// SqliteStore against real files in a private temp dir: CRUD, uniqueness, cascade, the
// revision counter, durability across an abrupt process exit, and watch across instances.
#include "userspace/registry/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/unit/registry_test_util.h"
#include "userspace/registry/registry.h"

namespace weft::registry {
namespace {

using namespace std::chrono_literals;
using testing::cidr;
using testing::ip;
using testing::makeEndpoint;
using testing::makeService;
using testing::TempDir;

Service serviceWithVip(const std::string& name, const char* vip) {
  Service svc = makeService(name);
  svc.vip = ip(vip);
  return svc;
}

std::unique_ptr<SqliteStore> openStore(const std::string& path) {
  auto store = SqliteStore::open(path);
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

// Runs raw SQL on the file, bypassing the store, to fake damage or a future schema.
void rawExec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// Polls `done` every 10 ms for at most `limit`.
template <typename F>
bool waitFor(F done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("state/registry.db");
    store_ = openStore(path_);
    ASSERT_NE(store_, nullptr);
  }

  uint64_t revision() {
    auto rev = store_->revision();
    EXPECT_TRUE(rev);
    return rev ? *rev : 0;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, NewFileIsPrivateAndEmpty) {
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(dir_.file("state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto snap = store_->snapshot();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_TRUE(snap->services.empty());
  EXPECT_TRUE(snap->endpoints.empty());
  EXPECT_EQ(snap->revision, 0u);
}

TEST_F(SqliteStoreTest, ServiceCrud) {
  auto created = store_->putService(serviceWithVip("web", "10.96.0.1"), true);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->revision, 1u);

  Service changed = *created;
  changed.labels["tier"] = "front";
  changed.ports = {{"http", 80, WEFT_PROTO_TCP}, {"https", 443, WEFT_PROTO_TCP}};
  auto replaced = store_->putService(changed, false);
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(replaced->revision, 2u);

  auto got = store_->getService("default", "web");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, *replaced);
  EXPECT_EQ(got->labels.at("tier"), "front");

  ASSERT_TRUE(store_->deleteService("default", "web"));
  EXPECT_EQ(revision(), 3u);
  auto gone = store_->getService("default", "web");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, kNotFound);
  EXPECT_EQ(gone.error().message, "service default/web does not exist");

  auto again = store_->deleteService("default", "web");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, kNotFound);
  EXPECT_EQ(revision(), 3u);
}

TEST_F(SqliteStoreTest, ConflictsLeaveDataAndRevisionUntouched) {
  ASSERT_TRUE(store_->putService(serviceWithVip("web", "10.96.0.1"), true));
  ASSERT_TRUE(store_->putEndpoint(makeEndpoint("web", "10.0.0.1", 80), true));
  auto before = store_->snapshot();
  ASSERT_TRUE(before);

  auto dup = store_->putService(serviceWithVip("web", "10.96.0.2"), true);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, kConflict);
  EXPECT_EQ(dup.error().message, "service default/web already exists");

  auto vip_taken = store_->putService(serviceWithVip("api", "10.96.0.1"), true);
  ASSERT_FALSE(vip_taken);
  EXPECT_EQ(vip_taken.error().code, kConflict);
  EXPECT_EQ(vip_taken.error().message, "vip: 10.96.0.1 is already held by service default/web");

  // Replacing may not steal another service's VIP either.
  ASSERT_TRUE(store_->putService(serviceWithVip("api", "10.96.0.2"), true));
  auto steal = store_->putService(serviceWithVip("api", "10.96.0.1"), false);
  ASSERT_FALSE(steal);
  EXPECT_EQ(steal.error().code, kConflict);

  auto no_vip = store_->putService(makeService("db"), true);
  ASSERT_FALSE(no_vip);
  EXPECT_EQ(no_vip.error().code, kInvalid);

  auto dup_ep = store_->putEndpoint(makeEndpoint("web", "10.0.0.1", 80), true);
  ASSERT_FALSE(dup_ep);
  EXPECT_EQ(dup_ep.error().code, kConflict);
  EXPECT_EQ(dup_ep.error().message, "endpoint 10.0.0.1:80 already exists in service default/web");

  auto orphan = store_->putEndpoint(makeEndpoint("nope", "10.0.0.1", 80), false);
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, kNotFound);
  EXPECT_EQ(orphan.error().message, "service default/nope does not exist");

  auto after = store_->snapshot();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->revision, before->revision + 1);  // only the api service was added
  EXPECT_EQ(after->endpoints, before->endpoints);
  auto web = store_->getService("default", "web");
  ASSERT_TRUE(web);
  EXPECT_EQ(web->vip, ip("10.96.0.1"));
}

TEST_F(SqliteStoreTest, EndpointCrud) {
  ASSERT_TRUE(store_->putService(serviceWithVip("web", "fd00:96::1"), true));
  Endpoint ep = makeEndpoint("web", "fd00::7", 8080);
  ep.ttl_seconds = 30;
  ep.labels["zone"] = "a";

  auto stored = store_->putEndpoint(ep, true);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->revision, 2u);

  auto got = store_->getEndpoint("default", "web", "[fd00::7]:8080");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, *stored);

  ep.weight = 0;
  auto updated = store_->putEndpoint(ep, false);
  ASSERT_TRUE(updated);
  auto list = store_->listEndpoints("default", "web");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].weight, 0u);
  EXPECT_EQ((*list)[0].revision, 3u);

  ASSERT_TRUE(store_->deleteEndpoint("default", "web", "[fd00::7]:8080"));
  auto gone = store_->deleteEndpoint("default", "web", "[fd00::7]:8080");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, kNotFound);
  EXPECT_EQ(gone.error().message, "endpoint [fd00::7]:8080 does not exist in service default/web");
  auto missing = store_->getEndpoint("default", "web", "[fd00::7]:8080");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, kNotFound);
}

TEST_F(SqliteStoreTest, ReplacingAServiceKeepsItsEndpoints) {
  ASSERT_TRUE(store_->putService(serviceWithVip("web", "10.96.0.1"), true));
  ASSERT_TRUE(store_->putEndpoint(makeEndpoint("web", "10.0.0.1", 80), true));

  Service svc = serviceWithVip("web", "10.96.0.1");
  svc.algorithm = WEFT_LB_RANDOM;
  ASSERT_TRUE(store_->putService(svc, false));

  auto list = store_->listEndpoints("default", "web");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u);
}

TEST_F(SqliteStoreTest, DeletingAServiceDeletesItsEndpoints) {
  ASSERT_TRUE(store_->putService(serviceWithVip("web", "10.96.0.1"), true));
  ASSERT_TRUE(store_->putService(serviceWithVip("api", "10.96.0.2"), true));
  ASSERT_TRUE(store_->putEndpoint(makeEndpoint("web", "10.0.0.1", 80), true));
  ASSERT_TRUE(store_->putEndpoint(makeEndpoint("web", "10.0.0.2", 80), true));
  ASSERT_TRUE(store_->putEndpoint(makeEndpoint("api", "10.0.0.3", 80), true));

  ASSERT_TRUE(store_->deleteService("default", "web"));

  auto snap = store_->snapshot();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->endpoints.size(), 1u);
  EXPECT_EQ(snap->endpoints[0].service, "api");

  // The name is free again, and the new service starts with no endpoints.
  ASSERT_TRUE(store_->putService(serviceWithVip("web", "10.96.0.1"), true));
  auto list = store_->listEndpoints("default", "web");
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
}

TEST_F(SqliteStoreTest, SnapshotAndUsedVips) {
  ASSERT_TRUE(store_->putService(serviceWithVip("web", "10.96.0.1"), true));
  Service other = serviceWithVip("api", "fd00:96::5");
  other.ns = "shop";
  ASSERT_TRUE(store_->putService(other, true));
  ASSERT_TRUE(store_->putEndpoint(makeEndpoint("web", "10.0.0.1", 80), true));

  auto snap = store_->snapshot();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(snap->revision, 3u);
  ASSERT_EQ(snap->services.size(), 2u);
  EXPECT_EQ(snap->services[0].ns, "default");  // ordered by ns, name
  EXPECT_EQ(snap->services[1].name, "api");
  EXPECT_EQ(snap->services[1].revision, 2u);
  ASSERT_EQ(snap->endpoints.size(), 1u);
  EXPECT_EQ(snap->endpoints[0].revision, 3u);

  auto vips = store_->usedVips();
  ASSERT_TRUE(vips);
  EXPECT_EQ(vips->size(), 2u);
}

TEST_F(SqliteStoreTest, PutAllIsOneRevisionAndAllOrNothing) {
  std::vector<Service> services = {serviceWithVip("a", "10.96.0.1"),
                                   serviceWithVip("b", "10.96.0.2")};
  std::vector<Endpoint> endpoints = {makeEndpoint("a", "10.0.0.1", 80),
                                     makeEndpoint("b", "10.0.0.2", 80)};
  ASSERT_TRUE(store_->putAll(services, endpoints));
  auto snap = store_->snapshot();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->revision, 1u);
  EXPECT_EQ(snap->services.size(), 2u);
  EXPECT_EQ(snap->endpoints.size(), 2u);

  // An endpoint of an unknown service fails the batch; the new service is not kept either.
  auto bad =
      store_->putAll({serviceWithVip("c", "10.96.0.3")}, {makeEndpoint("nope", "10.0.0.3", 80)});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("FOREIGN KEY constraint failed"), std::string::npos)
      << bad.error().message;
  auto dup_vip = store_->putAll({serviceWithVip("d", "10.96.0.1")}, {});
  ASSERT_FALSE(dup_vip);
  auto after = store_->snapshot();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->revision, 1u);
  EXPECT_EQ(after->services, snap->services);
}

TEST_F(SqliteStoreTest, ConcurrentWritersLoseNothing) {
  ASSERT_TRUE(store_->putService(serviceWithVip("web", "10.96.0.1"), true));
  auto writer = [&](int base) {
    for (int i = 0; i < 25; ++i) {
      std::string host = "10.0." + std::to_string(base) + "." + std::to_string(i + 1);
      EXPECT_TRUE(store_->putEndpoint(makeEndpoint("web", host.c_str(), 80), true));
      EXPECT_TRUE(store_->snapshot());
    }
  };
  std::thread a(writer, 1);
  std::thread b(writer, 2);
  a.join();
  b.join();

  auto list = store_->listEndpoints("default", "web");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 50u);
  EXPECT_EQ(revision(), 51u);
}

// A child process writes and leaves without closing anything, as after kill -9; whatever
// it was told had been stored must be there when the file is opened again.
void expectSurvivesAbruptExit(const std::string& path, bool kill_self) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto store = SqliteStore::open(path);
    bool ok = store && (*store)->putService(serviceWithVip("child", "10.96.0.9"), true) &&
              (*store)->putEndpoint(makeEndpoint("child", "10.0.0.9", 9090), true);
    if (ok && kill_self) {
      raise(SIGKILL);
    }
    (void)store->release();  // never closed: no checkpoint, no WAL cleanup
    _exit(ok ? 0 : 1);
  }

  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  if (kill_self) {
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  } else {
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  auto reopened = openStore(path);
  ASSERT_NE(reopened, nullptr);
  auto snap = reopened->snapshot();
  ASSERT_TRUE(snap) << snap.error().message;
  ASSERT_EQ(snap->services.size(), 2u);
  EXPECT_EQ(snap->services[0].name, "child");
  EXPECT_EQ(snap->services[1].name, "parent");
  ASSERT_EQ(snap->endpoints.size(), 1u);
  EXPECT_EQ(snap->endpoints[0].port, 9090);
}

TEST(SqliteStoreDurability, ChildExitWithoutCloseLosesNothing) {
  TempDir dir;
  std::string path = dir.file("registry.db");
  {
    auto store = openStore(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->putService(serviceWithVip("parent", "10.96.0.1"), true));
  }
  expectSurvivesAbruptExit(path, false);
}

TEST(SqliteStoreDurability, ChildKilledAfterWriteLosesNothing) {
  TempDir dir;
  std::string path = dir.file("registry.db");
  {
    auto store = openStore(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->putService(serviceWithVip("parent", "10.96.0.1"), true));
  }
  expectSurvivesAbruptExit(path, true);
}

TEST_F(SqliteStoreTest, WatchSeesChangesFromAnotherInstance) {
  std::mutex mu;
  std::vector<ChangeSet> calls;
  auto count = [&] {
    std::lock_guard lock(mu);
    return calls.size();
  };
  ASSERT_TRUE(store_->watch([&](const ChangeSet& changes) {
    std::lock_guard lock(mu);
    calls.push_back(changes);
  }));

  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count(), 0u);  // nothing changed, nothing reported

  auto other = openStore(path_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->putService(serviceWithVip("web", "10.96.0.1"), true));
  ASSERT_TRUE(waitFor([&] { return count() >= 1; }, 3000ms));
  {
    std::lock_guard lock(mu);
    EXPECT_FALSE(calls[0].everything);
    EXPECT_EQ(calls[0].services, (std::vector<ServiceRef>{{"default", "web"}}));
  }

  // Its own writes are reported at once, from the writing thread, naming the service.
  std::this_thread::sleep_for(300ms);
  size_t seen = count();
  ASSERT_TRUE(store_->putEndpoint(makeEndpoint("web", "10.0.0.1", 80), true));
  ASSERT_EQ(count(), seen + 1);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(calls.back().services, (std::vector<ServiceRef>{{"default", "web"}}));
  }
  // ... and not a second time by the poller.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count(), seen + 1);
}

TEST_F(SqliteStoreTest, WatchReportsEverythingWhenTheChangeLogWasPruned) {
  std::atomic<int> everything{0};
  ASSERT_TRUE(
      store_->watch([&](const ChangeSet& changes) { everything += changes.everything ? 1 : 0; }));
  // Another process wrote more than the log keeps between two polls: the revision moved and
  // the rows that would say what changed are gone, in one commit.
  auto db = SqliteDb::open(path_, false);
  ASSERT_TRUE(db);
  ASSERT_TRUE(
      (*db)->exec("BEGIN IMMEDIATE; UPDATE revision SET value = value + 1; "
                  "DELETE FROM changes; COMMIT"));
  EXPECT_TRUE(waitFor([&] { return everything.load() >= 1; }, 3000ms));
}

TEST_F(SqliteStoreTest, WatchCallbacksMayReadTheStore) {
  std::atomic<uint64_t> seen_revision{0};
  ASSERT_TRUE(store_->watch([&](const ChangeSet&) {
    auto snap = store_->snapshot();
    if (snap) {
      seen_revision = snap->revision;
    }
  }));
  std::atomic<int> second{0};
  ASSERT_TRUE(store_->watch([&](const ChangeSet&) { ++second; }));

  ASSERT_TRUE(store_->putService(serviceWithVip("web", "10.96.0.1"), true));
  EXPECT_TRUE(waitFor([&] { return seen_revision.load() == 1 && second.load() >= 1; }, 3000ms));
}

TEST_F(SqliteStoreTest, DestructorStopsWatchPromptly) {
  ASSERT_TRUE(store_->watch([](const ChangeSet&) {}));
  auto start = std::chrono::steady_clock::now();
  store_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

// A file holding one service, "web", closed again; for tests that edit it behind the store.
void storeWebIn(const std::string& path) {
  auto store = openStore(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->putService(serviceWithVip("web", "10.96.0.1"), true));
}

TEST(SqliteStoreSchema, NewerSchemaIsRefused) {
  TempDir dir;
  std::string path = dir.file("registry.db");
  ASSERT_NE(openStore(path), nullptr);
  rawExec(path, "UPDATE schema_version SET version = 3");

  auto store = SqliteStore::open(path);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("schema version 3 is not the version this build reads (2)"),
            std::string::npos)
      << store.error().message;
}

TEST(SqliteStoreSchema, VersionOneFileIsUpgradedKeepingItsRows) {
  TempDir dir;
  std::string path = dir.file("registry.db");
  ASSERT_NO_FATAL_FAILURE(storeWebIn(path));
  // What a version-1 build left: no change log.
  rawExec(path, "DROP TABLE changes; UPDATE schema_version SET version = 1");

  auto store = openStore(path);
  ASSERT_NE(store, nullptr);
  auto web = store->getService("default", "web");
  ASSERT_TRUE(web) << web.error().message;
  EXPECT_EQ(web->vip, ip("10.96.0.1"));
  ASSERT_TRUE(store->putEndpoint(makeEndpoint("web", "10.0.0.1", 80), true));
}

TEST(SqliteStoreSchema, UnreadableRowIsReportedNotSkipped) {
  TempDir dir;
  std::string path = dir.file("registry.db");
  ASSERT_NO_FATAL_FAILURE(storeWebIn(path));
  rawExec(path, "UPDATE services SET json = '{\"name\":\"web\",\"colour\":1}'");

  auto store = openStore(path);
  ASSERT_NE(store, nullptr);
  auto snap = store->snapshot();
  ASSERT_FALSE(snap);
  EXPECT_NE(snap.error().message.find("stored service is unreadable: colour: unknown field"),
            std::string::npos)
      << snap.error().message;
}

TEST(SqliteStoreSchema, UnopenablePathFails) {
  TempDir dir;
  std::string blocker = dir.file("file");
  rawExec(blocker, "CREATE TABLE x (y)");  // a regular file where a directory is needed
  auto store = SqliteStore::open(blocker + "/registry.db");
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("registry store " + blocker + "/registry.db"),
            std::string::npos)
      << store.error().message;
}

}  // namespace
}  // namespace weft::registry
