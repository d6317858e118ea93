// SPDX-License-Identifier: Apache-2.0
// Registry and health state to BPF maps.
#include "userspace/agent/registry_sync.h"

#include <boost/asio/post.hpp>
#include <chrono>

#include "userspace/common/log.h"

namespace weft {
namespace {

// TTLs are whole seconds; checking each second bounds how long an expired endpoint lingers.
constexpr auto kExpiryTick = std::chrono::seconds(1);

int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RegistrySync::RegistrySync(boost::asio::io_context& io, registry::Registry& registry,
                           Controller& controller, const registry::HealthView& health)
    : io_(io), registry_(registry), controller_(controller), health_(health), expiry_timer_(io) {}

Status RegistrySync::syncNow(const char* trigger) {
  auto snapshot = registry_.snapshot();
  if (!snapshot) {
    failed_ = true;
    return snapshot.error();
  }
  has_ttl_ = false;
  for (const registry::Endpoint& endpoint : snapshot->endpoints) {
    has_ttl_ = has_ttl_ || endpoint.ttl_seconds > 0;
  }
  auto services = registry::toServiceConfigs(*snapshot, health_, wallClockMs());
  auto summary = controller_.apply(services);
  if (!summary) {
    failed_ = true;
    return summary.error();
  }
  failed_ = false;
  syncs_++;
  if (summary->map_writes > 0) {
    log::info("sync", "maps updated",
              {{"trigger", trigger},
               {"revision", snapshot->revision},
               {"services", services.size()},
               {"services_added", summary->services_added},
               {"services_removed", summary->services_removed},
               {"services_changed", summary->services_changed},
               {"backends_added", summary->backends_added},
               {"backends_removed", summary->backends_removed},
               {"map_writes", summary->map_writes}});
  }
  if (listener_) {
    listener_(*snapshot);
  }
  return {};
}

void RegistrySync::request(const char* trigger) {
  boost::asio::post(io_, [this, trigger] {
    if (pending_) {
      return;
    }
    pending_ = true;
    boost::asio::post(io_, [this, trigger] {
      pending_ = false;
      if (auto st = syncNow(trigger); !st) {
        log::error("sync", "sync failed; will retry on the next change",
                   {{"trigger", trigger}, {"error", st.error().message}});
      }
    });
  });
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
    // Only TTL endpoints can change state with the clock alone; a failed sync is retried here.
    if (has_ttl_ || failed_) {
      request(failed_ ? "retry" : "ttl");
    }
    tick();
  });
}

}  // namespace weft
