// Rollups: the per-window aggregates that downsampled resolutions store
// (docs/downsampling.md). A window of resolution `res` ending at `end` (a
// multiple of res, aligned to the Unix epoch in UTC) holds the samples with
// timestamps in (end - res, end]. With query times and ranges that are
// multiples of res, a range [t - range, t] is exactly range/res whole
// windows plus at most one boundary sample (the last sample of the window
// ending at t - range, when it sits exactly there).
//
// A FloatWindow keeps what PromQL needs to compute count/sum/min/max/
// last/present_over_time, rate, increase, delta, resets, changes and
// instant selectors as on the raw samples: windows merge (MergeWindow) with
// the same result as folding the raw samples of both, so a 1h window is
// built from twelve 5m windows and a range from its windows.
#pragma once

#include <cstdint>
#include <vector>

namespace tsvault::model {

// The resolutions tsvault keeps besides raw, in milliseconds.
inline constexpr int64_t kResolution5m = 5 * 60 * 1000;
inline constexpr int64_t kResolution1h = 60 * 60 * 1000;
inline constexpr int64_t kResolution1d = 24 * 60 * 60 * 1000;

// Rollups cover samples with |t| < 2^62 ms (some 146 million years), so
// window arithmetic never overflows; samples beyond are raw-only.
inline constexpr int64_t kRollupTimeLimitMs = int64_t{1} << 62;

// "raw" for 0, "5m", "1h", "1d" for the rollup resolutions (the names
// max_source_resolution, /metrics and the tools use); "unknown" otherwise.
const char* ResolutionName(int64_t resolution_ms);

// The end of the window of resolution `resolution_ms` that holds time t:
// the smallest multiple of resolution_ms that is >= t.
int64_t WindowEnd(int64_t t, int64_t resolution_ms);
// The largest multiple of `resolution_ms` that is <= t (the end of the last
// whole window at or before t).
int64_t WindowFloor(int64_t t, int64_t resolution_ms);

// The aggregate of one series' float samples in one window. Stale markers
// count in no field but `ends_stale`. All fields describe the non-stale
// samples in timestamp order.
struct FloatWindow {
  int64_t end_ms = 0;    // the window is (end_ms - resolution, end_ms]
  uint32_t count = 0;    // non-stale samples; 0 for a window of stale markers only
  int64_t first_t = 0;   // first non-stale sample (count > 0)
  double first_v = 0;
  int64_t last_t = 0;    // last non-stale sample (count > 0)
  double last_v = 0;
  double min = 0;        // Prometheus' min_over_time fold: NaN only if all are NaN
  double max = 0;        // likewise max_over_time
  double sum = 0;        // Kahan-Neumaier state of the sum (KahanAdd):
  double sum_compensation = 0;  //   the sum is sum + sum_compensation
  // Sum of the value before each drop (cur < prev) between consecutive
  // samples: what Prometheus' extrapolatedRate adds to last - first for a
  // counter. +0.0 when the counter never went down.
  double reset_compensation = 0;
  uint32_t resets = 0;   // consecutive pairs with cur < prev
  uint32_t changes = 0;  // consecutive pairs with cur != prev (NaN equals NaN)
  bool ends_stale = false;  // the last raw sample of the window is a stale marker
  // The window also holds native histogram samples, which the float fields
  // do not describe: a reader must use the raw samples for this series.
  bool has_histograms = false;

  friend bool operator==(const FloatWindow&, const FloatWindow&) = default;
};

// Folds `later` (the next window in time, or a boundary sample as a window
// of count 1) into *earlier. Counts, firsts, lasts, min, max, resets,
// changes and the reset compensation are exactly those of the combined
// samples; pairs across the two are compared as Prometheus compares
// consecutive samples. The sum is merged as Kahan states (within a few ulps
// of summing all samples in one pass). end_ms and ends_stale become
// later's; has_histograms is set if either has it. Windows without float
// samples (count 0) take part in no pair.
void MergeWindow(const FloatWindow& later, FloatWindow* earlier);

// Builds the windows of one series from its raw float samples.
class FloatWindowBuilder {
 public:
  explicit FloatWindowBuilder(int64_t resolution_ms) : resolution_ms_(resolution_ms) {}

  // Adds a float sample; timestamps must increase strictly. Stale markers (the
  // stale NaN bit pattern) are added too: they only set ends_stale.
  void Add(int64_t t, double value);

  // Notes a native histogram sample (or a histogram stale marker): the
  // window gets has_histograms; ends_stale follows `stale_marker`.
  void AddHistogram(int64_t t, bool stale_marker);

  // The windows completed so far and the open one, in order; windows with
  // neither samples nor stale markers are absent. Leaves the builder empty.
  std::vector<FloatWindow> Finish();

 private:
  int64_t resolution_ms_;
  std::vector<FloatWindow> windows_;
  bool has_previous_ = false;  // a non-stale sample in the current window

  // The window holding t, opened if needed.
  FloatWindow& WindowFor(int64_t t);
};

}  // namespace tsvault::model
