// WalSyncer (group fsync for --storage.wal-sync=batch): writers share
// syncs, each waiter gets the result of a sync that covered its write, and
// a failed fsync fails every write it covered and every later one, even
// when a later fsync succeeds.
#include "storage/wal_syncer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

namespace tsvault::storage {
namespace {

TEST(WalSyncerTest, ConcurrentWritersShareSyncs) {
  std::atomic<int> calls{0};
  WalSyncer syncer([&] { ++calls; std::this_thread::sleep_for(std::chrono::milliseconds(5)); return Status::OK(); },
                   std::chrono::milliseconds(2), nullptr);
  std::vector<std::future<Status>> waiters;
  for (int i = 0; i < 16; ++i) waiters.push_back(std::async(std::launch::async, [&] { return syncer.WaitDurable(); }));
  for (auto& waiter : waiters) EXPECT_TRUE(waiter.get().ok());
  EXPECT_GE(calls.load(), 1);
  EXPECT_LE(calls.load(), 16);
  EXPECT_EQ(syncer.syncs(), static_cast<uint64_t>(calls.load()));
}

TEST(WalSyncerTest, AFailedSyncFailsItsWritersAndEveryLaterOne) {
  std::atomic<int> calls{0};
  WalSyncer syncer(
      [&] { return ++calls == 1 ? Status::IOError("fsync: input/output error") : Status::OK(); },
      std::chrono::milliseconds(0), nullptr);
  Status first = syncer.WaitDurable();
  EXPECT_TRUE(first.IsIOError());
  EXPECT_NE(first.message().find("fsync: input/output error"), std::string::npos) << first.ToString();
  // The next fsync would succeed, but the pages the failed one lost are not
  // coming back: nothing is acknowledged any more, and no sync is tried.
  EXPECT_TRUE(syncer.WaitDurable().IsIOError());
  EXPECT_TRUE(syncer.WaitDurable().IsIOError());
  EXPECT_EQ(calls.load(), 1);
}

TEST(WalSyncerTest, EachWaiterGetsTheSyncThatCoveredItsWrite) {
  // Sync 1 succeeds but is slow; a writer arriving during it needs sync 2,
  // which fails. The first writer is durable, the second is not, although
  // the failure is known by the time the first one is told.
  std::promise<void> release_first;
  std::shared_future<void> released = release_first.get_future().share();
  std::atomic<int> calls{0};
  WalSyncer syncer(
      [&] {
        if (++calls == 1) {
          released.wait();
          return Status::OK();
        }
        return Status::IOError("fsync failed");
      },
      std::chrono::milliseconds(0), nullptr);
  auto first = std::async(std::launch::async, [&] { return syncer.WaitDurable(); });
  while (calls.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto second = std::async(std::launch::async, [&] { return syncer.WaitDurable(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the second write waits for sync 2 either way
  release_first.set_value();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(second.get().IsIOError());
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace tsvault::storage
