// SPDX-License-Identifier: Apache-2.0
// Active health checks for registry endpoints: per endpoint a timer and a TCP or HTTP probe
// on one io_context thread, threshold verdicts, and a thread-safe view for the data path.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "userspace/health/health_verdict.h"
#include "userspace/registry/registry.h"

namespace weft::health {

class ProbeSlots;
class Prober;
struct ProbeResult;

// What the checker knows about one endpoint (for the API and weftctl).
struct EndpointHealth {
  std::string ns;
  std::string service;
  IpAddr host;
  uint16_t port = 0;
  registry::HealthCheckKind kind = registry::HealthCheckKind::kNone;
  HealthState state = HealthState::kUnknown;
  bool healthy = false;  // what HealthView::healthy() answers
  uint64_t checks = 0;
  uint64_t failures = 0;
  uint32_t consecutive_successes = 0;
  uint32_t consecutive_failures = 0;
  std::string last_error;  // of the most recent failed probe; kept after later successes
  std::chrono::microseconds last_latency{0};
  int64_t last_check_unix_ms = 0;  // 0 before the first probe ended
};

struct HealthCheckerOptions {
  // Probes in flight at once across all endpoints; more wait their turn (FIFO). Bounds the
  // sockets the checker holds even when many endpoints are black holes.
  size_t max_in_flight = 512;
};

// Threading: construct, call setTargets() and destroy on the io_context's thread (or while it
// is not running); healthy(), status() and statuses() may be called from any thread.
// Endpoints with kind kNone are always healthy and never probed. A checked endpoint is not
// healthy until its first probe succeeds (see HealthVerdict for the thresholds).
class HealthChecker final : public registry::HealthView {
 public:
  // Called on the io thread, with no lock held, whenever healthy() of an endpoint flips.
  // It may call setTargets().
  using OnChange = std::function<void(const registry::Endpoint& endpoint, bool healthy)>;

  HealthChecker(boost::asio::io_context& io, OnChange on_change, HealthCheckerOptions options = {});
  ~HealthChecker() override;
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Replaces the set of endpoints to check. Endpoints whose key (ns, service, host, port)
  // and check are unchanged keep their verdict, counters and timer. A changed check restarts
  // the timer and keeps the verdict (an endpoint that was healthy, including one that had no
  // check, stays healthy until the new check fails unhealthy_threshold times). Removed
  // endpoints stop being probed at once. Endpoints that cannot be probed (no address,
  // port 0, unspecified address) are kept unhealthy with an error and never probed.
  void setTargets(std::vector<registry::Endpoint> endpoints);

  bool healthy(const registry::Endpoint& endpoint) const override;
  std::optional<EndpointHealth> status(const registry::Endpoint& endpoint) const;
  std::vector<EndpointHealth> statuses() const;
  // Checked endpoints that have no verdict yet; the agent can wait for this to reach zero
  // (bounded) after a restart before it trims backend sets.
  size_t unknownCount() const;

 private:
  using Key = std::tuple<std::string, std::string, IpAddr, uint16_t>;

  struct Entry {
    registry::Endpoint endpoint;
    HealthVerdict verdict;
    EndpointHealth stats;
  };

  static Key keyOf(const registry::Endpoint& endpoint);
  void applyTargets(std::vector<registry::Endpoint> endpoints);
  void startProber(const Key& key, const registry::Endpoint& endpoint);
  void stopProber(const Key& key);
  void onResult(const Key& key, const ProbeResult& result);

  boost::asio::io_context& io_;
  OnChange on_change_;
  std::shared_ptr<ProbeSlots> slots_;
  std::map<Key, std::shared_ptr<Prober>> probers_;  // io thread only

  mutable std::mutex mutex_;
  std::map<Key, Entry> entries_;  // written on the io thread under mutex_
};

}  // namespace weft::health
