// Evaluating parts of one query on several threads (internal to the
// engine). A query's own thread always takes part, so a query never waits
// for a free worker: when every worker is busy with other queries, it
// evaluates all of its parts itself, one after the other.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tsvault::query::eval {

struct QueryState;

// Threads that run tasks handed to them, in the order handed.
// Thread-safe.
class WorkerPool {
 public:
  // Starts `threads` threads (none when threads <= 0).
  explicit WorkerPool(int threads);
  // Finishes the queued tasks, then stops the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // How many threads run tasks.
  int threads() const { return static_cast<int>(threads_.size()); }
  // Queues `task` for the next free thread.
  void Submit(std::function<void()> task);

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                    // GUARDED_BY(mutex_)
  std::vector<std::thread> threads_;
};

// Runs part(i, state_i) for i in [0, parts): on the calling thread and on
// up to parts - 1 of `state`'s workers, each part with its own QueryState
// forked from `state` (QueryState::ForkFrom) and joined back in part order
// once all have ended. When a part fails, the others stop at their next
// interrupt check, and the failure of the lowest-numbered failed part is
// rethrown (an EvalError, or whatever else it threw). Each part must write
// only its own output.
void RunInParts(QueryState* state, size_t parts, const std::function<void(size_t part, QueryState* part_state)>& part);

}  // namespace tsvault::query::eval
