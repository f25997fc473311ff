#include <gtest/gtest.h>

#include <set>

#include "pipeline/buffer_pool.h"
#include "pipeline/file_transfer.h"

namespace hfm::pipeline {
namespace {

TEST(BufferPool, HandsOutEachBufferOnce) {
  BufferPool pool(3, 1024);
  std::set<size_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = pool.try_acquire();
    ASSERT_TRUE(id);
    ids.insert(*id);
    ASSERT_NE(pool.data(*id), nullptr);
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_FALSE(pool.try_acquire());  // the budget is a hard limit
  pool.release(*ids.begin());
  EXPECT_EQ(pool.available(), 1u);
  EXPECT_EQ(pool.try_acquire(), *ids.begin());
}

TEST(TransferSettings, BufferCountFollowsTheBudget) {
  TransferSettings s;
  s.part_size_bytes = 16ull << 20;
  s.memory_budget_bytes = 512ull << 20;
  EXPECT_EQ(s.buffer_count(), 32u);
  s.memory_budget_bytes = 40ull << 20;
  EXPECT_EQ(s.buffer_count(), 2u);  // rounded down
  s.memory_budget_bytes = 1;
  EXPECT_EQ(s.buffer_count(), 2u);  // never fewer than two: one fetching, one hashing
}

}  // namespace
}  // namespace hfm::pipeline
