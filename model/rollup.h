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
// instant selectors as on the raw samples, for float samples and (in its
// HistogramWindow) native histograms: windows merge (MergeWindow) with the
// same result as folding the raw samples of both, so a 1h window is built
// from twelve 5m windows and a range from its windows.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/float_histogram.h"
#include "model/value.h"

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

// The aggregate of one series' native histogram samples in one window
// (docs/downsampling.md, "Native histograms"): what rate, increase and
// delta need (Prometheus' histogramRate over the window's samples), and
// count/last/present_over_time and instant selectors. Histograms are kept
// in their float form (ToFloatHistogram), counter-reset hint included.
// Immutable once built; windows share it.
struct HistogramWindow {
  uint32_t count = 0;   // histogram samples (>= 1)
  int64_t first_t = 0;  // first and last sample
  int64_t last_t = 0;
  std::shared_ptr<const FloatHistogram> first;
  std::shared_ptr<const FloatHistogram> last;
  int32_t min_schema = 0;  // lowest schema among the samples
  uint32_t resets = 0;     // consecutive pairs where cur.DetectReset(prev)
  // The sum of `prev` over those pairs, added in time order; null when
  // resets == 0. rate/increase add it to last - first, as Prometheus adds
  // each pre-reset histogram.
  std::shared_ptr<const FloatHistogram> reset_compensation;
  // Consecutive zero thresholds differ, or a bucket reaches into the zero
  // bucket: adding per-window sums may then widen zero buckets differently
  // from adding one histogram at a time, so a counter rate with resets is
  // read from raw samples.
  bool irregular_zero = false;

  // Compares every field, histograms by value.
  bool operator==(const HistogramWindow& other) const;
};

// A window of one histogram sample at t.
HistogramWindow OneHistogramWindow(int64_t t, std::shared_ptr<const FloatHistogram> histogram);

// True when a bucket of h lies (partly) inside its zero bucket.
bool HasBucketsInZeroBucket(const FloatHistogram& h);

// Folds `later` (the next window in time) into *earlier: counts, firsts,
// lasts, the minimum schema, resets and the reset compensation are those of
// the combined samples, the pair across compared with DetectReset as
// Prometheus compares consecutive histograms. A side with count 0 changes
// nothing.
void MergeHistogramWindow(const HistogramWindow& later, HistogramWindow* earlier);

// The aggregate of one series' samples in one window. Stale markers (and
// histograms that PromQL cannot read, which it skips) count in no field but
// `ends_stale`. The float fields describe the non-stale float samples in
// timestamp order; `histograms` the native histogram samples.
struct FloatWindow {
  int64_t end_ms = 0;    // the window is (end_ms - resolution, end_ms]
  uint32_t count = 0;    // non-stale float samples; 0 when there are none
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
  // The window holds native histogram samples. They are described by
  // `histograms`, or, when that is null, not at all ("unknown": a window
  // written before histogram rollups existed), and a reader must then use
  // the raw samples for this series.
  bool has_histograms = false;
  std::shared_ptr<const HistogramWindow> histograms;

  // True for a window whose histogram samples are not described.
  bool histograms_unknown() const { return has_histograms && !histograms; }
  // Float and histogram samples together.
  uint64_t total_count() const { return uint64_t{count} + (histograms ? histograms->count : 0); }

  // Compares every field, histogram windows by value.
  bool operator==(const FloatWindow& other) const;
};

// Folds `later` (the next window in time, or a boundary sample as a window
// of count 1) into *earlier. Counts, firsts, lasts, min, max, resets,
// changes and the reset compensation are exactly those of the combined
// samples; pairs across the two are compared as Prometheus compares
// consecutive samples. The sum is merged as Kahan states (within a few ulps
// of summing all samples in one pass). end_ms and ends_stale become
// later's. Float pairs skip histograms and histogram pairs skip floats, as
// PromQL's range functions read the two apart; windows without samples of
// a kind take part in no pair of that kind. Unknown histograms on either
// side make the result's unknown.
void MergeWindow(const FloatWindow& later, FloatWindow* earlier);

// The window of the one sample of `window` at time `at` (its last float or
// last histogram sample), with end_ms = at; a window without samples when
// neither lies at `at`. The sample at the start of a range [at, t] that
// PromQL includes (model/rollup.h's header comment).
FloatWindow BoundaryWindow(const FloatWindow& window, int64_t at);

// Builds the windows of one series from its raw float samples.
class FloatWindowBuilder {
 public:
  explicit FloatWindowBuilder(int64_t resolution_ms) : resolution_ms_(resolution_ms) {}

  // Adds a float sample; timestamps must increase strictly. Stale markers (the
  // stale NaN bit pattern) are added too: they only set ends_stale.
  void Add(int64_t t, double value);

  // Adds a native histogram sample; timestamps must increase strictly
  // (across both kinds). Stale markers and histograms ToFloatHistogram
  // rejects (which PromQL skips) only set ends_stale.
  void AddHistogram(int64_t t, const Histogram& histogram);

  // The windows completed so far and the open one, in order; windows with
  // neither samples nor stale markers are absent. Leaves the builder empty.
  std::vector<FloatWindow> Finish();

 private:
  int64_t resolution_ms_;
  std::vector<FloatWindow> windows_;
  bool has_previous_ = false;  // a non-stale float sample in the current window
  // The histogram samples of the current window so far (count 0: none;
  // `last` is set when the window closes).
  HistogramWindow open_histograms_;
  FloatHistogram previous_histogram_;  // the current window's last histogram so far
  FloatHistogram converted_;           // conversion buffer, reused


  // The window holding t, opened if needed.
  FloatWindow& WindowFor(int64_t t);
  // Stores open_histograms_ into the current window.
  void CloseHistograms();
};

}  // namespace tsvault::model
