// Bounds how many queries evaluate at once (Prometheus'
// --query.max-concurrency). A query waits for a free slot until its own
// deadline; the wait counts against its timeout, as in Prometheus.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "common/status.h"

namespace tsvault::query {

class QueryGate {
 public:
  // `capacity` <= 0 means unlimited.
  explicit QueryGate(int capacity) : capacity_(capacity) {}
  QueryGate(const QueryGate&) = delete;
  QueryGate& operator=(const QueryGate&) = delete;

  // Takes a slot, waiting while all are busy. DeadlineExceeded ("query
  // timed out in query queue") when `deadline` passes first; Cancelled when
  // `*cancelled` becomes true while waiting (polled). Every OK must be
  // paired with one Leave(); prefer Slot. Enter, Leave and active() take
  // mutex_; all may be called concurrently.
  Status Enter(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>* cancelled);
  // Frees a slot taken by Enter.
  void Leave();

  // Slots in use now.
  int active() const;

  // Holds a slot for its lifetime once Enter succeeded. Not thread-safe:
  // one Slot belongs to one query.
  class Slot {
   public:
    Slot() = default;
    ~Slot() { Release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    // Enters `gate`; the slot is held only when OK is returned.
    Status Acquire(QueryGate* gate, std::chrono::steady_clock::time_point deadline,
                   const std::atomic<bool>* cancelled);
    void Release();

   private:
    QueryGate* gate_ = nullptr;
  };

 private:
  const int capacity_;  // Immutable.
  // Guards active_.
  mutable std::mutex mutex_;
  // Notified (after mutex_ is released) by Leave; Enter also wakes every
  // 50 ms to poll its cancellation flag and deadline.
  std::condition_variable freed_;
  int active_ = 0;  // Guarded by mutex_.
};

}  // namespace tsvault::query
