// SPDX-License-Identifier: Apache-2.0
// Maglev table build time: weft's builder against a straightforward reference implementation of
// the published pseudo-code, in the same run, with a balance check on both tables.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "userspace/lb/maglev.h"

namespace {

using Clock = std::chrono::steady_clock;
using weft::lb::MaglevBackend;
using weft::lb::MaglevFill;

// REFERENCE IMPLEMENTATION (for comparison only, not used by weft): the population pseudo-code
// of Eisenbud et al., NSDI 2016, section 3.4, written as plainly as the paper states it: the full
// permutation table first, then next[] indices into it, turns in input order, unweighted. It
// shares weft's offset/skip hashes, so the timing compares the population algorithms only.
std::vector<uint32_t> referenceMaglevTable(const std::vector<MaglevBackend>& backends,
                                           uint32_t size) {
  size_t n = backends.size();
  std::vector<std::vector<uint32_t>> permutation(n, std::vector<uint32_t>(size));
  for (size_t i = 0; i < n; ++i) {
    weft::lb::MaglevPermutation p = weft::lb::maglevPermutation(backends[i].key, size);
    for (uint64_t j = 0; j < size; ++j) {
      permutation[i][j] = static_cast<uint32_t>((p.offset + j * p.skip) % size);
    }
  }

  std::vector<uint32_t> next(n, 0);
  std::vector<int64_t> entry(size, -1);
  uint32_t filled = 0;
  while (true) {
    for (size_t i = 0; i < n; ++i) {
      uint32_t c = permutation[i][next[i]];
      while (entry[c] >= 0) {
        next[i] = next[i] + 1;
        c = permutation[i][next[i]];
      }
      entry[c] = static_cast<int64_t>(i);
      next[i] = next[i] + 1;
      filled = filled + 1;
      if (filled == size) {
        std::vector<uint32_t> out(entry.begin(), entry.end());
        return out;
      }
    }
  }
}
// END REFERENCE IMPLEMENTATION

enum class Weights { kEqual, kRamp, kSkewed };

struct Case {
  const char* name;
  uint32_t size;
  size_t backends;
  Weights weights;  // anything but kEqual runs weft only: the reference is unweighted
};

std::vector<MaglevBackend> makeBackends(const Case& c) {
  std::vector<MaglevBackend> out;
  for (size_t i = 0; i < c.backends; ++i) {
    std::string key = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    uint32_t weight = 1;
    if (c.weights == Weights::kRamp) {
      weight = static_cast<uint32_t>(i % 10 + 1);
    } else if (c.weights == Weights::kSkewed) {
      weight = i == 0 ? 65535 : static_cast<uint32_t>(i % 99 + 1);
    }
    out.push_back({key + ":8080/tcp", weight});
  }
  return out;
}

struct Timing {
  double median_ms;
  double p99_ms;
};

template <typename Build>
Timing timeRuns(int runs, Build&& build, std::vector<uint32_t>* last) {
  *last = build();  // warm-up: page in the allocator and caches
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    auto start = Clock::now();
    *last = build();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  size_t p99 = static_cast<size_t>(std::ceil(0.99 * ms.size())) - 1;
  return {ms[ms.size() / 2], ms[p99]};
}

// Largest relative deviation of any backend's slot count from its weighted share, in slots.
double worstDeviation(const std::vector<uint32_t>& table, const std::vector<MaglevBackend>& bs) {
  std::vector<double> count(bs.size(), 0);
  for (uint32_t idx : table) {
    if (idx >= bs.size()) {
      return INFINITY;
    }
    count[idx] += 1;
  }
  double total = 0;
  for (const auto& b : bs) {
    total += b.weight;
  }
  double worst = 0;
  for (size_t i = 0; i < bs.size(); ++i) {
    worst = std::max(worst, std::abs(count[i] - table.size() * bs[i].weight / total));
  }
  return worst;
}

// The builder's weighted bound (derived in maglev_test.cc): 2 + n * w / W slots per backend.
bool withinWeightBound(const std::vector<uint32_t>& table, const std::vector<MaglevBackend>& bs) {
  std::vector<double> count(bs.size(), 0);
  for (uint32_t idx : table) {
    count.at(idx) += 1;
  }
  double total = 0;
  for (const auto& b : bs) {
    total += b.weight;
  }
  for (size_t i = 0; i < bs.size(); ++i) {
    double expected = table.size() * bs[i].weight / total;
    if (std::abs(count[i] - expected) > 2.0 + bs.size() * bs[i].weight / total) {
      return false;
    }
  }
  return true;
}

void printRow(const Case& c, const char* impl, int runs, Timing t, double dev) {
  std::printf("%-24s %-10s %5d %10.3f %9.3f %12.2f\n", c.name, impl, runs, t.median_ms, t.p99_ms,
              dev);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 50;
  if (runs < 1 || runs > 100000) {
    std::fprintf(stderr, "usage: weft_maglev_bench [RUNS]  (1..100000, default 50)\n");
    return 2;
  }
  const Case cases[] = {
      {"65537 x 100", 65537, 100, Weights::kEqual},  // the target: under 5 ms
      {"65537 x 10", 65537, 10, Weights::kEqual},    // few backends, long preference walks
      {"65537 x 655", 65537, 655, Weights::kEqual},  // the most the default size allows
      {"4099 x 40", 4099, 40, Weights::kEqual},      // a small service table
      {"65537 x 100 w 1..10", 65537, 100, Weights::kRamp},
      {"65537 x 100 w 1..65535", 65537, 100, Weights::kSkewed},  // one 65535, others 1..99
  };
  const std::pair<const char*, MaglevFill> fills[] = {
      {"weft", MaglevFill::kAuto},
      {"weft/round", MaglevFill::kRounds},
      {"weft/heap", MaglevFill::kSchedule},
  };

  std::printf("%-24s %-10s %5s %10s %9s %12s\n", "case (slots x backends)", "impl", "runs",
              "median_ms", "p99_ms", "max_dev_slot");
  bool balanced = true;
  for (const Case& c : cases) {
    auto backends = makeBackends(c);
    bool equal = c.weights == Weights::kEqual;
    std::vector<uint32_t> table;

    for (const auto& [impl, fill] : fills) {
      if (equal && fill != MaglevFill::kAuto) {
        continue;  // equal weights always fill by rounds
      }
      bool failed = false;
      Timing t = timeRuns(
          runs,
          [&] {
            auto built = weft::lb::buildMaglevTableWith(backends, c.size, fill);
            if (!built.ok()) {
              std::fprintf(stderr, "%s: %s\n", c.name, built.error().message.c_str());
              failed = true;
              return std::vector<uint32_t>{};
            }
            return std::move(*built);
          },
          &table);
      if (failed) {
        return 1;
      }
      printRow(c, impl, runs, t, worstDeviation(table, backends));
      balanced = balanced && withinWeightBound(table, backends);
    }
    if (!equal) {
      continue;
    }

    // Equal weights: both must give every backend floor or ceil of size / n slots.
    double weft_dev = worstDeviation(table, backends);
    Timing ref_t = timeRuns(
        runs, [&] { return referenceMaglevTable(backends, c.size); }, &table);
    double ref_dev = worstDeviation(table, backends);
    printRow(c, "reference", runs, ref_t, ref_dev);
    balanced = balanced && weft_dev < 1.0 && ref_dev < 1.0;
  }
  std::printf("balance check: %s\n", balanced ? "ok" : "FAILED");
  return balanced ? 0 : 1;
}
