#include "query/engine/query_gate.h"

#include <algorithm>

namespace tsvault::query {

namespace {
// How often a waiting query looks at its cancellation flag.
constexpr auto kCancelPollInterval = std::chrono::milliseconds(50);
}  // namespace

Status QueryGate::Enter(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>* cancelled) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (capacity_ <= 0) {
    ++active_;
    return Status::OK();
  }
  while (active_ >= capacity_) {
    if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
      return Status::Cancelled("query was canceled in query queue");
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Status::DeadlineExceeded("query timed out in query queue");
    freed_.wait_until(lock, std::min(deadline, now + kCancelPollInterval));
  }
  ++active_;
  return Status::OK();
}

void QueryGate::Leave() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --active_;
  }
  freed_.notify_one();
}

int QueryGate::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return active_;
}

Status QueryGate::Slot::Acquire(QueryGate* gate, std::chrono::steady_clock::time_point deadline,
                                const std::atomic<bool>* cancelled) {
  Release();
  Status s = gate->Enter(deadline, cancelled);
  if (s.ok()) gate_ = gate;
  return s;
}

void QueryGate::Slot::Release() {
  if (gate_ != nullptr) gate_->Leave();
  gate_ = nullptr;
}

}  // namespace tsvault::query
