// SPDX-License-Identifier: Apache-2.0
// IdAllocator: lowest free id first, reservation of adopted ids, exhaustion.
#include "userspace/controller/id_allocator.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(IdAllocatorTest, HandsOutLowestFreeIdFromOne) {
  IdAllocator ids(10);
  EXPECT_EQ(*ids.allocate(), 1u);
  EXPECT_EQ(*ids.allocate(), 2u);
  EXPECT_EQ(*ids.allocate(), 3u);
  ids.release(2);
  EXPECT_FALSE(ids.inUse(2));
  EXPECT_EQ(*ids.allocate(), 2u);
  EXPECT_EQ(*ids.allocate(), 4u);
}

TEST(IdAllocatorTest, ReserveLeavesGapsFree) {
  IdAllocator ids(10);
  ids.reserve(3);
  ids.reserve(5);
  EXPECT_TRUE(ids.inUse(3));
  EXPECT_TRUE(ids.inUse(5));
  EXPECT_FALSE(ids.inUse(4));
  EXPECT_EQ(*ids.allocate(), 1u);
  EXPECT_EQ(*ids.allocate(), 2u);
  EXPECT_EQ(*ids.allocate(), 4u);
  EXPECT_EQ(*ids.allocate(), 6u);
  ids.reserve(0);
  ids.reserve(11);
  EXPECT_FALSE(ids.inUse(0));
  EXPECT_FALSE(ids.inUse(11));
}

TEST(IdAllocatorTest, FailsWhenExhausted) {
  IdAllocator ids(2);
  EXPECT_TRUE(ids.allocate().ok());
  EXPECT_TRUE(ids.allocate().ok());
  auto third = ids.allocate();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().message, "all 2 ids are in use");
  ids.release(1);
  EXPECT_EQ(*ids.allocate(), 1u);
}

TEST(IdAllocatorTest, ReleaseOfFreeIdIsHarmless) {
  IdAllocator ids(5);
  ids.release(3);
  ids.release(0);
  EXPECT_EQ(*ids.allocate(), 1u);
  ids.release(1);
  ids.release(1);
  EXPECT_EQ(*ids.allocate(), 1u);
  EXPECT_EQ(*ids.allocate(), 2u);
}

}  // namespace
}  // namespace weft
