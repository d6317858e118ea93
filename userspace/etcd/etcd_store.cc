// SPDX-License-Identifier: Apache-2.0
// EtcdStore: registry operations as etcd transactions, snapshot paging, and the watch thread.
#include "userspace/etcd/etcd_store.h"

#include <fmt/format.h>
#include <cerrno>
#include <future>
#include <set>

#include "userspace/common/log.h"
#include "userspace/registry/model_json.h"
#include "userspace/registry/registry.h"

namespace weft::etcd {

using registry::Endpoint;
using registry::Service;
using registry::Snapshot;

namespace {

constexpr std::string_view kLog = "etcd";
// Optimistic retries when a concurrent writer changed what a txn compared against.
constexpr int kMaxTxnAttempts = 5;
// Whole-snapshot retries when etcd compacts the revision being paged through.
constexpr int kMaxSnapshotAttempts = 3;

std::string encodeService(const Service& service) {
  // kStored leaves out the revision: it is etcd's mod_revision, known only after the write.
  return registry::toJson(service, registry::JsonForm::kStored).dump();
}

std::string encodeEndpoint(const Endpoint& endpoint) {
  return registry::toJson(endpoint, registry::JsonForm::kStored).dump();
}

Result<Service> decodeService(const KeyValue& kv, const ParsedKey& key) {
  auto doc = registry::parseJson(kv.value);
  if (!doc) {
    return doc.error();
  }
  auto service = registry::serviceFromJson(*doc);
  if (!service) {
    return service.error();
  }
  if (service->ns != key.ns || service->name != key.name) {
    return makeError(fmt::format("holds service {}/{}", service->ns, service->name), EPROTO);
  }
  service->revision = static_cast<uint64_t>(kv.mod_revision);
  return service;
}

Result<Endpoint> decodeEndpoint(const KeyValue& kv, const ParsedKey& key) {
  auto doc = registry::parseJson(kv.value);
  if (!doc) {
    return doc.error();
  }
  auto endpoint = registry::endpointFromJson(*doc);
  if (!endpoint) {
    return endpoint.error();
  }
  if (endpoint->ns != key.ns || endpoint->service != key.name ||
      endpoint->id() != key.endpoint_id) {
    return makeError(
        fmt::format("holds endpoint {}/{}/{}", endpoint->ns, endpoint->service, endpoint->id()),
        EPROTO);
  }
  endpoint->revision = static_cast<uint64_t>(kv.mod_revision);
  return endpoint;
}

// The single kv of a range op in a txn response, if the key existed.
const KeyValue* onlyKv(const TxnResponse& response, size_t op_index) {
  if (op_index >= response.responses.size() || response.responses[op_index].kvs.empty()) {
    return nullptr;
  }
  return &response.responses[op_index].kvs.front();
}

Error contended(const std::string& what) {
  return makeError(
      fmt::format("{}: changed concurrently {} times in a row; try again", what, kMaxTxnAttempts),
      registry::kConflict);
}

}  // namespace

Result<std::unique_ptr<EtcdStore>> EtcdStore::open(const EtcdStoreOptions& options) {
  if (options.page_size <= 0) {
    return makeError(fmt::format("etcd page_size: {} is not positive", options.page_size), EINVAL);
  }
  if (options.min_backoff.count() <= 0 || options.max_backoff < options.min_backoff) {
    return makeError(fmt::format("etcd backoff: need 0 < min ({} ms) <= max ({} ms)",
                                 options.min_backoff.count(), options.max_backoff.count()),
                     EINVAL);
  }
  ClientOptions client_options;
  client_options.endpoints = options.endpoints;
  client_options.timeout = options.timeout;
  auto client = Client::create(client_options);
  if (!client) {
    return client.error();
  }

  std::unique_ptr<EtcdStore> store(new EtcdStore(options, std::move(*client)));
  RangeRequest probe = RangeRequest::withPrefix(store->keys_.prefix());
  probe.count_only = true;
  auto reached = store->client_->range(probe);
  if (!reached) {
    return reached.error();
  }
  log::info(kLog, "etcd store ready",
            {{"prefix", store->keys_.prefix()},
             {"keys", static_cast<long long>(reached->count)},
             {"revision", static_cast<long long>(reached->revision)}});
  return store;
}

EtcdStore::EtcdStore(const EtcdStoreOptions& options, std::unique_ptr<Client> client)
    : options_(options), keys_(options.prefix), client_(std::move(client)) {}

EtcdStore::~EtcdStore() {
  {
    std::lock_guard lock(watch_mu_);
    stopping_ = true;
    if (active_stream_ != nullptr) {
      active_stream_->close();
    }
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) {
    watcher_.join();
  }
}

Result<Service> EtcdStore::putService(const Service& service, bool create_only) {
  Status parts = StoreKeys::checkParts({{"ns", service.ns}, {"name", service.name}});
  if (!parts) {
    return parts.error();
  }
  std::string what = fmt::format("service {}/{}", service.ns, service.name);
  if (!service.vip) {
    return makeError(what + ": vip: not set (the registry allocates it)", registry::kInvalid);
  }

  std::string key = keys_.service(service.ns, service.name);
  std::string vip_key = keys_.vip(*service.vip);
  std::string owner = StoreKeys::owner(service.ns, service.name);
  std::string value = encodeService(service);

  for (int attempt = 0; attempt < kMaxTxnAttempts; ++attempt) {
    // Both keys at one revision; the write below is conditional on exactly this state.
    auto read = client_->txn(Txn{{}, {Op::range(key), Op::range(vip_key)}, {}});
    if (!read) {
      return read.error();
    }
    const KeyValue* existing = onlyKv(*read, 0);
    const KeyValue* vip_holder = onlyKv(*read, 1);
    if (existing != nullptr && create_only) {
      return makeError(what + ": already exists", registry::kConflict);
    }
    if (vip_holder != nullptr && vip_holder->value != owner) {
      return makeError(fmt::format("{}: vip {} is held by service {}", what,
                                   service.vip->toString(), vip_holder->value),
                       registry::kConflict);
    }

    Txn write;
    write.compares.push_back(existing ? Compare::modRevisionIs(key, existing->mod_revision)
                                      : Compare::absent(key));
    write.compares.push_back(vip_holder ? Compare::modRevisionIs(vip_key, vip_holder->mod_revision)
                                        : Compare::absent(vip_key));
    write.success = {Op::put(key, value), Op::put(vip_key, owner)};

    // A replaced service that moved to another VIP releases the old claim, if it held it.
    if (existing != nullptr) {
      auto old = decodeService(*existing,
                               ParsedKey{ParsedKey::Kind::kService, service.ns, service.name, {}});
      if (old.ok() && old->vip && *old->vip != *service.vip) {
        std::string old_key = keys_.vip(*old->vip);
        auto held = client_->range(RangeRequest::single(old_key));
        if (!held) {
          return held.error();
        }
        if (!held->kvs.empty() && held->kvs.front().value == owner) {
          write.compares.push_back(Compare::modRevisionIs(old_key, held->kvs.front().mod_revision));
          write.success.push_back(Op::erase(old_key));
        }
      }
    }

    auto written = client_->txn(write);
    if (!written) {
      return written.error();
    }
    if (written->succeeded) {
      Service out = service;
      out.revision = static_cast<uint64_t>(written->revision);
      return out;
    }
    // Someone changed one of the keys between the read and the write: decide again.
  }
  return contended(what);
}

Status EtcdStore::deleteService(const std::string& ns, const std::string& name) {
  Status parts = StoreKeys::checkParts({{"ns", ns}, {"name", name}});
  if (!parts) {
    return parts;
  }
  std::string what = fmt::format("service {}/{}", ns, name);
  std::string key = keys_.service(ns, name);
  std::string owner = StoreKeys::owner(ns, name);
  std::string endpoints = keys_.endpointsOf(ns, name);
  bool release_vip = true;

  for (int attempt = 0; attempt < kMaxTxnAttempts; ++attempt) {
    auto read = client_->range(RangeRequest::single(key));
    if (!read) {
      return read.error();
    }
    if (read->kvs.empty()) {
      return makeError(what + ": not found", registry::kNotFound);
    }
    const KeyValue& current = read->kvs.front();

    Txn txn;
    txn.compares.push_back(Compare::modRevisionIs(key, current.mod_revision));
    txn.success = {Op::erase(key), Op::erase(endpoints, prefixEnd(endpoints))};
    std::string vip_key;
    auto service = decodeService(current, ParsedKey{ParsedKey::Kind::kService, ns, name, {}});
    if (service.ok() && service->vip && release_vip) {
      vip_key = keys_.vip(*service->vip);
      txn.compares.push_back(Compare::valueIs(vip_key, owner));
      txn.success.push_back(Op::erase(vip_key));
    }
    txn.failure = {Op::range(key)};

    auto done = client_->txn(txn);
    if (!done) {
      return done.error();
    }
    if (done->succeeded) {
      return {};
    }
    const KeyValue* now = onlyKv(*done, 0);
    if (now == nullptr) {
      return makeError(what + ": not found", registry::kNotFound);
    }
    if (now->mod_revision == current.mod_revision && !vip_key.empty()) {
      // The service is unchanged, so the VIP claim is not its own: leave that key alone.
      log::warn(kLog, "service vip claim held by another service; not releasing it",
                {{"service", owner}, {"key", vip_key}});
      release_vip = false;
    }
  }
  return contended(what);
}

Result<Endpoint> EtcdStore::putEndpoint(const Endpoint& endpoint, bool create_only) {
  std::string id = endpoint.id();
  Status parts =
      StoreKeys::checkParts({{"ns", endpoint.ns}, {"service", endpoint.service}, {"id", id}});
  if (!parts) {
    return parts.error();
  }
  std::string service_key = keys_.service(endpoint.ns, endpoint.service);
  std::string key = keys_.endpoint(endpoint.ns, endpoint.service, id);

  Txn txn;
  txn.compares.push_back(Compare::present(service_key));
  if (create_only) {
    txn.compares.push_back(Compare::absent(key));
  }
  txn.success = {Op::put(key, encodeEndpoint(endpoint))};
  txn.failure = {Op::range(service_key), Op::range(key)};

  auto done = client_->txn(txn);
  if (!done) {
    return done.error();
  }
  if (!done->succeeded) {
    if (onlyKv(*done, 0) == nullptr) {
      return makeError(
          fmt::format("endpoint {}: service {}/{} not found", id, endpoint.ns, endpoint.service),
          registry::kNotFound);
    }
    return makeError(
        fmt::format("endpoint {}/{}/{}: already exists", endpoint.ns, endpoint.service, id),
        registry::kConflict);
  }
  Endpoint out = endpoint;
  out.revision = static_cast<uint64_t>(done->revision);
  return out;
}

Status EtcdStore::deleteEndpoint(const std::string& ns, const std::string& service,
                                 const std::string& endpoint_id) {
  Status parts = StoreKeys::checkParts({{"ns", ns}, {"service", service}, {"id", endpoint_id}});
  if (!parts) {
    return parts;
  }
  auto deleted = client_->deleteRange(keys_.endpoint(ns, service, endpoint_id));
  if (!deleted) {
    return deleted.error();
  }
  if (deleted->deleted == 0) {
    return makeError(fmt::format("endpoint {}/{}/{}: not found", ns, service, endpoint_id),
                     registry::kNotFound);
  }
  return {};
}

Result<int64_t> EtcdStore::scan(const std::string& prefix, bool keys_only,
                                const std::function<void()>& restart,
                                const std::function<void(const KeyValue&)>& each) {
  Error last = makeError("no attempt made", ERANGE);
  for (int attempt = 0; attempt < kMaxSnapshotAttempts; ++attempt) {
    restart();
    RangeRequest page = RangeRequest::withPrefix(prefix);
    page.limit = options_.page_size;
    page.keys_only = keys_only;

    auto got = client_->range(page);
    while (true) {
      if (!got) {
        last = got.error();
        break;
      }
      // Later pages read at the first page's revision, so the scan sees one moment.
      if (page.revision == 0) {
        page.revision = got->revision;
      }
      bool more = got->more && !got->kvs.empty();
      // The next page is fetched while this one is decoded: etcd encodes, we decode, at once.
      std::future<Result<RangeResponse>> next;
      if (more) {
        page.key = got->kvs.back().key + '\0';
        next = std::async(std::launch::async, [this, page] { return client_->range(page); });
      }
      for (const KeyValue& kv : got->kvs) {
        each(kv);
      }
      if (!more) {
        return page.revision;
      }
      got = next.get();
    }

    // Compaction passed the pinned revision between two pages: start over. Anything else
    // is the caller's error.
    if (last.code != ERANGE || page.revision == 0) {
      return last;
    }
  }
  return last;
}

Result<Snapshot> EtcdStore::snapshot() {
  Snapshot out;
  auto revision = scan(
      keys_.prefix(), false, [&] { out = Snapshot(); },
      [&](const KeyValue& kv) {
        ParsedKey key = keys_.parse(kv.key);
        if (key.kind == ParsedKey::Kind::kService) {
          auto service = decodeService(kv, key);
          if (service.ok()) {
            out.services.push_back(std::move(*service));
          } else {
            log::warn(kLog, "skipping undecodable service",
                      {{"key", kv.key}, {"error", service.error().message}});
          }
        } else if (key.kind == ParsedKey::Kind::kEndpoint) {
          auto endpoint = decodeEndpoint(kv, key);
          if (endpoint.ok()) {
            out.endpoints.push_back(std::move(*endpoint));
          } else {
            log::warn(kLog, "skipping undecodable endpoint",
                      {{"key", kv.key}, {"error", endpoint.error().message}});
          }
        }
      });
  if (!revision) {
    return revision.error();
  }
  out.revision = static_cast<uint64_t>(*revision);
  snapshot_revision_.store(*revision);
  return out;
}

Result<std::vector<Service>> EtcdStore::listServices() {
  std::vector<Service> out;
  auto revision = scan(
      keys_.services(), false, [&] { out.clear(); },
      [&](const KeyValue& kv) {
        ParsedKey key = keys_.parse(kv.key);
        if (key.kind != ParsedKey::Kind::kService) {
          return;
        }
        auto service = decodeService(kv, key);
        if (service.ok()) {
          out.push_back(std::move(*service));
        } else {
          log::warn(kLog, "skipping undecodable service",
                    {{"key", kv.key}, {"error", service.error().message}});
        }
      });
  if (!revision) {
    return revision.error();
  }
  return out;
}

Result<Service> EtcdStore::getService(const std::string& ns, const std::string& name) {
  Status parts = StoreKeys::checkParts({{"ns", ns}, {"name", name}});
  if (!parts) {
    return parts.error();
  }
  auto got = client_->range(RangeRequest::single(keys_.service(ns, name)));
  if (!got) {
    return got.error();
  }
  if (got->kvs.empty()) {
    return makeError(fmt::format("service {}/{}: not found", ns, name), registry::kNotFound);
  }
  auto service = decodeService(got->kvs.front(), keys_.parse(got->kvs.front().key));
  if (!service) {
    return makeError(
        fmt::format("service {}/{}: stored value: {}", ns, name, service.error().message), EPROTO);
  }
  return service;
}

Result<Endpoint> EtcdStore::getEndpoint(const std::string& ns, const std::string& service,
                                        const std::string& endpoint_id) {
  Status parts = StoreKeys::checkParts({{"ns", ns}, {"service", service}, {"id", endpoint_id}});
  if (!parts) {
    return parts.error();
  }
  auto got = client_->range(RangeRequest::single(keys_.endpoint(ns, service, endpoint_id)));
  if (!got) {
    return got.error();
  }
  if (got->kvs.empty()) {
    return makeError(fmt::format("endpoint {}/{}/{}: not found", ns, service, endpoint_id),
                     registry::kNotFound);
  }
  auto endpoint = decodeEndpoint(got->kvs.front(), keys_.parse(got->kvs.front().key));
  if (!endpoint) {
    return makeError(fmt::format("endpoint {}/{}/{}: stored value: {}", ns, service, endpoint_id,
                                 endpoint.error().message),
                     EPROTO);
  }
  return endpoint;
}

Result<std::vector<Endpoint>> EtcdStore::listEndpoints(const std::string& ns,
                                                       const std::string& service) {
  Status parts = StoreKeys::checkParts({{"ns", ns}, {"service", service}});
  if (!parts) {
    return parts.error();
  }
  std::vector<Endpoint> out;
  auto revision = scan(
      keys_.endpointsOf(ns, service), false, [&] { out.clear(); },
      [&](const KeyValue& kv) {
        auto endpoint = decodeEndpoint(kv, keys_.parse(kv.key));
        if (endpoint.ok()) {
          out.push_back(std::move(*endpoint));
        } else {
          log::warn(kLog, "skipping undecodable endpoint",
                    {{"key", kv.key}, {"error", endpoint.error().message}});
        }
      });
  if (!revision) {
    return revision.error();
  }
  return out;
}

Result<std::vector<IpAddr>> EtcdStore::usedVips() {
  std::vector<IpAddr> out;
  std::string vips = keys_.prefix() + "vips/";
  auto revision = scan(
      vips, true, [&] { out.clear(); },
      [&](const KeyValue& kv) {
        ParsedKey key = keys_.parse(kv.key);
        auto vip = IpAddr::parse(key.name);
        if (key.kind == ParsedKey::Kind::kVip && vip.ok()) {
          out.push_back(*vip);
        } else {
          log::warn(kLog, "skipping malformed vip key", {{"key", kv.key}});
        }
      });
  if (!revision) {
    return revision.error();
  }
  return out;
}

registry::ChangeSet EtcdStore::changesOf(const WatchBatch& batch) const {
  std::set<registry::ServiceRef> services;
  for (const WatchEvent& event : batch.events) {
    ParsedKey parsed = keys_.parse(event.kv.key);
    if (parsed.kind == ParsedKey::Kind::kService || parsed.kind == ParsedKey::Kind::kEndpoint) {
      services.insert({parsed.ns, parsed.name});
    }
  }
  registry::ChangeSet changes;
  changes.services.assign(services.begin(), services.end());
  return changes;
}

Status EtcdStore::watch(ChangeCallback on_change) {
  if (!on_change) {
    return makeError("etcd watch: on_change is empty", EINVAL);
  }
  std::lock_guard lock(watch_mu_);
  if (watcher_.joinable()) {
    return makeError("etcd watch: already watching " + keys_.prefix(), EBUSY);
  }
  int64_t from = snapshot_revision_.load();
  watcher_ = std::thread(
      [this, cb = std::move(on_change), from] { watchLoop(cb, from > 0 ? from + 1 : 0); });
  return {};
}

bool EtcdStore::backoff(std::chrono::milliseconds* delay) {
  std::unique_lock lock(watch_mu_);
  bool stopped = watch_cv_.wait_for(lock, *delay, [this] { return stopping_; });
  *delay = std::min(*delay * 2, options_.max_backoff);
  return !stopped;
}

void EtcdStore::watchLoop(ChangeCallback on_change, int64_t start_revision) {
  const std::string& prefix = keys_.prefix();
  const std::string end = prefixEnd(prefix);
  std::chrono::milliseconds delay = options_.min_backoff;
  int64_t from = start_revision;
  bool resync = false;  // changes may have been missed: tell the caller once reconnected
  bool outage = false;  // warn once per outage, not on every retry

  while (true) {
    WatchStream stream;
    {
      std::lock_guard lock(watch_mu_);
      if (stopping_) {
        return;
      }
      active_stream_ = &stream;
    }

    Status started = client_->watch(stream, prefix, end, from);
    Status ended;
    if (started.ok()) {
      watch_connects_.fetch_add(1);
      delay = options_.min_backoff;
      if (outage) {
        log::info(kLog, "watch reconnected", {{"prefix", prefix}});
      }
      outage = false;
      if (resync) {
        on_change(registry::ChangeSet{.everything = true, .services = {}});
        resync = false;
      }
      while (true) {
        auto batch = stream.next();
        if (!batch) {
          ended = batch.error();
          break;
        }
        if (auto changes = changesOf(*batch); !changes.services.empty()) {
          on_change(changes);
        }
      }
    } else {
      ended = started;
    }

    {
      std::lock_guard lock(watch_mu_);
      active_stream_ = nullptr;
      if (stopping_) {
        return;
      }
    }
    if (!outage) {
      log::warn(kLog, "watch lost; reconnecting",
                {{"prefix", prefix}, {"error", ended.error().message}});
    } else {
      log::debug(kLog, "watch reconnect failed", {{"error", ended.error().message}});
    }
    outage = true;
    // Restart from "now" and let the caller resync: simpler than resuming, and immune to
    // compaction of the revisions missed while disconnected.
    resync = true;
    from = 0;
    if (!backoff(&delay)) {
      return;
    }
  }
}

}  // namespace weft::etcd
