// SPDX-License-Identifier: Apache-2.0
// Maglev table population: per-backend cursors walk each preference list, filling by turns.
#include "userspace/lb/maglev.h"

#include <algorithm>
#include <functional>
#include <numeric>

#include <fmt/format.h>

#include "userspace/lb/siphash.h"

namespace weft::lb {
namespace {

// Fixed so that tables agree across hosts and builds: the ASCII bytes of "weft/maglev/offs" and
// "weft/maglev/skip" read little-endian. Changing either reshuffles every table in a fleet.
constexpr SipKey kOffsetKey{0x67616d2f74666577ULL, 0x7366666f2f76656cULL};
constexpr SipKey kSkipKey{0x67616d2f74666577ULL, 0x70696b732f76656cULL};

// Above this many round steps per turn, buildMaglevTable fills from the heap (a speed choice
// only: both fills give the same table). bench/maglev_bench.cc measured a round step at about
// 0.4 ns and a heap turn at up to 45 ns, so rounds win until roughly 100 steps per turn.
constexpr uint64_t kMaxRoundStepsPerTurn = 32;

// One backend's place in the fill: `pos` is the next slot of its preference list to try, which
// replaces the paper's next[i] index and saves a multiply and a modulo per probe.
struct Cursor {
  uint32_t pos;
  uint32_t skip;
  uint32_t weight;
  uint32_t turns;  // taken so far
  uint32_t index;  // into the caller's backend list
};

// Fills the first empty slot on the cursor's preference list. Ends: the list reaches every slot
// (skip < size, size prime) and the caller only asks while a slot is empty.
inline void takeTurn(Cursor& c, std::vector<uint32_t>& table) {
  uint32_t size = static_cast<uint32_t>(table.size());
  while (table[c.pos] != kMaglevEmpty) {
    c.pos += c.skip;
    if (c.pos >= size) {
      c.pos -= size;
    }
  }
  table[c.pos] = c.index;
  ++c.turns;
}

// The turn schedule, as rounds: in each round every cursor, in key order, earns its weight in
// credit and takes a turn when it holds max_weight, so its k-th turn falls in round
// ceil(k * max_weight / weight) and credit never allows two turns in one round. Costs one step
// per cursor per round, so it suits weights that are close to each other.
void fillByRounds(std::vector<Cursor>& cursors, uint32_t max_weight, std::vector<uint32_t>& table) {
  std::vector<uint32_t> credit(cursors.size(), 0);
  size_t filled = 0;

  // Ends: the heaviest cursors take a turn every round and each turn fills a slot.
  for (;;) {
    for (size_t i = 0; i < cursors.size(); ++i) {
      credit[i] += cursors[i].weight;
      if (credit[i] < max_weight) {
        continue;
      }
      credit[i] -= max_weight;
      takeTurn(cursors[i], table);
      if (++filled == table.size()) {
        return;
      }
    }
  }
}

// The same schedule as fillByRounds, turn by turn from a min-heap keyed by (round of the next
// turn, key order), so that rounds in which only the heavy backends move cost nothing.
constexpr int kPositionBits = 20;  // cursors <= kMaglevMaxSize / 100 < 2^18; rounds < 2^41
constexpr uint64_t kPositionMask = (uint64_t{1} << kPositionBits) - 1;

void fillBySchedule(std::vector<Cursor>& cursors, uint32_t max_weight,
                    std::vector<uint32_t>& table) {
  auto nextTurn = [max_weight](const Cursor& c, size_t position) {
    uint64_t round = ((uint64_t{c.turns} + 1) * max_weight + c.weight - 1) / c.weight;
    return round << kPositionBits | position;
  };
  std::vector<uint64_t> heap;
  heap.reserve(cursors.size());
  for (size_t i = 0; i < cursors.size(); ++i) {
    heap.push_back(nextTurn(cursors[i], i));
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());

  for (size_t filled = 0; filled < table.size(); ++filled) {
    size_t position = heap[0] & kPositionMask;
    takeTurn(cursors[position], table);

    // Replace the top and sift it down: half the work of a pop followed by a push.
    uint64_t key = nextTurn(cursors[position], position);
    size_t hole = 0;
    for (;;) {
      size_t child = 2 * hole + 1;
      if (child >= heap.size()) {
        break;
      }
      if (child + 1 < heap.size() && heap[child + 1] < heap[child]) {
        ++child;
      }
      if (key <= heap[child]) {
        break;
      }
      heap[hole] = heap[child];
      hole = child;
    }
    heap[hole] = key;
  }
}

// Input indices in byte order of the keys: the turn order, independent of the caller's order.
Result<std::vector<uint32_t>> sortedByKey(const std::vector<MaglevBackend>& backends) {
  std::vector<uint32_t> order(backends.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return backends[a].key < backends[b].key; });

  for (size_t i = 0; i < order.size(); ++i) {
    const MaglevBackend& b = backends[order[i]];
    if (b.key.empty()) {
      return makeError(fmt::format("maglev backend #{}: key is empty", order[i]));
    }
    if (b.weight > kMaglevMaxWeight) {
      return makeError(fmt::format("maglev backend \"{}\": weight {} exceeds {}", b.key, b.weight,
                                   kMaglevMaxWeight));
    }
    if (i > 0 && backends[order[i - 1]].key == b.key) {
      return makeError(fmt::format("maglev backend key \"{}\" appears more than once", b.key));
    }
  }
  return order;
}

}  // namespace

bool isPrime(uint32_t n) {
  if (n < 2) {
    return false;
  }
  if (n % 2 == 0 || n % 3 == 0) {
    return n <= 3;
  }
  // 64-bit divisor so d * d cannot wrap for n near 2^32.
  for (uint64_t d = 5; d * d <= n; d += 6) {
    if (n % d == 0 || n % (d + 2) == 0) {
      return false;
    }
  }
  return true;
}

Status checkMaglevSize(uint32_t size, size_t backends) {
  if (!isPrime(size)) {
    return makeError(fmt::format("maglev table size {} is not prime", size));
  }
  if (size > kMaglevMaxSize) {
    return makeError(
        fmt::format("maglev table size {} exceeds the maximum {}", size, kMaglevMaxSize));
  }
  uint64_t needed = static_cast<uint64_t>(backends) * kMaglevSlotsPerBackend;
  if (size < needed) {
    return makeError(fmt::format(
        "maglev table size {} is too small for {} backends: needs a prime >= {} ({} per backend)",
        size, backends, needed, kMaglevSlotsPerBackend));
  }
  return {};
}

MaglevPermutation maglevPermutation(std::string_view key, uint32_t size) {
  MaglevPermutation p;
  p.offset = static_cast<uint32_t>(sipHash24(kOffsetKey, key) % size);
  p.skip = static_cast<uint32_t>(sipHash24(kSkipKey, key) % (size - 1) + 1);
  return p;
}

Result<std::vector<uint32_t>> buildMaglevTable(const std::vector<MaglevBackend>& backends,
                                               uint32_t size) {
  return buildMaglevTableWith(backends, size, MaglevFill::kAuto);
}

Result<std::vector<uint32_t>> buildMaglevTableWith(const std::vector<MaglevBackend>& backends,
                                                   uint32_t size, MaglevFill fill) {
  auto order = sortedByKey(backends);
  if (!order.ok()) {
    return order.error();
  }

  size_t active = std::count_if(backends.begin(), backends.end(),
                                [](const MaglevBackend& b) { return b.weight > 0; });
  if (auto st = checkMaglevSize(size, active); !st.ok()) {
    return st.error();
  }
  std::vector<uint32_t> table(size, kMaglevEmpty);
  if (active == 0) {
    return table;
  }

  std::vector<Cursor> cursors;
  cursors.reserve(active);
  uint64_t total_weight = 0;
  uint32_t max_weight = 0;
  for (uint32_t i : *order) {
    const MaglevBackend& b = backends[i];
    if (b.weight == 0) {
      continue;
    }
    MaglevPermutation p = maglevPermutation(b.key, size);
    cursors.push_back(Cursor{p.offset, p.skip, b.weight, 0, i});
    total_weight += b.weight;
    max_weight = std::max(max_weight, b.weight);
  }

  // Both give the same table; rounds cost max_weight * n / total_weight steps per turn and the
  // heap a sift-down, so the heap pays off once most rounds leave most backends idle.
  if (fill == MaglevFill::kAuto) {
    bool close =
        static_cast<uint64_t>(max_weight) * cursors.size() <= kMaxRoundStepsPerTurn * total_weight;
    fill = close ? MaglevFill::kRounds : MaglevFill::kSchedule;
  }
  if (fill == MaglevFill::kRounds) {
    fillByRounds(cursors, max_weight, table);
  } else {
    fillBySchedule(cursors, max_weight, table);
  }
  return table;
}

}  // namespace weft::lb
