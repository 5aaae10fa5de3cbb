// Native histogram counter series for the rollup tests: realistic bucket
// growth with the cases that make histogram rollups hard.
#pragma once

#include <cstdint>
#include <vector>

#include "storage/types.h"

namespace tsvault::testing {

// What RandomHistogramSeries mixes in besides growing counts.
struct HistogramSeriesOptions {
  double reset_probability = 0.01;  // counts drop to a fraction (a counter reset)
  bool hints = true;                // some kYes hints on growth, kNo hints on growth
  bool schema_changes = true;       // a stretch at schema 1 between stretches at 3
  bool zero_threshold_change = false;  // the zero threshold widens once, late in the series
  bool float_counts = true;         // a stretch of float histograms
  bool stale_marker = true;         // one stale marker (a gap follows)
  bool custom_buckets = false;      // one schema -53 sample, which PromQL skips
};

// Samples every `step_ms` in [start_ms, end_ms] (some steps skipped), with
// timestamps set. Deterministic for a seed.
std::vector<storage::Histogram> RandomHistogramSeries(uint64_t seed, int64_t start_ms, int64_t end_ms,
                                                      int64_t step_ms, const HistogramSeriesOptions& options);

}  // namespace tsvault::testing
