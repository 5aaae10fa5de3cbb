// A forward target's shard threads, kept for the target's life: each send
// round hands every shard its batches and waits until all are done, without
// creating a thread per shard per round (thread creation cost more than
// the sending). Internal to remote_write/forward.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tsvault::forward {

class ShardWorkers {
 public:
  ShardWorkers() = default;
  // Stops and joins the threads. REQUIRES: no Run in progress.
  ~ShardWorkers();
  ShardWorkers(const ShardWorkers&) = delete;
  ShardWorkers& operator=(const ShardWorkers&) = delete;

  // Calls work(i) for every i in [0, count), each on its own thread (shard
  // i always on thread i), and returns when all calls returned. Threads are
  // started on first use and kept. `work` must not throw. One Run at a
  // time. Returns false when a thread could not be started (the calls that
  // did run are complete).
  bool Run(size_t count, const std::function<void(size_t)>& work);

 private:
  struct Worker {
    std::thread thread;
    std::condition_variable wake;  // signalled when has_work is set
    bool has_work = false;         // guarded by mutex_
  };

  // Thread `index`: runs its part of each round it is woken for.
  void Loop(size_t index);

  std::mutex mutex_;
  std::condition_variable done_;  // a round finished, or workers_ grew
  // Guarded by mutex_ (workers_ is appended to by Run only, under it).
  const std::function<void(size_t)>* work_ = nullptr;
  size_t remaining_ = 0;  // calls of this round not finished
  bool stopping_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace tsvault::forward
