// SPDX-License-Identifier: Apache-2.0
// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash with a fixed definition, so
// every host and every build hashes the same bytes to the same value (unlike std::hash).
#pragma once

#include <cstdint>
#include <string_view>

namespace weft::lb {

// A 128-bit SipHash key as two 64-bit halves, k0 from key bytes 0..7 and k1 from bytes 8..15,
// both read little-endian as the paper specifies.
struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

// SipHash-2-4 of `data` under `key`. Pure and thread-safe.
uint64_t sipHash24(const SipKey& key, std::string_view data);

}  // namespace weft::lb
