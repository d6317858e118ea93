// SPDX-License-Identifier: Apache-2.0
// One endpoint's probe loop: a timer, then a TCP connect or an HTTP/1.1 GET bounded by the
// check's timeout, then a report. Runs entirely on one io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "userspace/health/probe_slots.h"
#include "userspace/registry/model.h"

namespace weft::health {

struct ProbeResult {
  bool ok = false;
  std::string error;  // why it failed; empty on success
  std::chrono::microseconds latency{0};
};

// Probes exactly `target`, the registered endpoint's address and port; never anything else.
// Each probe uses a fresh socket, so a slow or silent endpoint holds only its own socket and
// timer and never delays another endpoint. The next probe starts one interval after the
// previous one started, or when it ends if it ran longer.
class Prober : public std::enable_shared_from_this<Prober> {
 public:
  // Called on the io thread after every probe, never after stop().
  using Report = std::function<void(const ProbeResult&)>;

  Prober(boost::asio::io_context& io, std::shared_ptr<ProbeSlots> slots,
         boost::asio::ip::tcp::endpoint target, registry::HealthCheck check, Report report);
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Starts the loop with a probe right away. io thread only, as is stop().
  void start();
  // Cancels the timer and any probe in flight; the report is not called again.
  void stop();

 private:
  struct Attempt;

  void waitForSlot();
  void begin();
  void onConnected(const std::shared_ptr<Attempt>& attempt);
  void onHeader(const std::shared_ptr<Attempt>& attempt);
  void finish(const std::shared_ptr<Attempt>& attempt, ProbeResult result);
  void scheduleNext();
  std::string describe(const char* step, const boost::system::error_code& ec) const;

  boost::asio::io_context& io_;
  std::shared_ptr<ProbeSlots> slots_;
  boost::asio::ip::tcp::endpoint target_;
  registry::HealthCheck check_;
  std::string host_header_;
  Report report_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<Attempt> current_;
  std::chrono::steady_clock::time_point last_start_{};
  bool stopped_ = false;
};

// Whether an HTTP check path can go on a request line as is: starts with '/', no spaces,
// controls or non-ASCII bytes (which could split or smuggle a request).
bool isSafeHttpPath(const std::string& path);

}  // namespace weft::health
