// SPDX-License-Identifier: Apache-2.0
// SipHash-2-4 written from the paper's definition; tests check it against the paper's vectors.
#include "userspace/lb/siphash.h"

#include <bit>
#include <cstddef>

namespace weft::lb {
namespace {

// Reads bytes little-endian so the result does not depend on the host's byte order.
uint64_t loadLe(const unsigned char* p, size_t n) {
  uint64_t word = 0;
  for (size_t i = 0; i < n; ++i) {
    word |= static_cast<uint64_t>(p[i]) << (8 * i);
  }
  return word;
}

struct SipState {
  uint64_t v0, v1, v2, v3;

  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13) ^ v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16) ^ v2;
    v0 += v3;
    v3 = std::rotl(v3, 21) ^ v0;
    v2 += v1;
    v1 = std::rotl(v1, 17) ^ v2;
    v2 = std::rotl(v2, 32);
  }

  // Two compression rounds per message word: the "2" in SipHash-2-4.
  void absorb(uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

}  // namespace

uint64_t sipHash24(const SipKey& key, std::string_view data) {
  SipState s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
             key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  size_t full = data.size() / 8 * 8;

  for (size_t i = 0; i < full; i += 8) {
    s.absorb(loadLe(bytes + i, 8));
  }

  // The last word carries the leftover bytes and the length modulo 256 in its top byte.
  uint64_t last = loadLe(bytes + full, data.size() - full);
  last |= static_cast<uint64_t>(data.size() & 0xff) << 56;
  s.absorb(last);

  // Four finalization rounds: the "4" in SipHash-2-4.
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) {
    s.round();
  }
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace weft::lb
