// The downsampling policy of `tsvault serve`: a background thread that
// periodically seals the rollup windows (storage::DB::Downsample) that
// ended more than a grace period ago, so late senders still land in raw
// data first, and then applies the retention policy (compaction/
// retention.h), which can only drop what is rolled up. The mechanism
// (windows, spans, stale marks, cutoffs) lives in storage/; this decides
// when and how far.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/status.h"
#include "compaction/retention.h"
#include "storage/db.h"

namespace prometheus {
class Registry;
}

namespace tsvault::compaction {

struct DownsamplerOptions {
  // Windows are sealed once they ended this long ago (--downsample.grace).
  std::chrono::milliseconds grace{std::chrono::hours(1)};
  // How often the thread runs (--downsample.interval).
  std::chrono::milliseconds interval{std::chrono::minutes(1)};
  // The wall clock in Unix milliseconds; tests replace it.
  std::function<int64_t()> now_ms;
  // Applied after each downsampling pass; none: nothing is ever dropped.
  std::optional<RetentionPolicy> retention;
};

// Runs DB::Downsample in the background. Thread-safe.
class Downsampler {
 public:
  // `db` must outlive the downsampler. `registry` (may be null) receives
  // tsvault_downsample_* metrics.
  Downsampler(storage::DB* db, DownsamplerOptions options, prometheus::Registry* registry);
  // Stops the thread (waiting for a run in progress to finish).
  ~Downsampler();
  Downsampler(const Downsampler&) = delete;
  Downsampler& operator=(const Downsampler&) = delete;

  // Starts the background thread; the first run is immediate.
  void Start();
  // One run now, on the caller's thread: seals up to now - grace, then
  // applies the retention policy (if any) with space reclaimed.
  Status RunOnce(storage::DownsampleStats* stats);

 private:
  void Loop();

  struct Metrics;
  storage::DB* const db_;
  const DownsamplerOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<RetentionEnforcer> retention_;  // null without a policy
  std::mutex mutex_;  // guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // started by Start, joined by the destructor
};

// Where a run at `now_ms` seals to: windows ending at or before now - grace.
int64_t DownsampleSealPoint(int64_t now_ms, std::chrono::milliseconds grace);

}  // namespace tsvault::compaction
