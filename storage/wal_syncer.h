// Group fsync of RocksDB's write-ahead log for WalSyncMode::kBatch
// (internal). Writers call WaitDurable() after their write; one sync covers
// every write that finished before it started, and syncs are issued at most
// once per interval, so concurrent writers share fsyncs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "common/status.h"

namespace tsvault::storage {

class WalSyncer {
 public:
  // `sync` performs one fsync of the log (DB::SyncWAL). `observe` (may be
  // empty) receives the seconds each sync took. Both are called without
  // mutex_ held, by one thread at a time (the current leader).
  WalSyncer(std::function<Status()> sync, std::chrono::milliseconds interval,
            std::function<void(double)> observe);

  // Blocks until a sync that started after this call has completed; OK when
  // it and every sync before it succeeded. Once a sync failed, every write
  // it covered and every later call fails (IOError) without syncing again:
  // a failed fsync may have lost pages that no later fsync restores. May
  // block for the interval plus one fsync; DBImpl::Append calls it after
  // releasing head_mutex_.
  // REQUIRES: mutex_ not held.
  Status WaitDurable();

  // Each takes mutex_ briefly.
  uint64_t syncs() const;
  double last_sync_seconds() const;

 private:
  // Immutable after construction; no lock.
  const std::function<Status()> sync_;
  const std::chrono::milliseconds interval_;
  const std::function<void(double)> observe_;

  // Guards started_, completed_, in_progress_, first_failed_, failure_,
  // last_start_ and last_sync_seconds_. Released while the leader sleeps out the
  // interval and while it runs sync_ and observe_; in_progress_ keeps other
  // writers from starting a sync meanwhile.
  mutable std::mutex mutex_;
  // Notified, with mutex_ held, when a sync completes; followers wait on it.
  std::condition_variable done_;
  // All guarded by mutex_.
  uint64_t started_ = 0;    // syncs started
  uint64_t completed_ = 0;  // syncs completed (the latest is `started_` when idle)
  bool in_progress_ = false;
  uint64_t first_failed_ = 0;  // the number of the first sync that failed; 0: none
  Status failure_;             // what WaitDurable returns from then on
  std::chrono::steady_clock::time_point last_start_{};
  double last_sync_seconds_ = 0;
};

}  // namespace tsvault::storage
