// SPDX-License-Identifier: Apache-2.0
// weightedSlots: reduce, bound, then lay out in smooth weighted round-robin order.
#include "userspace/controller/weighted_slots.h"

#include <algorithm>
#include <numeric>

namespace weft {
namespace {

// Weights that fit `max_slots` in total, each at least 1, as close to proportional as the
// bound allows: floor of the scaled weight, then the slots left over go to the largest
// remainders.
std::vector<uint64_t> boundedWeights(const std::vector<uint64_t>& weights, uint64_t total,
                                     size_t max_slots) {
  std::vector<uint64_t> out(weights.size(), 1);
  if (weights.size() >= max_slots) {
    return out;
  }
  uint64_t spare = max_slots - weights.size();
  std::vector<std::pair<uint64_t, size_t>> remainders;
  uint64_t used = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    uint64_t scaled = weights[i] * spare;
    out[i] += scaled / total;
    used += scaled / total;
    remainders.push_back({scaled % total, i});
  }
  std::sort(remainders.rbegin(), remainders.rend());
  for (size_t k = 0; used < spare && k < remainders.size(); ++k, ++used) {
    ++out[remainders[k].second];
  }
  return out;
}

}  // namespace

std::vector<size_t> weightedSlots(const std::vector<uint32_t>& weights, size_t max_slots) {
  if (weights.empty() || max_slots == 0) {
    return {};
  }
  uint64_t divisor = 0;
  for (uint32_t w : weights) {
    divisor = std::gcd(divisor, static_cast<uint64_t>(std::max<uint32_t>(w, 1)));
  }
  std::vector<uint64_t> reduced;
  uint64_t total = 0;
  for (uint32_t w : weights) {
    reduced.push_back(std::max<uint32_t>(w, 1) / divisor);
    total += reduced.back();
  }
  if (total > max_slots) {
    reduced = boundedWeights(reduced, total, max_slots);
    total = std::accumulate(reduced.begin(), reduced.end(), uint64_t{0});
  }

  // Smooth weighted round robin: every step each backend gains its weight and the one
  // furthest ahead takes the slot and pays the total back. Ties go to the lower index, so
  // the layout depends only on the weights and their order.
  std::vector<int64_t> current(reduced.size(), 0);
  std::vector<size_t> slots;
  slots.reserve(total);
  for (uint64_t step = 0; step < total; ++step) {
    size_t best = 0;
    for (size_t i = 0; i < reduced.size(); ++i) {
      current[i] += static_cast<int64_t>(reduced[i]);
      if (current[i] > current[best]) {
        best = i;
      }
    }
    current[best] -= static_cast<int64_t>(total);
    slots.push_back(best);
  }
  return slots;
}

}  // namespace weft
