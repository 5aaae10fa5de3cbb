#include "query/engine/query_gate.h"

#include <gtest/gtest.h>

#include <thread>

namespace tsvault::query {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

TEST(QueryGateTest, WaitsForAFreeSlotWithinTheDeadline) {
  QueryGate gate(2);
  QueryGate::Slot first, second, third;
  ASSERT_TRUE(first.Acquire(&gate, Clock::now() + milliseconds(100), nullptr).ok());
  ASSERT_TRUE(second.Acquire(&gate, Clock::now() + milliseconds(100), nullptr).ok());
  EXPECT_EQ(gate.active(), 2);

  // Full: the third waits until its deadline, then times out.
  const auto start = Clock::now();
  Status s = third.Acquire(&gate, start + milliseconds(80), nullptr);
  EXPECT_TRUE(s.code() == Status::Code::kDeadlineExceeded) << s.ToString();
  EXPECT_EQ(s.message(), "query timed out in query queue");
  EXPECT_GE(Clock::now() - start, milliseconds(80));
  EXPECT_EQ(gate.active(), 2);

  // A slot freed while waiting is taken.
  std::thread releaser([&] {
    std::this_thread::sleep_for(milliseconds(50));
    first.Release();
  });
  s = third.Acquire(&gate, Clock::now() + milliseconds(5000), nullptr);
  releaser.join();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(gate.active(), 2);
  second.Release();
  third.Release();
  EXPECT_EQ(gate.active(), 0);
}

TEST(QueryGateTest, CancelledWhileWaiting) {
  QueryGate gate(1);
  QueryGate::Slot held, waiting;
  ASSERT_TRUE(held.Acquire(&gate, Clock::now() + milliseconds(100), nullptr).ok());
  std::atomic<bool> cancelled{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(30));
    cancelled = true;
  });
  Status s = waiting.Acquire(&gate, Clock::now() + milliseconds(10000), &cancelled);
  canceller.join();
  EXPECT_TRUE(s.code() == Status::Code::kCancelled) << s.ToString();
  EXPECT_EQ(gate.active(), 1);
}

TEST(QueryGateTest, SlotReleasesOnDestructionAndZeroIsUnlimited) {
  QueryGate gate(1);
  {
    QueryGate::Slot slot;
    ASSERT_TRUE(slot.Acquire(&gate, Clock::now(), nullptr).ok());
    EXPECT_EQ(gate.active(), 1);
  }
  EXPECT_EQ(gate.active(), 0);

  QueryGate unlimited(0);
  std::vector<QueryGate::Slot> slots(100);
  for (auto& slot : slots) ASSERT_TRUE(slot.Acquire(&unlimited, Clock::now(), nullptr).ok());
  EXPECT_EQ(unlimited.active(), 100);
}

// Under contention from many threads the gate never admits more than its
// capacity, and every slot comes back.
TEST(QueryGateTest, ManyThreadsNeverExceedCapacity) {
  QueryGate gate(3);
  std::atomic<int> inside{0}, most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        QueryGate::Slot slot;
        ASSERT_TRUE(slot.Acquire(&gate, Clock::now() + milliseconds(10000), nullptr).ok());
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --inside;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(gate.active(), 0);
}

}  // namespace
}  // namespace tsvault::query
