// Native histograms as the PromQL engine computes with them: float bucket
// counts with absolute values, modelled on Prometheus 2.42's
// histogram.FloatHistogram. Buckets are kept as sorted (index, count) lists
// instead of spans; only non-structural details (span layout) differ, which
// never shows in query results.
#pragma once

#include <cstdint>
#include <vector>

#include "model/value.h"

namespace tsvault::model {

// Prometheus' counter-reset hint of a histogram.
enum class CounterResetHint : uint8_t { kUnknown, kCounterReset, kNotCounterReset, kGauge };

// One populated (or explicitly empty) bucket: its index in the schema's
// exponential layout and its count.
struct HistogramBucket {
  int32_t index = 0;
  double count = 0;
  friend bool operator==(const HistogramBucket&, const HistogramBucket&) = default;
};

// A bucket with its boundaries, as iterated for quantiles and JSON output.
struct BucketRange {
  double lower = 0;
  double upper = 0;
  bool lower_inclusive = false;
  bool upper_inclusive = false;
  double count = 0;
};

// The smallest and largest exponential schema Prometheus 2.42 accepts.
inline constexpr int32_t kMinHistogramSchema = -4;
inline constexpr int32_t kMaxHistogramSchema = 8;
// Custom-bucket histograms (Prometheus 3): bucket bounds are the
// histogram's custom_values. Stored and forwarded, not evaluated by PromQL.
inline constexpr int32_t kCustomBucketsSchema = -53;

struct FloatHistogram {
  int32_t schema = 0;
  double zero_threshold = 0;
  double zero_count = 0;
  double count = 0;
  double sum = 0;
  CounterResetHint reset_hint = CounterResetHint::kUnknown;
  std::vector<HistogramBucket> positive;  // sorted by index, unique indices
  std::vector<HistogramBucket> negative;  // sorted by index, unique indices

  friend bool operator==(const FloatHistogram&, const FloatHistogram&) = default;

  // this += other. Works for any two schemas: the result has the lower one.
  // Zero buckets are reconciled as Prometheus does (the wider threshold
  // wins, widened further if it falls inside a populated bucket).
  FloatHistogram& Add(const FloatHistogram& other);
  // this -= other, with the same schema and zero-bucket rules as Add.
  FloatHistogram& Sub(const FloatHistogram& other);
  // Multiplies count, sum, zero count and every bucket by `factor`.
  FloatHistogram& Scale(double factor);
  // Divides count, sum, zero count and every bucket by `divisor`.
  FloatHistogram& Divide(double divisor);
  // A copy at a lower (or equal) resolution; `target` must be <= schema.
  // The counter-reset hint is not copied.
  FloatHistogram CopyToSchema(int32_t target) const;
  // True when this histogram, following `previous`, indicates a counter
  // reset (Prometheus' FloatHistogram.DetectReset).
  bool DetectReset(const FloatHistogram& previous) const;
  // All buckets in ascending order of their boundaries: negative buckets,
  // then the zero bucket (if its count is not 0), then positive buckets.
  std::vector<BucketRange> AllBuckets() const;
};

// The upper boundary of bucket `index` in `schema` (Prometheus' getBound):
// for negative buckets use the negated bound. Schema must be in range.
double HistogramBucketBound(int32_t index, int32_t schema);

// Converts a stored histogram to its float form. Returns false (leaving
// *out unspecified) when the histogram is malformed or not a 2.42
// exponential histogram (schema outside [-4, 8], inconsistent spans).
bool ToFloatHistogram(const Histogram& stored, FloatHistogram* out);

// True when the stored histogram is a staleness marker (sum is the stale NaN).
bool IsStaleHistogram(const Histogram& stored);

// Prometheus' histogramQuantile: the q-quantile estimated by linear
// interpolation inside the bucket where it falls. NaN for q NaN or an
// empty histogram, -Inf for q < 0, +Inf for q > 1.
double HistogramQuantile(double q, const FloatHistogram& histogram);

// Prometheus' histogramFraction: the estimated fraction of observations
// between lower and upper.
double HistogramFraction(double lower, double upper, const FloatHistogram& histogram);

}  // namespace tsvault::model
