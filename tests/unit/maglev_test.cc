// SPDX-License-Identifier: Apache-2.0
// Maglev tables: SipHash vectors, size checks, determinism, balance by weight, disruption bounds
// when a backend leaves or joins.
#include "userspace/lb/maglev.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "userspace/lb/siphash.h"

namespace weft::lb {
namespace {

std::vector<MaglevBackend> makeBackends(size_t n, int set = 0) {
  std::vector<MaglevBackend> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({"10." + std::to_string(set) + "." + std::to_string(i / 250) + "." +
                       std::to_string(i % 250 + 1) + ":8080/tcp",
                   1});
  }
  return out;
}

// The owning key of every slot, "" for empty: compares tables built from differently ordered
// backend lists.
std::vector<std::string> owners(const std::vector<MaglevBackend>& backends,
                                const std::vector<uint32_t>& table) {
  std::vector<std::string> out;
  out.reserve(table.size());
  for (uint32_t idx : table) {
    out.push_back(idx == kMaglevEmpty ? "" : backends.at(idx).key);
  }
  return out;
}

std::vector<uint32_t> counts(const std::vector<uint32_t>& table, size_t n) {
  std::vector<uint32_t> c(n, 0);
  for (uint32_t idx : table) {
    EXPECT_LT(idx, n);
    if (idx < n) {
      ++c[idx];
    }
  }
  return c;
}

std::vector<uint32_t> build(const std::vector<MaglevBackend>& backends,
                            uint32_t size = kMaglevDefaultSize) {
  auto table = buildMaglevTable(backends, size);
  EXPECT_TRUE(table.ok()) << (table.ok() ? "" : table.error().message);
  return table.ok() ? *table : std::vector<uint32_t>{};
}

// The paper's pseudo-code, unweighted, turns in input order: the production builder must agree
// with it exactly for equal weights and key-sorted input.
std::vector<uint32_t> paperTable(const std::vector<MaglevBackend>& backends, uint32_t size) {
  std::vector<std::vector<uint32_t>> permutation(backends.size(), std::vector<uint32_t>(size));
  for (size_t i = 0; i < backends.size(); ++i) {
    MaglevPermutation p = maglevPermutation(backends[i].key, size);
    for (uint64_t j = 0; j < size; ++j) {
      permutation[i][j] = static_cast<uint32_t>((p.offset + j * p.skip) % size);
    }
  }
  std::vector<uint32_t> next(backends.size(), 0);
  std::vector<uint32_t> entry(size, kMaglevEmpty);
  uint32_t n = 0;
  for (;;) {
    for (uint32_t i = 0; i < backends.size(); ++i) {
      uint32_t c = permutation[i][next[i]];
      while (entry[c] != kMaglevEmpty) {
        c = permutation[i][++next[i]];
      }
      entry[c] = i;
      ++next[i];
      if (++n == size) {
        return entry;
      }
    }
  }
}

TEST(SipHashTest, MatchesPaperVectors) {
  // Key 00..0f; messages 00..(len-1): the reference vectors of the SipHash paper and code.
  SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  std::string msg;
  for (int i = 0; i < 15; ++i) {
    msg.push_back(static_cast<char>(i));
  }
  EXPECT_EQ(sipHash24(key, ""), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(sipHash24(key, msg), 0xa129ca6149be45e5ULL);
}

TEST(MaglevSizeTest, IsPrime) {
  for (uint32_t p : {2u, 3u, 5u, 7u, 101u, 65537u, 16777213u, 4294967291u}) {
    EXPECT_TRUE(isPrime(p)) << p;
  }
  for (uint32_t c : {0u, 1u, 4u, 9u, 25u, 65536u, 65535u, 16777215u, 4294967295u}) {
    EXPECT_FALSE(isPrime(c)) << c;
  }
}

TEST(MaglevSizeTest, RejectsNonPrimeTooSmallAndTooLarge) {
  EXPECT_TRUE(checkMaglevSize(kMaglevDefaultSize, 655).ok());
  EXPECT_TRUE(checkMaglevSize(2, 0).ok());

  auto not_prime = checkMaglevSize(65536, 3);
  ASSERT_FALSE(not_prime.ok());
  EXPECT_EQ(not_prime.error().message, "maglev table size 65536 is not prime");

  auto small = checkMaglevSize(1009, 11);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().message,
            "maglev table size 1009 is too small for 11 backends: needs a prime >= 1100 "
            "(100 per backend)");
  EXPECT_FALSE(checkMaglevSize(kMaglevDefaultSize, 656).ok());

  auto large = checkMaglevSize(4294967291u, 1);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().message, "maglev table size 4294967291 exceeds the maximum 16777213");
}

TEST(MaglevBuildTest, BuildChecksSizeAgainstWeightedBackendsOnly) {
  auto backends = makeBackends(4);
  auto err = buildMaglevTable(backends, 307);
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().message,
            "maglev table size 307 is too small for 4 backends: needs a prime >= 400 "
            "(100 per backend)");
  EXPECT_FALSE(buildMaglevTable(backends, 1000).ok());

  backends[0].weight = 0;
  EXPECT_TRUE(buildMaglevTable(backends, 307).ok());
}

TEST(MaglevBuildTest, RejectsDuplicateAndEmptyKeysAndHugeWeights) {
  auto dup = buildMaglevTable({{"b:1/tcp", 1}, {"a:1/tcp", 1}, {"b:1/tcp", 2}}, 1009);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, "maglev backend key \"b:1/tcp\" appears more than once");

  auto empty = buildMaglevTable({{"a:1/tcp", 1}, {"", 1}}, 1009);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "maglev backend #1: key is empty");

  auto heavy = buildMaglevTable({{"a:1/tcp", 65536}}, 1009);
  ASSERT_FALSE(heavy.ok());
  EXPECT_EQ(heavy.error().message, "maglev backend \"a:1/tcp\": weight 65536 exceeds 65535");
  EXPECT_TRUE(buildMaglevTable({{"a:1/tcp", 65535}}, 1009).ok());
}

TEST(MaglevBuildTest, NoWeightedBackendLeavesEverySlotEmpty) {
  for (const auto& backends :
       {std::vector<MaglevBackend>{}, std::vector<MaglevBackend>{{"a:1/tcp", 0}, {"b", 0}}}) {
    auto table = build(backends, 1009);
    ASSERT_EQ(table.size(), 1009u);
    EXPECT_TRUE(
        std::all_of(table.begin(), table.end(), [](uint32_t s) { return s == kMaglevEmpty; }));
  }
}

TEST(MaglevBuildTest, PermutationStaysInRange) {
  for (uint32_t size : {2u, 307u, kMaglevDefaultSize}) {
    for (const auto& b : makeBackends(50)) {
      MaglevPermutation p = maglevPermutation(b.key, size);
      EXPECT_LT(p.offset, size);
      EXPECT_GE(p.skip, 1u);
      EXPECT_LT(p.skip, std::max(size, 2u));
    }
  }
}

// Pins the table for a fixed input, so a change to the hash keys or the fill order, which would
// make hosts on different builds disagree, fails here first.
TEST(MaglevBuildTest, GoldenTableIsStable) {
  std::vector<MaglevBackend> backends{
      {"10.0.0.1:80/tcp", 1}, {"10.0.0.2:80/tcp", 2}, {"10.0.0.3:80/tcp", 1}};
  auto table = build(backends, 401);
  std::vector<uint32_t> head(table.begin(), table.begin() + 24);
  std::string text;
  for (uint32_t s : head) {
    text += std::to_string(s);
  }
  EXPECT_EQ(text, "111112100101111212100101");
}

TEST(MaglevBuildTest, SameSetInAnyOrderGivesSameTable) {
  auto backends = makeBackends(37);
  for (size_t i = 0; i < backends.size(); ++i) {
    backends[i].weight = static_cast<uint32_t>(i % 5);  // includes weight 0
  }
  auto reference = owners(backends, build(backends));

  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(backends.begin(), backends.end(), rng);
    EXPECT_EQ(owners(backends, build(backends)), reference) << "shuffle " << round;
  }
}

TEST(MaglevBuildTest, EqualWeightsMatchThePaperExactly) {
  for (size_t n : {1u, 3u, 10u, 100u}) {
    auto backends = makeBackends(n, 1);
    std::sort(backends.begin(), backends.end(),
              [](const auto& a, const auto& b) { return a.key < b.key; });
    EXPECT_EQ(build(backends), paperTable(backends, kMaglevDefaultSize)) << n << " backends";
  }
}

// buildMaglevTable picks one of two fills by the spread of weights; they must give identical
// tables, or moving the threshold between versions would make hosts disagree.
TEST(MaglevBuildTest, RoundAndHeapFillsGiveTheSameTable) {
  std::mt19937 rng(3);
  for (uint32_t max_weight : {1u, 2u, 10u, 1000u, kMaglevMaxWeight}) {
    std::uniform_int_distribution<uint32_t> weight(0, max_weight);
    for (size_t n : {1u, 5u, 100u}) {
      auto backends = makeBackends(n, 3);
      for (auto& b : backends) {
        b.weight = weight(rng);
      }
      backends[0].weight = max_weight;
      auto rounds = buildMaglevTableWith(backends, kMaglevDefaultSize, MaglevFill::kRounds);
      auto heap = buildMaglevTableWith(backends, kMaglevDefaultSize, MaglevFill::kSchedule);
      ASSERT_TRUE(rounds.ok() && heap.ok());
      EXPECT_EQ(*rounds, *heap) << n << " backends, weights up to " << max_weight;
      EXPECT_EQ(*rounds, build(backends));
    }
  }
}

TEST(MaglevBalanceTest, EqualWeightsDifferByAtMostOneSlot) {
  for (size_t n : {1u, 2u, 3u, 7u, 100u, 655u}) {
    auto c = counts(build(makeBackends(n)), n);
    uint32_t low = kMaglevDefaultSize / n;
    for (size_t i = 0; i < n; ++i) {
      EXPECT_TRUE(c[i] == low || c[i] == low + 1) << n << " backends: #" << i << " has " << c[i];
    }
  }
}

// A backend's slots differ from size * w / W by at most 2 + n * w / W: after R full rounds it
// has floor(R * w / maxW) turns, the last partial round adds at most one, and sum(turns) = size
// pins R * W / maxW to within n of size.
void expectWeightedShares(const std::vector<MaglevBackend>& backends, uint32_t size) {
  auto c = counts(build(backends, size), backends.size());
  double total = 0;
  for (const auto& b : backends) {
    total += b.weight;
  }
  for (size_t i = 0; i < backends.size(); ++i) {
    double expected = size * backends[i].weight / total;
    double bound = 2.0 + backends.size() * backends[i].weight / total;
    EXPECT_LE(std::abs(c[i] - expected), bound)
        << backends[i].key << " weight " << backends[i].weight << " has " << c[i];
  }
}

TEST(MaglevBalanceTest, SharesFollowWeights) {
  auto backends = makeBackends(10);
  for (size_t i = 0; i < backends.size(); ++i) {
    backends[i].weight = static_cast<uint32_t>(i + 1);
  }
  expectWeightedShares(backends, kMaglevDefaultSize);

  std::mt19937 rng(11);
  std::uniform_int_distribution<uint32_t> weight(1, kMaglevMaxWeight);
  for (size_t n : {2u, 20u, 100u}) {
    backends = makeBackends(n, 2);
    for (auto& b : backends) {
      b.weight = weight(rng);
    }
    backends[0].weight = kMaglevMaxWeight;
    backends[n - 1].weight = 1;
    expectWeightedShares(backends, kMaglevDefaultSize);
  }
}

TEST(MaglevBalanceTest, WeightZeroGetsNothing) {
  auto backends = makeBackends(5);
  backends[2].weight = 0;
  auto c = counts(build(backends, 1009), backends.size());
  EXPECT_EQ(c[2], 0u);
  for (size_t i : {0u, 1u, 3u, 4u}) {
    EXPECT_GE(c[i], 252u);
    EXPECT_LE(c[i], 253u);
  }
}

struct Disruption {
  double lost_share;   // slots the removed (or gained by the added) backend owned, / size
  double extra_share;  // slots that moved between backends present in both tables, / size
};

// Owners as indices into `universe`, which holds every key of `list`: cheaper than key strings
// for the large tables below.
std::vector<uint32_t> universeOwners(const std::vector<MaglevBackend>& universe,
                                     const std::vector<MaglevBackend>& list, uint32_t size) {
  std::vector<uint32_t> to_universe;
  for (const auto& b : list) {
    auto it = std::find_if(universe.begin(), universe.end(),
                           [&](const MaglevBackend& u) { return u.key == b.key; });
    to_universe.push_back(static_cast<uint32_t>(it - universe.begin()));
  }
  std::vector<uint32_t> out = build(list, size);
  for (uint32_t& slot : out) {
    slot = to_universe.at(slot);
  }
  return out;
}

Disruption measure(const std::vector<uint32_t>& before, const std::vector<uint32_t>& after,
                   uint32_t changed) {
  size_t lost = 0;
  size_t extra = 0;
  for (size_t s = 0; s < before.size(); ++s) {
    if (before[s] == changed || after[s] == changed) {
      ++lost;
    } else if (before[s] != after[s]) {
      ++extra;
    }
  }
  return {double(lost) / before.size(), double(extra) / before.size()};
}

// Maglev trades a little disruption for balance: when one of n backends leaves or joins, the
// backends present before and after also swap some slots among themselves. That extra share
// shrinks as the table grows relative to n. Asserted per case: extra <= bound / n, on top of the
// 1/n that must move. Measured worst (x n) over these key sets: 0.003 (n=3), 0.043 (n=10),
// 0.655 (n=100) at 65537 slots; 0.15 for n=100 at 655373 slots.
struct DisruptionCase {
  size_t n;
  uint32_t size;
  double bound;  // extra moved share of the table, times n
};

TEST(MaglevDisruptionTest, RemovingOrAddingOneOfNMovesAboutOneNth) {
  const DisruptionCase cases[] = {
      {3, kMaglevDefaultSize, 0.02},
      {10, kMaglevDefaultSize, 0.1},
      {100, kMaglevDefaultSize, 0.8},
      {100, 655373, 0.25},
  };
  for (const DisruptionCase& dc : cases) {
    size_t n = dc.n;
    double worst = 0;
    for (int set = 0; set < 4; ++set) {
      auto all = makeBackends(n + 1, 10 + set);
      std::vector<MaglevBackend> base(all.begin(), all.begin() + n);
      auto before = universeOwners(all, base, dc.size);
      std::vector<std::pair<std::string, Disruption>> changes;

      for (uint32_t gone : {uint32_t{0}, uint32_t(n / 2), uint32_t(n - 1)}) {
        auto fewer = base;
        fewer.erase(fewer.begin() + gone);
        changes.emplace_back("remove " + base[gone].key,
                             measure(before, universeOwners(all, fewer, dc.size), gone));
        EXPECT_NEAR(changes.back().second.lost_share, 1.0 / n, 1.0 / dc.size + 1e-9);
      }
      changes.emplace_back("add " + all[n].key,
                           measure(before, universeOwners(all, all, dc.size), uint32_t(n)));
      EXPECT_NEAR(changes.back().second.lost_share, 1.0 / (n + 1), 1.0 / dc.size + 1e-9);

      for (const auto& [what, d] : changes) {
        EXPECT_LE(d.extra_share * n, dc.bound)
            << n << " backends, " << dc.size << " slots, " << what;
        worst = std::max(worst, d.extra_share * n);
      }
    }
    std::printf("maglev disruption n=%zu size=%u: worst extra moved x n %.3f (bound %.2f)\n", n,
                dc.size, worst, dc.bound);
  }
}

}  // namespace
}  // namespace weft::lb
