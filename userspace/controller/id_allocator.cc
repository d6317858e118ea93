// SPDX-License-Identifier: Apache-2.0
// Free-list id allocation.
#include "userspace/controller/id_allocator.h"

#include <iterator>
#include <string>

namespace weft {

Result<uint32_t> IdAllocator::allocate() {
  if (!free_.empty()) {
    uint32_t id = *free_.begin();
    free_.erase(free_.begin());
    return id;
  }
  if (next_ > max_id_) {
    return makeError("all " + std::to_string(max_id_) + " ids are in use");
  }
  return next_++;
}

void IdAllocator::reserve(uint32_t id) {
  if (id < 1 || id > max_id_) {
    return;
  }
  if (id < next_) {
    free_.erase(id);
    return;
  }
  for (uint32_t skipped = next_; skipped < id; ++skipped) {
    free_.insert(skipped);
  }
  next_ = id + 1;
}

void IdAllocator::release(uint32_t id) {
  if (!inUse(id)) {
    return;
  }
  free_.insert(id);

  // Keep the free list short: trailing free ids fold back into next_.
  while (!free_.empty() && *free_.rbegin() == next_ - 1) {
    free_.erase(std::prev(free_.end()));
    --next_;
  }
}

void IdAllocator::clear() {
  next_ = 1;
  free_.clear();
}

}  // namespace weft
