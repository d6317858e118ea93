// SPDX-License-Identifier: Apache-2.0
// Maglev consistent-hash lookup tables (Eisenbud et al., NSDI 2016), built in userspace and
// written to the per-service BPF map; weighted by giving backends proportionally more turns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "userspace/common/result.h"

namespace weft::lb {

struct MaglevBackend {
  std::string key;      // stable identity, e.g. "127.0.0.1:8081/tcp" (same on every host)
  uint32_t weight = 1;  // 0: gets no slots; at most kMaglevMaxWeight

  bool operator==(const MaglevBackend&) const = default;
};

// Table sizes are primes so that every skip in 1..size-1 walks all slots. The default fits up to
// 655 backends at 100 slots each; the maximum keeps one table under 64 MiB of uint32 slots.
inline constexpr uint32_t kMaglevDefaultSize = 65537;
inline constexpr uint32_t kMaglevMaxSize = 16777213;  // largest prime below 2^24
inline constexpr uint32_t kMaglevSlotsPerBackend = 100;
inline constexpr uint32_t kMaglevMaxWeight = 65535;

// Marks a slot that no backend owns (no backend has weight > 0).
inline constexpr uint32_t kMaglevEmpty = UINT32_MAX;

bool isPrime(uint32_t n);

// Checks that `size` is a prime no larger than kMaglevMaxSize and at least
// kMaglevSlotsPerBackend * `backends` (count only backends with weight > 0). Errors name the value.
Status checkMaglevSize(uint32_t size, size_t backends);

// Where a backend's preference list starts and how far it steps, both from fixed SipHash-2-4
// keys over the backend key: offset = h1 % size, skip = h2 % (size - 1) + 1. Requires size >= 2.
struct MaglevPermutation {
  uint32_t offset = 0;
  uint32_t skip = 1;
};
MaglevPermutation maglevPermutation(std::string_view key, uint32_t size);

// Returns `size` slots, each an index into `backends`, or kMaglevEmpty everywhere when no backend
// has weight > 0. The table depends only on the set of (key, weight) pairs: turns go in byte
// order of the keys, never in input order, and nothing host-local enters, so every host sharing a
// registry builds the same table. Weights: each round a backend earns `weight` credits and takes
// a turn when it holds maxW (the largest weight present), paying maxW; each turn claims one slot,
// so a backend's slots are within 2 + n * weight / total of size * weight / total (n backends
// with weight > 0). Equal weights give the paper's plain round of one turn each. Fails on
// duplicate or empty keys, weights above kMaglevMaxWeight and sizes that checkMaglevSize rejects.
// Pure; safe on any thread.
Result<std::vector<uint32_t>> buildMaglevTable(const std::vector<MaglevBackend>& backends,
                                               uint32_t size);

// For tests and the benchmark: the two fill strategies behind buildMaglevTable, which give the
// same table and differ only in speed (kAuto picks by the spread of weights).
enum class MaglevFill { kAuto, kRounds, kSchedule };
Result<std::vector<uint32_t>> buildMaglevTableWith(const std::vector<MaglevBackend>& backends,
                                                   uint32_t size, MaglevFill fill);

}  // namespace weft::lb
