// SPDX-License-Identifier: Apache-2.0
// Registry and health state to BPF maps, a full load at start and per service afterwards.
#include "userspace/agent/registry_sync.h"

#include <boost/asio/post.hpp>
#include <chrono>
#include <iterator>

#include "userspace/common/log.h"
#include "userspace/controller/map_encoding.h"

namespace weft {
namespace {

// TTLs are whole seconds; checking each second bounds how long an expired endpoint lingers.
constexpr auto kExpiryTick = std::chrono::seconds(1);

int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double elapsedMs(std::chrono::steady_clock::time_point start) {
  auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration<double, std::milli>(elapsed).count();
}

bool hasTtl(const registry::RegistryCache::Entry& entry) {
  for (const registry::Endpoint& endpoint : entry.endpoints) {
    if (endpoint.ttl_seconds > 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

RegistrySync::RegistrySync(boost::asio::io_context& io, registry::Registry& registry,
                           Controller& controller, const registry::HealthView& health)
    : io_(io), registry_(registry), controller_(controller), health_(health), expiry_timer_(io) {}

Status RegistrySync::syncNow(const char* trigger) {
  auto st = syncAll(trigger);
  failed_ = !st;
  return st;
}

Status RegistrySync::syncAll(const char* trigger) {
  auto start = std::chrono::steady_clock::now();
  auto delta = cache_.load(registry_);
  if (!delta) {
    return delta.error();
  }
  int64_t now = wallClockMs();
  std::vector<ServiceConfig> services;
  produced_.clear();
  ttl_services_.clear();
  for (const auto& [ref, entry] : cache_.entries()) {
    auto configs = configsOf(ref, now);
    remember(ref, configs);
    std::move(configs.begin(), configs.end(), std::back_inserter(services));
  }
  auto summary = controller_.apply(services);
  if (!summary) {
    return summary.error();
  }
  // Full syncs are rare (start, reload, reconnect, retry) and their cost grows with the
  // registry, so each one is logged with its duration.
  log::info("sync", "full sync done",
            {{"trigger", trigger},
             {"services", cache_.entries().size()},
             {"endpoints", cache_.endpointCount()},
             {"map_services", services.size()},
             {"map_writes", summary->map_writes},
             {"duration_ms", elapsedMs(start)}});
  if (listener_) {
    listener_(cache_, *delta);
  }
  return {};
}

Status RegistrySync::syncServices(const std::set<registry::ServiceRef>& reread,
                                  const std::set<registry::ServiceRef>& reevaluate,
                                  const char* trigger) {
  auto start = std::chrono::steady_clock::now();
  auto delta = cache_.refresh(registry_, {reread.begin(), reread.end()});
  if (!delta) {
    return delta.error();
  }
  std::set<registry::ServiceRef> services = reread;
  services.insert(reevaluate.begin(), reevaluate.end());
  int64_t now = wallClockMs();
  std::vector<ServiceConfig> upserts;
  std::vector<weft_svc_key> removals;
  for (const registry::ServiceRef& ref : services) {
    if (auto it = produced_.find(ref); it != produced_.end()) {
      removals.insert(removals.end(), it->second.begin(), it->second.end());
    }
    auto configs = configsOf(ref, now);
    remember(ref, configs);
    std::move(configs.begin(), configs.end(), std::back_inserter(upserts));
  }
  auto summary = controller_.applyChanges(upserts, removals);
  if (!summary) {
    return summary.error();
  }
  logApplied(trigger, *summary, upserts.size(), elapsedMs(start));
  if (listener_ && (delta->services_changed || delta->checks_changed)) {
    listener_(cache_, *delta);
  }
  return {};
}

std::vector<ServiceConfig> RegistrySync::configsOf(const registry::ServiceRef& ref,
                                                   int64_t now_ms) const {
  const registry::RegistryCache::Entry* entry = cache_.find(ref);
  if (entry == nullptr) {
    return {};
  }
  return registry::toServiceConfigs(entry->service, entry->endpoints, health_, now_ms);
}

void RegistrySync::remember(const registry::ServiceRef& ref,
                            const std::vector<ServiceConfig>& configs) {
  const registry::RegistryCache::Entry* entry = cache_.find(ref);
  if (entry != nullptr && hasTtl(*entry)) {
    ttl_services_.insert(ref);
  } else {
    ttl_services_.erase(ref);
  }
  if (configs.empty()) {
    produced_.erase(ref);
    return;
  }
  std::vector<weft_svc_key>& keys = produced_[ref];
  keys.clear();
  for (const ServiceConfig& config : configs) {
    keys.push_back(encodeServiceKey(config));
  }
}

void RegistrySync::logApplied(const char* trigger, const ApplySummary& summary, size_t services,
                              double duration_ms) const {
  if (summary.map_writes == 0) {
    return;
  }
  log::info("sync", "maps updated",
            {{"trigger", trigger},
             {"services", services},
             {"services_added", summary.services_added},
             {"services_removed", summary.services_removed},
             {"services_changed", summary.services_changed},
             {"backends_added", summary.backends_added},
             {"backends_removed", summary.backends_removed},
             {"map_writes", summary.map_writes},
             {"duration_ms", duration_ms}});
}

void RegistrySync::request(const char* trigger) {
  std::lock_guard lock(pending_mutex_);
  pending_.everything = true;
  pending_.trigger = trigger;
  schedule();
}

void RegistrySync::requestServices(const std::vector<registry::ServiceRef>& services,
                                   const char* trigger) {
  std::lock_guard lock(pending_mutex_);
  pending_.reread.insert(services.begin(), services.end());
  pending_.trigger = trigger;
  schedule();
}

void RegistrySync::requestReevaluate(const registry::ServiceRef& service, const char* trigger) {
  std::lock_guard lock(pending_mutex_);
  pending_.reevaluate.insert(service);
  pending_.trigger = trigger;
  schedule();
}

void RegistrySync::requestChanges(const registry::ChangeSet& changes, const char* trigger) {
  if (changes.everything) {
    request(trigger);
  } else {
    requestServices(changes.services, trigger);
  }
}

// Called with pending_mutex_ held.
void RegistrySync::schedule() {
  if (scheduled_) {
    return;
  }
  scheduled_ = true;
  boost::asio::post(io_, [this] { runPending(); });
}

void RegistrySync::requestReevaluateAll(const char* trigger) {
  std::lock_guard lock(pending_mutex_);
  pending_.reevaluate_all = true;
  pending_.trigger = trigger;
  schedule();
}

void RegistrySync::runPending() {
  Pending work;
  {
    std::lock_guard lock(pending_mutex_);
    work = std::move(pending_);
    pending_ = {};
    scheduled_ = false;
  }
  if (work.reevaluate_all) {
    for (const auto& [ref, entry] : cache_.entries()) {
      work.reevaluate.insert(ref);
    }
  }
  Status st;
  if (work.everything || failed_) {
    st = syncAll(failed_ ? "retry" : work.trigger);
  } else if (!work.reread.empty() || !work.reevaluate.empty()) {
    st = syncServices(work.reread, work.reevaluate, work.trigger);
  }
  failed_ = !st;
  if (!st) {
    // The next tick retries with a full resync: the maps and the cache may disagree now.
    log::error("sync", "sync failed; retrying with a full resync",
               {{"trigger", work.trigger}, {"error", st.error().message}});
  }
}

void RegistrySync::startExpiryTicker() {
  tick();
}

void RegistrySync::tick() {
  expiry_timer_.expires_after(kExpiryTick);
  expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) {
      return;
    }
    // Only TTL endpoints change state with the clock alone; a failed sync is retried here.
    if (failed_) {
      request("retry");
    } else {
      for (const registry::ServiceRef& ref : ttl_services_) {
        requestReevaluate(ref, "ttl");
      }
    }
    tick();
  });
}

}  // namespace weft
