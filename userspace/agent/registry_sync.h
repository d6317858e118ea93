// SPDX-License-Identifier: Apache-2.0
// Keeps the BPF maps in step with the registry and the health checker. A change names the
// services it touched; the sync re-reads just those into its cache and hands the Controller
// only their data path view. Start-up, reconnects and failures resync everything.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/controller/controller.h"
#include "userspace/registry/registry.h"
#include "userspace/registry/registry_cache.h"

namespace weft {

// Runs on the agent's io_context thread only; request() and requestServices() may be called
// from any thread.
class RegistrySync {
 public:
  // Called after each sync that changed the cache, once the maps are written (health
  // targets, DNS records).
  using Listener =
      std::function<void(const registry::RegistryCache&, const registry::RegistryCache::Delta&)>;

  RegistrySync(boost::asio::io_context& io, registry::Registry& registry, Controller& controller,
               const registry::HealthView& health);

  // Reloads everything now, on the calling (io_context) thread; used at start-up and reload.
  Status syncNow(const char* trigger);
  // Schedules a full resync soon; requests before it runs coalesce into one.
  void request(const char* trigger);
  // Schedules a sync of these services soon, re-reading them from the store; requests
  // coalesce with other pending ones.
  void requestServices(const std::vector<registry::ServiceRef>& services, const char* trigger);
  void requestChanges(const registry::ChangeSet& changes, const char* trigger);
  // Schedules a sync of a service from the cache, without a store read: its health or an
  // endpoint's TTL changed, not its registry content.
  void requestReevaluate(const registry::ServiceRef& service, const char* trigger);
  // The same for every cached service (the clock changed what is usable, e.g. a grace ended).
  void requestReevaluateAll(const char* trigger);
  void setListener(Listener listener) { listener_ = std::move(listener); }
  // Each second: re-evaluates the services with TTL endpoints, and retries a failed sync.
  void startExpiryTicker();

  const registry::RegistryCache& cache() const { return cache_; }

 private:
  struct Pending {
    bool everything = false;
    std::set<registry::ServiceRef> reread;
    std::set<registry::ServiceRef> reevaluate;
    bool reevaluate_all = false;
    const char* trigger = "";
  };

  void schedule();
  void runPending();
  Status syncAll(const char* trigger);
  // Syncs `reread` (read from the store first) and `reevaluate` (from the cache).
  Status syncServices(const std::set<registry::ServiceRef>& reread,
                      const std::set<registry::ServiceRef>& reevaluate, const char* trigger);
  // The configs of one cached service (none when it is gone) and the map keys they replace.
  std::vector<ServiceConfig> configsOf(const registry::ServiceRef& ref, int64_t now_ms) const;
  void remember(const registry::ServiceRef& ref, const std::vector<ServiceConfig>& configs);
  void logApplied(const char* trigger, const ApplySummary& summary, size_t services,
                  double duration_ms) const;
  void tick();

  boost::asio::io_context& io_;
  registry::Registry& registry_;
  Controller& controller_;
  const registry::HealthView& health_;
  Listener listener_;
  boost::asio::steady_timer expiry_timer_;
  registry::RegistryCache cache_;
  // The map keys each registry service produced at the last sync, to remove ports and VIPs
  // that went away.
  std::map<registry::ServiceRef, std::vector<weft_svc_key>> produced_;
  std::set<registry::ServiceRef> ttl_services_;
  bool failed_ = false;

  std::mutex pending_mutex_;  // guards pending_ and scheduled_
  Pending pending_;
  bool scheduled_ = false;
};

}  // namespace weft
