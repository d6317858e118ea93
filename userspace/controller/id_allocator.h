// SPDX-License-Identifier: Apache-2.0
// Small integer ids (service ids, backend ids) handed out lowest-free-first, so ids stay dense
// and a restarted agent can mark the ids it finds in the maps as taken.
#pragma once

#include <cstdint>
#include <set>

#include "userspace/common/result.h"

namespace weft {

// Ids run from 1 to max_id; 0 is never handed out (it means "none" in the maps).
class IdAllocator {
 public:
  explicit IdAllocator(uint32_t max_id) : max_id_(max_id) {}

  // The lowest free id, or an error when all max_id ids are taken.
  Result<uint32_t> allocate();
  // Marks an id found in the maps as taken. Ids outside 1..max_id are ignored.
  void reserve(uint32_t id);
  // Returns an id to the free list. Releasing a free id does nothing.
  void release(uint32_t id);

  bool inUse(uint32_t id) const { return id >= 1 && id < next_ && !free_.contains(id); }
  uint32_t maxId() const { return max_id_; }
  void clear();

 private:
  uint32_t max_id_;
  uint32_t next_ = 1;        // no id >= next_ was ever taken
  std::set<uint32_t> free_;  // free ids below next_
};

}  // namespace weft
