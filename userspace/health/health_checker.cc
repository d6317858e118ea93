// SPDX-License-Identifier: Apache-2.0
// Diffing of check targets, probe result bookkeeping and the thread-safe verdict table.
#include "userspace/health/health_checker.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <utility>

#include "userspace/common/log.h"
#include "userspace/health/probe_slots.h"
#include "userspace/health/prober.h"

namespace weft::health {
namespace {

using registry::HealthCheckKind;

constexpr const char* kComponent = "health";

int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The probe target is the endpoint's own address and port, nothing derived from it.
std::optional<boost::asio::ip::tcp::endpoint> probeTarget(const registry::Endpoint& ep) {
  if ((!ep.host.isV4() && !ep.host.isV6()) || ep.host.isUnspecified() || ep.port == 0) {
    return std::nullopt;
  }
  boost::asio::ip::address addr;
  if (ep.host.isV4()) {
    boost::asio::ip::address_v4::bytes_type b;
    std::copy_n(ep.host.bytes.begin(), b.size(), b.begin());
    addr = boost::asio::ip::address_v4(b);
  } else {
    boost::asio::ip::address_v6::bytes_type b;
    std::copy_n(ep.host.bytes.begin(), b.size(), b.begin());
    addr = boost::asio::ip::address_v6(b);
  }
  return boost::asio::ip::tcp::endpoint(addr, ep.port);
}

std::string kindName(HealthCheckKind kind) {
  switch (kind) {
    case HealthCheckKind::kNone:
      return "none";
    case HealthCheckKind::kTcp:
      return "tcp";
    case HealthCheckKind::kHttp:
      return "http";
  }
  return "none";
}

std::string endpointText(const registry::Endpoint& ep) {
  std::string host = ep.host.isV6() ? "[" + ep.host.toString() + "]" : ep.host.toString();
  return ep.ns + "/" + ep.service + "/" + host + ":" + std::to_string(ep.port);
}

EndpointHealth initialStats(const registry::Endpoint& ep) {
  EndpointHealth stats;
  stats.ns = ep.ns;
  stats.service = ep.service;
  stats.host = ep.host;
  stats.port = ep.port;
  stats.kind = ep.health.kind;
  return stats;
}

}  // namespace

HealthChecker::HealthChecker(boost::asio::io_context& io, OnChange on_change,
                             HealthCheckerOptions options)
    : io_(io),
      on_change_(std::move(on_change)),
      slots_(std::make_shared<ProbeSlots>(options.max_in_flight)) {}

HealthChecker::~HealthChecker() {
  for (auto& [key, prober] : probers_) {
    prober->stop();
  }
}

HealthChecker::Key HealthChecker::keyOf(const registry::Endpoint& endpoint) {
  return Key(endpoint.ns, endpoint.service, endpoint.host, endpoint.port);
}

void HealthChecker::setTargets(std::vector<registry::Endpoint> endpoints) {
  applyTargets(std::move(endpoints));
}

void HealthChecker::applyTargets(std::vector<registry::Endpoint> endpoints) {
  std::map<Key, registry::Endpoint> wanted;
  for (auto& ep : endpoints) {
    Key key = keyOf(ep);
    wanted.emplace(std::move(key), std::move(ep));
  }

  std::vector<Key> restart;
  {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = wanted.count(it->first) ? std::next(it) : entries_.erase(it);
    }
    for (auto& [key, ep] : wanted) {
      auto it = entries_.find(key);
      bool checked = ep.health.kind != HealthCheckKind::kNone;
      if (it == entries_.end()) {
        Entry entry{ep, HealthVerdict(), initialStats(ep)};
        entries_.emplace(key, std::move(entry));
        if (checked) {
          restart.push_back(key);
        }
        continue;
      }

      Entry& entry = it->second;
      bool check_changed = entry.endpoint.health != ep.health;
      if (check_changed) {
        bool was_healthy =
            entry.endpoint.health.kind == HealthCheckKind::kNone || entry.verdict.healthy();
        entry.verdict = HealthVerdict(was_healthy ? HealthState::kHealthy : entry.verdict.state());
        entry.stats.kind = ep.health.kind;
        entry.stats.state = entry.verdict.state();
        entry.stats.consecutive_successes = 0;
        entry.stats.consecutive_failures = 0;
        if (checked) {
          restart.push_back(key);
        }
      }
      entry.endpoint = ep;
    }
  }

  for (auto it = probers_.begin(); it != probers_.end();) {
    auto w = wanted.find(it->first);
    bool keep = w != wanted.end() && w->second.health.kind != HealthCheckKind::kNone;
    if (!keep) {
      it->second->stop();
      it = probers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const Key& key : restart) {
    stopProber(key);
    startProber(key, wanted.at(key));
  }
}

void HealthChecker::startProber(const Key& key, const registry::Endpoint& endpoint) {
  auto target = probeTarget(endpoint);
  if (!target) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      it->second.verdict = HealthVerdict(HealthState::kUnhealthy);
      it->second.stats.state = HealthState::kUnhealthy;
      it->second.stats.last_error = "endpoint has no address and port to probe";
    }
    log::warn(kComponent, "endpoint not probed: no usable address and port",
              {{"endpoint", endpointText(endpoint)}});
    return;
  }

  auto prober =
      std::make_shared<Prober>(io_, slots_, *target, endpoint.health,
                               [this, key](const ProbeResult& result) { onResult(key, result); });
  probers_[key] = prober;
  prober->start();
  log::debug(kComponent, "checking endpoint",
             {{"endpoint", endpointText(endpoint)},
              {"kind", kindName(endpoint.health.kind)},
              {"interval_ms", endpoint.health.interval_ms}});
}

void HealthChecker::stopProber(const Key& key) {
  auto it = probers_.find(key);
  if (it != probers_.end()) {
    it->second->stop();
    probers_.erase(it);
  }
}

void HealthChecker::onResult(const Key& key, const ProbeResult& result) {
  registry::Endpoint changed;
  bool flipped = false;
  bool now_healthy = false;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      return;
    }
    Entry& entry = it->second;
    EndpointHealth& stats = entry.stats;
    ++stats.checks;
    if (!result.ok) {
      ++stats.failures;
      stats.last_error = result.error;
    }
    stats.last_latency = result.latency;
    stats.last_check_unix_ms = unixMillis();

    flipped = entry.verdict.record(result.ok, entry.endpoint.health);
    stats.state = entry.verdict.state();
    stats.healthy = entry.verdict.healthy();
    stats.consecutive_successes = entry.verdict.consecutiveSuccesses();
    stats.consecutive_failures = entry.verdict.consecutiveFailures();
    now_healthy = stats.healthy;
    if (flipped) {
      changed = entry.endpoint;
    }
  }

  if (!flipped) {
    return;
  }
  if (now_healthy) {
    log::info(kComponent, "endpoint healthy",
              {{"endpoint", endpointText(changed)}, {"kind", kindName(changed.health.kind)}});
  } else {
    log::info(kComponent, "endpoint unhealthy",
              {{"endpoint", endpointText(changed)},
               {"kind", kindName(changed.health.kind)},
               {"error", result.error}});
  }
  if (on_change_) {
    on_change_(changed, now_healthy);
  }
}

bool HealthChecker::healthy(const registry::Endpoint& endpoint) const {
  if (endpoint.health.kind == HealthCheckKind::kNone) {
    return true;
  }
  std::lock_guard lock(mutex_);
  auto it = entries_.find(keyOf(endpoint));
  return it != entries_.end() && it->second.verdict.healthy();
}

std::optional<EndpointHealth> HealthChecker::status(const registry::Endpoint& endpoint) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(keyOf(endpoint));
  if (it == entries_.end()) {
    return std::nullopt;
  }
  EndpointHealth stats = it->second.stats;
  stats.healthy = stats.kind == HealthCheckKind::kNone || it->second.verdict.healthy();
  return stats;
}

std::vector<EndpointHealth> HealthChecker::statuses() const {
  std::lock_guard lock(mutex_);
  std::vector<EndpointHealth> out;
  out.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) {
    out.push_back(entry.stats);
    out.back().healthy = entry.stats.kind == HealthCheckKind::kNone || entry.verdict.healthy();
  }
  return out;
}

size_t HealthChecker::unknownCount() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [key, entry] : entries_) {
    if (entry.stats.kind != HealthCheckKind::kNone &&
        entry.verdict.state() == HealthState::kUnknown) {
      ++n;
    }
  }
  return n;
}

}  // namespace weft::health
