// ShardWorkers: every shard of every round runs once, on its own kept
// thread, and Run waits for all of them.
#include "remote_write/forward/shard_workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace tsvault::forward {
namespace {

TEST(ShardWorkersTest, EveryShardRunsOncePerRoundOnAKeptThread) {
  ShardWorkers workers;
  std::mutex mutex;
  std::map<size_t, std::set<std::thread::id>> threads_by_shard;
  for (int round = 0; round < 200; ++round) {
    const size_t count = 1 + static_cast<size_t>(round % 7);
    std::vector<std::atomic<int>> calls(count);
    std::atomic<int> finished{0};
    ASSERT_TRUE(workers.Run(count, [&](size_t shard) {
      if (shard == 0 && round % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ++calls[shard];
      {
        std::lock_guard<std::mutex> lock(mutex);
        threads_by_shard[shard].insert(std::this_thread::get_id());
      }
      ++finished;
    }));
    EXPECT_EQ(finished.load(), static_cast<int>(count)) << "Run returned before every shard finished";
    for (size_t i = 0; i < count; ++i) EXPECT_EQ(calls[i].load(), 1) << round << " " << i;
  }
  ASSERT_EQ(threads_by_shard.size(), 7u);
  std::set<std::thread::id> all;
  for (const auto& [shard, ids] : threads_by_shard) {
    EXPECT_EQ(ids.size(), 1u) << "shard " << shard << " moved threads";
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), 7u);
  EXPECT_EQ(all.count(std::this_thread::get_id()), 0u);
}

TEST(ShardWorkersTest, ZeroShardsAndDestructionWithoutRounds) {
  { ShardWorkers unused; }
  ShardWorkers workers;
  EXPECT_TRUE(workers.Run(0, [](size_t) { ADD_FAILURE(); }));
}

}  // namespace
}  // namespace tsvault::forward
