// SPDX-License-Identifier: Apache-2.0
// weightedSlots: exact shares, smooth interleaving, the slot bound, and the controller laying
// a weighted service out over its slots.
#include "userspace/controller/weighted_slots.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/unit/controller_test_util.h"

namespace weft {
namespace {

using testing_util::backend;
using testing_util::ControllerFixture;
using testing_util::service;

std::map<size_t, size_t> counts(const std::vector<size_t>& slots) {
  std::map<size_t, size_t> out;
  for (size_t index : slots) {
    ++out[index];
  }
  return out;
}

TEST(WeightedSlots, SharesAreExactAfterReducingByTheCommonDivisor) {
  auto slots = weightedSlots({300, 100}, 1024);
  EXPECT_EQ(slots.size(), 4u);
  EXPECT_EQ(counts(slots), (std::map<size_t, size_t>{{0, 3}, {1, 1}}));

  slots = weightedSlots({90, 10}, 1024);
  EXPECT_EQ(slots.size(), 10u);
  EXPECT_EQ(counts(slots), (std::map<size_t, size_t>{{0, 9}, {1, 1}}));

  slots = weightedSlots({7, 7, 7}, 1024);
  EXPECT_EQ(slots, (std::vector<size_t>{0, 1, 2}));
}

TEST(WeightedSlots, OrderIsSmoothNotInRuns) {
  // 5:1:1 is a, a, b, a, c, a, a in smooth weighted round robin, never five a's in a row.
  EXPECT_EQ(weightedSlots({5, 1, 1}, 1024), (std::vector<size_t>{0, 0, 1, 0, 2, 0, 0}));
  // Every prefix is within one slot of the exact share.
  auto slots = weightedSlots({3, 2}, 1024);
  std::map<size_t, double> taken;
  for (size_t n = 1; n <= slots.size(); ++n) {
    ++taken[slots[n - 1]];
    EXPECT_LE(std::abs(taken[0] - 0.6 * static_cast<double>(n)), 1.0) << n;
  }
}

TEST(WeightedSlots, LargeCoprimeWeightsAreScaledToTheSlotBound) {
  auto slots = weightedSlots({65535, 1, 1000}, 1024);
  ASSERT_EQ(slots.size(), 1024u);
  auto c = counts(slots);
  EXPECT_EQ(c[1], 1u);  // every backend keeps at least one slot
  double share = static_cast<double>(c[0]) / 1024.0;
  EXPECT_NEAR(share, 65535.0 / 66536.0, 0.002);
}

TEST(WeightedSlots, EmptyInputGivesNoSlots) {
  EXPECT_TRUE(weightedSlots({}, 1024).empty());
}

class WeightedControllerTest : public ControllerFixture {};

TEST_F(WeightedControllerTest, SlotsFollowWeightsAndAWeightChangeFlipsTheSet) {
  auto web =
      service("web", "10.96.0.10", 80, {backend("127.0.0.1", 8081), backend("127.0.0.2", 8082)});
  web.algorithm = WEFT_LB_WEIGHTED;
  web.backends[0].weight = 300;
  web.backends[1].weight = 100;
  applyOk({web});
  EXPECT_EQ(valueOf(web).count, 4);
  EXPECT_EQ(valueOf(web).algo, WEFT_LB_WEIGHTED);
  auto ids = activeIds(web);
  uint32_t a = ctl_.backendId(web.backends[0], WEFT_PROTO_TCP);
  uint32_t b = ctl_.backendId(web.backends[1], WEFT_PROTO_TCP);
  EXPECT_EQ(ids, (std::vector<uint32_t>{a, a, b, a}));

  uint32_t generation = valueOf(web).generation;
  web.backends[1].weight = 300;
  applyOk({web});
  EXPECT_EQ(activeIds(web), (std::vector<uint32_t>{a, b}));
  EXPECT_EQ(valueOf(web).generation, generation + 1);
}

}  // namespace
}  // namespace weft
