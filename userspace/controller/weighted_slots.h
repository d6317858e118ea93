// SPDX-License-Identifier: Apache-2.0
// The slot layout of the weighted algorithm: each backend fills slots in proportion to its
// weight, interleaved so that taking the slots in turn (the kernel's round robin) spreads
// each backend's share evenly instead of in runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace weft {

// For weights w[i] > 0, returns slot -> index into `weights`. Weights are reduced by their
// greatest common divisor; when they still add up to more than `max_slots` they are scaled
// down (each keeps at least one slot), so shares are then approximate. Smooth weighted
// round-robin order: after any prefix of the result, every backend has received within one
// slot of its exact share. Empty when `weights` is empty.
std::vector<size_t> weightedSlots(const std::vector<uint32_t>& weights, size_t max_slots);

}  // namespace weft
