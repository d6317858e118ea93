// SPDX-License-Identifier: Apache-2.0
// FIFO hand-out of probe slots.
#include "userspace/health/probe_slots.h"

#include <utility>

namespace weft::health {

void ProbeSlots::acquire(Waiter waiter) {
  waiting_.push_back(std::move(waiter));
  drain();
}

void ProbeSlots::release() {
  if (in_flight_ > 0) {
    --in_flight_;
  }
  drain();
}

void ProbeSlots::drain() {
  // A waiter whose prober stopped returns false and costs no slot; each waiter runs once,
  // so the loop ends after at most waiting_.size() rounds.
  while (in_flight_ < max_ && !waiting_.empty()) {
    Waiter next = std::move(waiting_.front());
    waiting_.pop_front();
    ++in_flight_;
    if (!next()) {
      --in_flight_;
    }
  }
}

}  // namespace weft::health
