// SPDX-License-Identifier: Apache-2.0
// EtcdStore against a real etcd on loopback: CRUD, atomic create and VIP claims across two
// stores, cascade delete, unknown services, and the watch (also across an etcd restart).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "tests/e2e/etcd_server.h"
#include "userspace/etcd/etcd_client.h"
#include "userspace/etcd/etcd_store.h"
#include "userspace/registry/registry.h"

namespace weft::e2e {
namespace {

using etcd::EtcdStore;
using etcd::EtcdStoreOptions;
using registry::Endpoint;
using registry::Service;
using registry::Snapshot;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kWatchBound(2000);

IpAddr ip(const std::string& text) {
  auto parsed = IpAddr::parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : IpAddr{};
}

Service service(const std::string& name, const std::string& vip) {
  Service s;
  s.name = name;
  s.ports = {{"http", 80, WEFT_PROTO_TCP}};
  s.labels = {{"team", "mesh"}};
  s.vip = ip(vip);
  return s;
}

Endpoint endpoint(const std::string& svc, const std::string& host, uint16_t port) {
  Endpoint e;
  e.service = svc;
  e.host = ip(host);
  e.port = port;
  e.version = "v1";
  e.zone = "a";
  e.health.kind = registry::HealthCheckKind::kHttp;
  e.health.http_path = "/healthz";
  return e;
}

// Counts on_change calls and lets a test wait for the next one.
class ChangeCounter {
 public:
  registry::Store::ChangeCallback callback() {
    return [this](const registry::ChangeSet& changes) {
      std::lock_guard lock(mu_);
      ++count_;
      last_ = changes;
      cv_.notify_all();
    };
  }
  registry::ChangeSet last() {
    std::lock_guard lock(mu_);
    return last_;
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }
  bool waitAbove(int seen, milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ > seen; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
  registry::ChangeSet last_;
};

std::unique_ptr<etcd::Client> rawClient(const std::string& url) {
  etcd::ClientOptions options;
  options.endpoints = {url};
  options.timeout = milliseconds(2000);
  auto client = etcd::Client::create(options);
  EXPECT_TRUE(client.ok());
  return client.ok() ? std::move(*client) : nullptr;
}

bool hasService(const Snapshot& snap, const std::string& name) {
  for (const Service& s : snap.services) {
    if (s.name == name) {
      return true;
    }
  }
  return false;
}

// One etcd for the suite (start-up dominates the run time); each test has its own prefix.
class EtcdStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new EtcdServer();
    if (!server_->start(&start_error_)) {
      delete server_;
      server_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << start_error_;
    prefix_ = "/weft-test-" + std::to_string(++test_count_) + "/";
  }

  EtcdStoreOptions options() const {
    EtcdStoreOptions out;
    out.endpoints = {server_->clientUrl()};
    out.prefix = prefix_;
    out.timeout = milliseconds(2000);
    out.min_backoff = milliseconds(50);
    out.max_backoff = milliseconds(400);
    return out;
  }

  std::unique_ptr<EtcdStore> openStore() {
    auto store = EtcdStore::open(options());
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Raw keys under the test prefix, to check what the store left behind.
  std::vector<std::string> rawKeys(const std::string& under) {
    auto client = rawClient(server_->clientUrl());
    std::string from = prefix_ + under;
    auto got = client->range(etcd::RangeRequest::withPrefix(from));
    EXPECT_TRUE(got.ok()) << (got.ok() ? "" : got.error().message);
    std::vector<std::string> keys;
    if (got.ok()) {
      for (const auto& kv : got->kvs) {
        keys.push_back(kv.key.substr(prefix_.size()));
      }
    }
    return keys;
  }

  static EtcdServer* server_;
  static std::string start_error_;
  static int test_count_;
  std::string prefix_;
};

EtcdServer* EtcdStoreTest::server_ = nullptr;
std::string EtcdStoreTest::start_error_;
int EtcdStoreTest::test_count_ = 0;

TEST_F(EtcdStoreTest, CrudRoundTrip) {
  auto store = openStore();
  ASSERT_TRUE(store);

  auto put = store->putService(service("web", "10.96.0.10"), true);
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_GT(put->revision, 0u);
  auto ep = store->putEndpoint(endpoint("web", "127.0.0.1", 8081), true);
  ASSERT_TRUE(ep.ok()) << ep.error().message;
  auto ep6 = store->putEndpoint(endpoint("web", "::1", 8082), true);
  ASSERT_TRUE(ep6.ok()) << ep6.error().message;

  auto snap = store->snapshot();
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  ASSERT_EQ(snap->services.size(), 1u);
  EXPECT_EQ(snap->services[0], *put);
  ASSERT_EQ(snap->endpoints.size(), 2u);
  EXPECT_EQ(snap->endpoints[0], *ep);
  EXPECT_EQ(snap->endpoints[1], *ep6);
  EXPECT_GE(snap->revision, ep6->revision);

  // Replace: new labels, same VIP; the revision moves on.
  Service changed = service("web", "10.96.0.10");
  changed.labels = {{"team", "edge"}};
  auto replaced = store->putService(changed, false);
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_GT(replaced->revision, put->revision);
  snap = store->snapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->services.size(), 1u);
  EXPECT_EQ(snap->services[0].labels, changed.labels);

  ASSERT_TRUE(store->deleteEndpoint("default", "web", "127.0.0.1:8081").ok());
  Status again = store->deleteEndpoint("default", "web", "127.0.0.1:8081");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, registry::kNotFound);
  EXPECT_NE(again.error().message.find("127.0.0.1:8081"), std::string::npos);

  ASSERT_TRUE(store->deleteService("default", "web").ok());
  Status gone = store->deleteService("default", "web");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, registry::kNotFound);
  EXPECT_TRUE(rawKeys("").empty());
}

TEST_F(EtcdStoreTest, KeyedReads) {
  auto store = openStore();
  ASSERT_TRUE(store);
  auto web = store->putService(service("web", "10.96.0.10"), true);
  ASSERT_TRUE(web.ok());
  ASSERT_TRUE(store->putService(service("web2", "fd00:96::2"), true).ok());
  auto ep = store->putEndpoint(endpoint("web", "127.0.0.1", 8081), true);
  ASSERT_TRUE(ep.ok());
  ASSERT_TRUE(store->putEndpoint(endpoint("web2", "127.0.0.1", 9000), true).ok());

  auto got = store->getService("default", "web");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, *web);
  auto missing = store->getService("default", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, registry::kNotFound);

  auto got_ep = store->getEndpoint("default", "web", "127.0.0.1:8081");
  ASSERT_TRUE(got_ep.ok()) << got_ep.error().message;
  EXPECT_EQ(*got_ep, *ep);
  EXPECT_EQ(store->getEndpoint("default", "web", "127.0.0.1:1").error().code, registry::kNotFound);

  auto listed = store->listEndpoints("default", "web");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front(), *ep);
  auto none = store->listEndpoints("default", "nope");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto vips = store->usedVips();
  ASSERT_TRUE(vips.ok());
  EXPECT_EQ(*vips, (std::vector<IpAddr>{ip("10.96.0.10"), ip("fd00:96::2")}));
}

TEST_F(EtcdStoreTest, VipMoveReleasesTheOldClaim) {
  auto store = openStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->putService(service("web", "10.96.0.10"), true).ok());
  ASSERT_TRUE(store->putService(service("web", "10.96.0.11"), false).ok());
  EXPECT_EQ(rawKeys("vips/"), std::vector<std::string>{"vips/10.96.0.11"});
  EXPECT_TRUE(store->putService(service("api", "10.96.0.10"), true).ok());
}

TEST_F(EtcdStoreTest, CreateOnlyConflictLeavesDataUntouched) {
  auto store = openStore();
  ASSERT_TRUE(store);
  auto first = store->putService(service("web", "10.96.0.10"), true);
  ASSERT_TRUE(first.ok());

  Service other = service("web", "10.96.0.20");
  other.labels = {{"team", "other"}};
  auto second = store->putService(other, true);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, registry::kConflict);
  EXPECT_NE(second.error().message.find("default/web"), std::string::npos);

  auto snap = store->snapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->services.size(), 1u);
  EXPECT_EQ(snap->services[0], *first);
  EXPECT_EQ(rawKeys("vips/"), std::vector<std::string>{"vips/10.96.0.10"});
}

TEST_F(EtcdStoreTest, VipIsUniqueAcrossTwoStores) {
  auto host_a = openStore();
  auto host_b = openStore();
  ASSERT_TRUE(host_a && host_b);

  ASSERT_TRUE(host_a->putService(service("a", "10.96.0.10"), true).ok());
  auto taken = host_b->putService(service("b", "10.96.0.10"), true);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, registry::kConflict);
  EXPECT_NE(taken.error().message.find("held by service default/a"), std::string::npos)
      << taken.error().message;

  // Racing claims: each round exactly one of the two hosts gets the VIP.
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    std::string vip = "10.96.1." + std::to_string(round + 1);
    std::atomic<int> wins{0};
    auto claim = [&](EtcdStore* store, const std::string& name) {
      auto put = store->putService(service(name, vip), true);
      if (put.ok()) {
        ++wins;
      } else {
        EXPECT_EQ(put.error().code, registry::kConflict) << put.error().message;
      }
    };
    std::thread ta(claim, host_a.get(), "ra" + std::to_string(round));
    std::thread tb(claim, host_b.get(), "rb" + std::to_string(round));
    ta.join();
    tb.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
  }
  auto snap = host_b->snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->services.size(), 1u + kRounds);
  EXPECT_EQ(rawKeys("vips/").size(), 1u + kRounds);
}

TEST_F(EtcdStoreTest, DeleteServiceCascades) {
  auto store = openStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->putService(service("web", "10.96.0.10"), true).ok());
  // "web2" shares the prefix "web" and must survive.
  ASSERT_TRUE(store->putService(service("web2", "10.96.0.11"), true).ok());
  for (uint16_t port = 8081; port <= 8083; ++port) {
    ASSERT_TRUE(store->putEndpoint(endpoint("web", "127.0.0.1", port), true).ok());
  }
  ASSERT_TRUE(store->putEndpoint(endpoint("web2", "127.0.0.1", 9000), true).ok());

  ASSERT_TRUE(store->deleteService("default", "web").ok());
  EXPECT_EQ(rawKeys(""), (std::vector<std::string>{"endpoints/default/web2/127.0.0.1:9000",
                                                   "services/default/web2", "vips/10.96.0.11"}));

  // The VIP is free again.
  EXPECT_TRUE(store->putService(service("api", "10.96.0.10"), true).ok());
}

TEST_F(EtcdStoreTest, EndpointNeedsItsService) {
  auto store = openStore();
  ASSERT_TRUE(store);
  auto orphan = store->putEndpoint(endpoint("nope", "127.0.0.1", 8081), false);
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code, registry::kNotFound);
  EXPECT_NE(orphan.error().message.find("default/nope"), std::string::npos);
  EXPECT_TRUE(rawKeys("").empty());

  ASSERT_TRUE(store->putService(service("web", "10.96.0.10"), true).ok());
  ASSERT_TRUE(store->putEndpoint(endpoint("web", "127.0.0.1", 8081), true).ok());
  auto duplicate = store->putEndpoint(endpoint("web", "127.0.0.1", 8081), true);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, registry::kConflict);
  // Without create_only the same endpoint is replaced.
  Endpoint heavier = endpoint("web", "127.0.0.1", 8081);
  heavier.weight = 500;
  ASSERT_TRUE(store->putEndpoint(heavier, false).ok());
  auto snap = store->snapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->endpoints.size(), 1u);
  EXPECT_EQ(snap->endpoints[0].weight, 500u);
}

TEST_F(EtcdStoreTest, SnapshotPagesAtOneRevisionAndSkipsJunk) {
  EtcdStoreOptions opts = options();
  opts.page_size = 3;
  auto opened = EtcdStore::open(opts);
  ASSERT_TRUE(opened.ok());
  auto& store = *opened;
  for (int i = 0; i < 5; ++i) {
    auto name = "s" + std::to_string(i);
    ASSERT_TRUE(store->putService(service(name, "10.96.0." + std::to_string(10 + i)), true).ok());
    ASSERT_TRUE(store->putEndpoint(endpoint(name, "127.0.0.1", 8080), true).ok());
  }
  auto client = rawClient(server_->clientUrl());
  ASSERT_TRUE(client->put(prefix_ + "services/default/junk", "{not json").ok());

  auto snap = store->snapshot();
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_EQ(snap->services.size(), 5u);
  EXPECT_EQ(snap->endpoints.size(), 5u);
}

TEST_F(EtcdStoreTest, WatchSeesAChangeFromAnotherStore) {
  // Before the stores: their watch threads call into them until they are destroyed.
  ChangeCounter late_changes;
  ChangeCounter changes;
  auto watcher = openStore();
  auto writer = openStore();
  ASSERT_TRUE(watcher && writer);
  ASSERT_TRUE(watcher->snapshot().ok());

  ASSERT_TRUE(watcher->watch(changes.callback()).ok());
  Status twice = watcher->watch(changes.callback());
  EXPECT_FALSE(twice.ok());

  int seen = changes.count();
  auto start = Clock::now();
  ASSERT_TRUE(writer->putService(service("web", "10.96.0.10"), true).ok());
  ASSERT_TRUE(changes.waitAbove(seen, kWatchBound)) << "no on_change within 2 s";
  auto latency = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_LT(latency, kWatchBound);
  // The change names the service it touched.
  EXPECT_FALSE(changes.last().everything);
  EXPECT_EQ(changes.last().services, (std::vector<registry::ServiceRef>{{"default", "web"}}));

  auto snap = watcher->snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE(hasService(*snap, "web"));

  // A change between a snapshot and the watch start is not lost: the watch starts at the
  // snapshot revision.
  auto late = openStore();
  ASSERT_TRUE(late);
  ASSERT_TRUE(late->snapshot().ok());
  ASSERT_TRUE(writer->putService(service("api", "10.96.0.11"), true).ok());
  ASSERT_TRUE(late->watch(late_changes.callback()).ok());
  EXPECT_TRUE(late_changes.waitAbove(0, kWatchBound));
}

TEST_F(EtcdStoreTest, DestructorStopsTheWatchPromptly) {
  // Before the stores: their watch threads call into it until they are destroyed.
  ChangeCounter changes;
  auto store = openStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->watch(changes.callback()).ok());
  auto deadline = Clock::now() + kWatchBound;
  while (store->watchConnects() == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(store->watchConnects(), 1u);
  auto start = Clock::now();
  store.reset();
  EXPECT_LT(Clock::now() - start, milliseconds(500));
}

TEST(EtcdStoreOpen, FailsClearlyWhenEtcdIsNotThere) {
  EtcdServer unused;  // reserves a port nobody listens on
  EtcdStoreOptions options;
  options.endpoints = {unused.clientUrl()};
  options.timeout = milliseconds(1000);
  auto start = Clock::now();
  auto store = EtcdStore::open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_LT(Clock::now() - start, milliseconds(1500));
  EXPECT_NE(store.error().message.find(unused.clientUrl()), std::string::npos)
      << store.error().message;

  options.endpoints = {"https://127.0.0.1:2379"};
  auto tls = EtcdStore::open(options);
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.error().message.find("https://127.0.0.1:2379"), std::string::npos);
}

// Its own etcd: the test kills it.
TEST(EtcdStoreRestart, WatchReconnectsAfterEtcdRestart) {
  // Before the stores: their watch threads call into it until they are destroyed.
  ChangeCounter changes;
  EtcdServer server;
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;

  EtcdStoreOptions options;
  options.endpoints = {server.clientUrl()};
  options.timeout = milliseconds(1000);
  options.min_backoff = milliseconds(50);
  options.max_backoff = milliseconds(300);
  auto watcher = EtcdStore::open(options);
  ASSERT_TRUE(watcher.ok()) << watcher.error().message;
  ASSERT_TRUE((*watcher)->watch(changes.callback()).ok());
  auto deadline = Clock::now() + kWatchBound;
  while ((*watcher)->watchConnects() == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ((*watcher)->watchConnects(), 1u);

  server.kill();
  // Let the watcher notice and fail at least one reconnect while etcd is down.
  std::this_thread::sleep_for(milliseconds(300));
  int before_restart = changes.count();
  ASSERT_TRUE(server.start(&error)) << error;

  // Reconnecting fires on_change so the caller resyncs what it may have missed.
  ASSERT_TRUE(changes.waitAbove(before_restart, milliseconds(5000))) << "no resync after restart";
  EXPECT_TRUE(changes.last().everything);
  EXPECT_GE((*watcher)->watchConnects(), 2u);

  auto writer = EtcdStore::open(options);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  int seen = changes.count();
  ASSERT_TRUE((*writer)->putService(service("web", "10.96.0.10"), true).ok());
  EXPECT_TRUE(changes.waitAbove(seen, kWatchBound)) << "no on_change after reconnect";

  // The store that was connected before the restart writes at once: its stale keep-alive
  // connections are dropped, not each tried in turn.
  auto put = (*watcher)->putService(service("api", "10.96.0.11"), true);
  EXPECT_TRUE(put.ok()) << put.error().message;
}

}  // namespace
}  // namespace weft::e2e
