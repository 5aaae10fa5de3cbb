#include "remote_write/forward/shard_workers.h"

#include <system_error>

namespace tsvault::forward {

ShardWorkers::~ShardWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  for (auto& worker : workers_) worker->wake.notify_one();
  for (auto& worker : workers_) worker->thread.join();
}

bool ShardWorkers::Run(size_t count, const std::function<void(size_t)>& work) {
  bool started_all = true;
  while (workers_.size() < count) {
    auto worker = std::make_unique<Worker>();
    try {
      const size_t index = workers_.size();
      worker->thread = std::thread([this, index] { Loop(index); });
    } catch (const std::system_error&) {
      started_all = false;
      break;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);  // Loop reads workers_ under it
      workers_.push_back(std::move(worker));
    }
    done_.notify_all();
  }
  const size_t active = std::min(count, workers_.size());
  std::unique_lock<std::mutex> lock(mutex_);
  work_ = &work;
  remaining_ = active;
  // Only the threads of this round wake up.
  for (size_t i = 0; i < active; ++i) {
    workers_[i]->has_work = true;
    workers_[i]->wake.notify_one();
  }
  done_.wait(lock, [this] { return remaining_ == 0; });
  work_ = nullptr;
  return started_all;
}

void ShardWorkers::Loop(size_t index) {
  std::unique_lock<std::mutex> lock(mutex_);
  // The thread is pushed into workers_ right after it starts: wait for it.
  done_.wait(lock, [&] { return stopping_ || index < workers_.size(); });
  for (;;) {
    Worker& self = *workers_[index];
    self.wake.wait(lock, [&] { return stopping_ || self.has_work; });
    if (stopping_) return;
    self.has_work = false;
    const std::function<void(size_t)>* work = work_;
    lock.unlock();
    (*work)(index);
    lock.lock();
    if (--remaining_ == 0) done_.notify_all();
  }
}

}  // namespace tsvault::forward
