#include "storage/wal_syncer.h"

#include <thread>

namespace tsvault::storage {

WalSyncer::WalSyncer(std::function<Status()> sync, std::chrono::milliseconds interval,
                     std::function<void(double)> observe)
    : sync_(std::move(sync)), interval_(interval), observe_(std::move(observe)) {}

Status WalSyncer::WaitDurable() {
  std::unique_lock<std::mutex> lock(mutex_);
  // After a failed fsync nothing written since is durable either: the
  // kernel may have dropped the failed pages, leaving a hole in the log
  // (PostgreSQL's "fsyncgate"), and a later successful fsync does not
  // bring them back. The failure is permanent for this process.
  if (first_failed_ != 0) return failure_;
  // Our write is complete; any sync that *starts* from now on covers it.
  const uint64_t needed = started_ + 1;
  while (completed_ < needed) {
    if (in_progress_) {
      done_.wait(lock);
      continue;
    }
    // Become the leader of the next sync. Wait out the interval since the
    // previous sync so that followers arriving meanwhile share this one.
    in_progress_ = true;
    auto earliest = last_start_ + interval_;
    lock.unlock();
    auto now = std::chrono::steady_clock::now();
    if (now < earliest) std::this_thread::sleep_until(earliest);
    lock.lock();
    const uint64_t mine = ++started_;
    last_start_ = std::chrono::steady_clock::now();
    lock.unlock();
    auto begin = std::chrono::steady_clock::now();
    Status status = sync_();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    if (observe_) observe_(seconds);
    lock.lock();
    completed_ = mine;
    if (!status.ok() && first_failed_ == 0) {
      first_failed_ = mine;
      failure_ = Status::IOError("syncing the write-ahead log failed (" + status.ToString() +
                                 "); no write is acknowledged from then on until tsvault restarts");
    }
    last_sync_seconds_ = seconds;
    in_progress_ = false;
    done_.notify_all();
  }
  // The sync numbered `needed` covered this write: durable if it, and every
  // sync before it, succeeded.
  if (first_failed_ != 0 && first_failed_ <= needed) return failure_;
  return Status::OK();
}

uint64_t WalSyncer::syncs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return completed_;
}

double WalSyncer::last_sync_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_sync_seconds_;
}

}  // namespace tsvault::storage
