// SPDX-License-Identifier: Apache-2.0
// A cap on probes in flight across all endpoints, so thousands of endpoints (or many
// black holes that hold a socket until their timeout) cannot exhaust file descriptors.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>

namespace weft::health {

// io_context thread only. Waiters run in FIFO order as slots free up.
class ProbeSlots {
 public:
  // Starts a probe in the slot just taken; returns false when its prober is gone, which
  // hands the slot to the next waiter.
  using Waiter = std::function<bool()>;

  explicit ProbeSlots(size_t max_in_flight) : max_(max_in_flight == 0 ? 1 : max_in_flight) {}

  // Runs `waiter` now when a slot is free, else queues it.
  void acquire(Waiter waiter);
  // Called once by every probe that a waiter started, when it ends.
  void release();

  size_t inFlight() const { return in_flight_; }
  size_t waiting() const { return waiting_.size(); }

 private:
  void drain();

  size_t max_;
  size_t in_flight_ = 0;
  std::deque<Waiter> waiting_;
};

}  // namespace weft::health
