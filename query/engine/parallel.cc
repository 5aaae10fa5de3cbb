// The engine's worker threads and the parallel evaluation of query parts
// (query/engine/parallel.h).
#include "query/engine/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <optional>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void WorkerPool::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void WorkerPool::Run() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing is left
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

namespace {

// One RunInParts call, shared with the worker tasks: a task that starts
// after every part was taken finds nothing to do and touches nothing else.
struct PartRun {
  const std::function<void(size_t, QueryState*)>* part = nullptr;
  std::vector<std::unique_ptr<QueryState>> states;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::exception_ptr> errors;  // per part; written by the part's thread only

  std::mutex mutex;
  std::condition_variable all_done;
  size_t done = 0;  // GUARDED_BY(mutex)

  // Takes parts until none is left.
  void Work() {
    while (true) {
      const size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= states.size()) return;
      try {
        if (!failed.load(std::memory_order_relaxed)) (*part)(i, states[i].get());
      } catch (const SiblingFailed&) {
        // Another part's failure is the one reported.
      } catch (...) {
        errors[i] = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (++done == states.size()) all_done.notify_all();
    }
  }
};

}  // namespace

void RunInParts(QueryState* state, size_t parts, const std::function<void(size_t, QueryState*)>& part) {
  auto run = std::make_shared<PartRun>();
  run->part = &part;
  run->errors.resize(parts);
  run->states.reserve(parts);
  for (size_t i = 0; i < parts; ++i) {
    run->states.push_back(std::make_unique<QueryState>());
    run->states.back()->ForkFrom(state, &run->failed);
  }
  const int helpers = state->workers == nullptr
                          ? 0
                          : static_cast<int>(std::min<size_t>(parts - 1, static_cast<size_t>(state->workers->threads())));
  for (int i = 0; i < helpers; ++i) state->workers->Submit([run] { run->Work(); });
  run->Work();
  {
    std::unique_lock<std::mutex> lock(run->mutex);
    run->all_done.wait(lock, [&] { return run->done == parts; });
  }
  for (auto& part_state : run->states) part_state->JoinParent();
  for (const std::exception_ptr& error : run->errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace tsvault::query::eval
