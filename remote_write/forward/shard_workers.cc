#include "remote_write/forward/shard_workers.h"

#include <system_error>

namespace tsvault::forward {

ShardWorkers::~ShardWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

bool ShardWorkers::Run(size_t count, const std::function<void(size_t)>& work) {
  bool started_all = true;
  while (threads_.size() < count) {
    try {
      const size_t index = threads_.size();
      // The thread starts waiting for the round after the current one
      // (round_ changes only here, in Run, so this read is safe).
      threads_.emplace_back([this, index, round = round_] { Loop(index, round); });
    } catch (const std::system_error&) {
      started_all = false;
      break;
    }
  }
  const size_t active = std::min(count, threads_.size());
  std::unique_lock<std::mutex> lock(mutex_);
  work_ = &work;
  active_count_ = active;
  remaining_ = active;
  ++round_;
  start_.notify_all();
  done_.wait(lock, [this] { return remaining_ == 0; });
  work_ = nullptr;
  return started_all;
}

void ShardWorkers::Loop(size_t index, uint64_t seen_round) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    start_.wait(lock, [&] { return stopping_ || round_ != seen_round; });
    if (stopping_) return;
    seen_round = round_;
    if (index >= active_count_) continue;
    const std::function<void(size_t)>* work = work_;
    lock.unlock();
    (*work)(index);
    lock.lock();
    if (--remaining_ == 0) done_.notify_one();
  }
}

}  // namespace tsvault::forward
