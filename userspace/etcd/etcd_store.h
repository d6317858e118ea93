// SPDX-License-Identifier: Apache-2.0
// The registry Store on etcd v3, for several hosts sharing one registry. Talks to etcd
// through its JSON gateway (see the design note in etcd_client.h for why and the limits).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "userspace/etcd/etcd_client.h"
#include "userspace/etcd/store_keys.h"
#include "userspace/registry/store.h"

namespace weft::etcd {

struct EtcdStoreOptions {
  std::vector<std::string> endpoints{"http://127.0.0.1:2379"};
  std::string prefix = "/weft/";
  std::chrono::milliseconds timeout{5000};  // per etcd call
  // Reconnect backoff of the watch: doubles from min to max while etcd stays unreachable.
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{3000};
  int64_t page_size = 5000;  // keys per range request of snapshot()
};

// Layout under the prefix: see store_keys.h. Atomicity comes from etcd transactions:
// - putService writes the service and its VIP claim in one txn whose compares pin what it
//   read (create_revision == 0 for keys that must not exist, mod_revision for keys it
//   replaces), so a create_only put and a VIP claim cannot both succeed on two hosts.
// - deleteService removes the service, its VIP claim and all its endpoints in one txn.
// - putEndpoint requires the service key to exist in the same txn that writes the endpoint.
// A txn whose compares fail because of a concurrent writer is retried a few times from a
// fresh read. Revisions returned are etcd's mod_revision of the written keys.
// Thread-safe. The watch runs on a thread owned by the store.
class EtcdStore final : public registry::Store {
 public:
  // Checks the options and reads once from etcd, so a wrong address fails at start-up.
  static Result<std::unique_ptr<EtcdStore>> open(const EtcdStoreOptions& options);
  // Stops the watch thread: closes its socket and joins it.
  ~EtcdStore() override;

  Result<registry::Service> putService(const registry::Service& service, bool create_only) override;
  Status deleteService(const std::string& ns, const std::string& name) override;
  Result<registry::Endpoint> putEndpoint(const registry::Endpoint& endpoint,
                                         bool create_only) override;
  Status deleteEndpoint(const std::string& ns, const std::string& service,
                        const std::string& endpoint_id) override;
  // Reads the whole prefix at one revision, in pages of `page_size` keys. Values that do not
  // decode are skipped with a warning naming the key.
  Result<registry::Snapshot> snapshot() override;

  // Keyed reads straight from etcd (the Store defaults would read the whole snapshot).
  Result<registry::Service> getService(const std::string& ns, const std::string& name) override;
  Result<registry::Endpoint> getEndpoint(const std::string& ns, const std::string& service,
                                         const std::string& endpoint_id) override;
  Result<std::vector<registry::Service>> listServices() override;
  Result<std::vector<registry::Endpoint>> listEndpoints(const std::string& ns,
                                                        const std::string& service) override;
  Result<std::vector<IpAddr>> usedVips() override;

  // Writes in transactions of up to 60 services or 120 endpoints, each all or nothing; the
  // whole call is not atomic (a failure leaves the batches before it written). A batch that
  // meets a concurrent change or a moved VIP falls back to the single puts.
  Status putAll(const std::vector<registry::Service>& services,
                const std::vector<registry::Endpoint>& endpoints) override;

  // Watches the prefix from the revision of the last snapshot() (or from now when there was
  // none). `on_change` runs on the watch thread after each batch of changes, naming the
  // services touched, and with `everything` after every reconnect (the caller cannot know what
  // it missed, so it resyncs). While etcd is
  // unreachable the thread retries with a backoff between min_backoff and max_backoff.
  // Once per store: a second call fails with EBUSY.
  Status watch(ChangeCallback on_change) override;

  // How often the watch stream was (re)established; for tests and status output.
  uint64_t watchConnects() const { return watch_connects_.load(); }
  const std::string& prefix() const { return keys_.prefix(); }

 private:
  EtcdStore(const EtcdStoreOptions& options, std::unique_ptr<Client> client);

  // Reads every key under `prefix` in pages at one revision and hands each to `each`; when
  // compaction overtakes the paging it calls `restart` and starts again (bounded). Returns
  // the revision read.
  Result<int64_t> scan(const std::string& prefix, bool keys_only,
                       const std::function<void()>& restart,
                       const std::function<void(const KeyValue&)>& each);
  void watchLoop(ChangeCallback on_change, int64_t start_revision);
  Status putServiceBatch(const registry::Service* first, size_t count);
  Status putEndpointBatch(const registry::Endpoint* first, size_t count);
  // The services a batch of events touched; a VIP claim names its owner's service key.
  registry::ChangeSet changesOf(const WatchBatch& batch) const;
  // Sleeps for the current backoff unless stopped; doubles the backoff. False when stopping.
  bool backoff(std::chrono::milliseconds* delay);

  const EtcdStoreOptions options_;
  const StoreKeys keys_;
  std::unique_ptr<Client> client_;
  std::atomic<int64_t> snapshot_revision_{0};
  std::atomic<uint64_t> watch_connects_{0};

  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool stopping_ = false;                 // guarded by watch_mu_
  WatchStream* active_stream_ = nullptr;  // guarded by watch_mu_; owned by the watch thread
  std::thread watcher_;
};

}  // namespace weft::etcd
