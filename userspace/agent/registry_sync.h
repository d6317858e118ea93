// SPDX-License-Identifier: Apache-2.0
// Keeps the BPF maps in step with the registry and the health checker: any change schedules
// one sync that reads a snapshot and hands the data path view to the Controller.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>

#include "userspace/common/result.h"
#include "userspace/controller/controller.h"
#include "userspace/registry/registry.h"

namespace weft {

// Runs on the agent's io_context thread only; request() may be called from any thread.
class RegistrySync {
 public:
  using Listener = std::function<void(const registry::Snapshot&)>;

  RegistrySync(boost::asio::io_context& io, registry::Registry& registry, Controller& controller,
               const registry::HealthView& health);

  // Syncs now, on the calling (io_context) thread; used at start-up and after own writes.
  Status syncNow(const char* trigger);
  // Schedules a sync soon; several requests before it runs coalesce into one.
  void request(const char* trigger);
  // Called with each snapshot that was synced (health targets, DNS records).
  void setListener(Listener listener) { listener_ = std::move(listener); }
  // Each second: re-evaluates TTL expiry when any endpoint has a TTL, and retries a failed
  // sync.
  void startExpiryTicker();

 private:
  void tick();

  boost::asio::io_context& io_;
  registry::Registry& registry_;
  Controller& controller_;
  const registry::HealthView& health_;
  Listener listener_;
  boost::asio::steady_timer expiry_timer_;
  bool pending_ = false;
  bool has_ttl_ = false;
  bool failed_ = false;
  uint64_t syncs_ = 0;
};

}  // namespace weft
