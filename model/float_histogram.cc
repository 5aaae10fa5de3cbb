// Float histogram arithmetic for the PromQL engine, following Prometheus
// 2.42's model/histogram/float_histogram.go.
#include "model/float_histogram.h"

#include <array>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstddef>

namespace tsvault::model {

namespace {

// exponentialBounds of Prometheus: 2^(i/2^schema) / 2 for i in [0, 2^schema).
const std::array<std::vector<double>, kMaxHistogramSchema + 1>& ExponentialBounds() {
  static const auto* bounds = [] {
    auto* table = new std::array<std::vector<double>, kMaxHistogramSchema + 1>();
    for (int schema = 0; schema <= kMaxHistogramSchema; ++schema) {
      const int size = 1 << schema;
      for (int i = 0; i < size; ++i) {
        const long double exponent = static_cast<long double>(i) / static_cast<long double>(size);
        (*table)[schema].push_back(static_cast<double>(std::exp2l(exponent) / 2.0L));
      }
    }
    return table;
  }();
  return *bounds;
}

// The index a bucket of `from` falls into at the coarser schema `to`.
int32_t TargetIndex(int32_t index, int32_t from, int32_t to) {
  if (from == to) return index;
  return ((index - 1) >> (from - to)) + 1;
}

// The buckets of `buckets` reduced to schema `to` (merging neighbours that
// land in one bucket), one at a time, leaving out merged buckets whose
// absolute upper bound is at or below `skip_at_or_below` (Prometheus'
// floatBucketIterator). DetectReset walks it without building a list: it
// runs once per sample pair in queries and in the downsampler.
class MergedBucketCursor {
 public:
  MergedBucketCursor(const std::vector<HistogramBucket>& buckets, int32_t from, int32_t to, double skip_at_or_below)
      : buckets_(buckets), from_(from), to_(to), skip_(skip_at_or_below) {}

  // The next merged bucket; false at the end.
  bool Next(HistogramBucket* out) {
    while (position_ < buckets_.size()) {
      HistogramBucket merged{TargetIndex(buckets_[position_].index, from_, to_), 0};
      while (position_ < buckets_.size() && TargetIndex(buckets_[position_].index, from_, to_) == merged.index) {
        merged.count += buckets_[position_].count;
        ++position_;
      }
      // Bounds grow with the index: once one bucket is above skip_, all are.
      if (!past_skip_ && HistogramBucketBound(merged.index, to_) <= skip_) continue;
      past_skip_ = true;
      *out = merged;
      return true;
    }
    return false;
  }

 private:
  const std::vector<HistogramBucket>& buckets_;
  int32_t from_, to_;
  double skip_;
  size_t position_ = 0;
  bool past_skip_ = false;
};

// Buckets reduced to schema `to` (merging neighbours that land in one
// bucket), leaving out merged buckets whose absolute upper bound is at or
// below `skip_at_or_below` (Prometheus' floatBucketIterator).
std::vector<HistogramBucket> MergedBuckets(const std::vector<HistogramBucket>& buckets, int32_t from, int32_t to,
                                           double skip_at_or_below) {
  std::vector<HistogramBucket> out;
  out.reserve(buckets.size());
  MergedBucketCursor cursor(buckets, from, to, skip_at_or_below);
  HistogramBucket bucket;
  while (cursor.Next(&bucket)) out.push_back(bucket);
  return out;
}

// Adds sign * `other` (already at the same schema) into `into`, both sorted.
void MergeInto(std::vector<HistogramBucket>* into, const std::vector<HistogramBucket>& other, double sign) {
  if (other.empty()) return;
  std::vector<HistogramBucket> out;
  out.reserve(into->size() + other.size());
  size_t a = 0, b = 0;
  while (a < into->size() || b < other.size()) {
    if (b >= other.size() || (a < into->size() && (*into)[a].index < other[b].index)) {
      out.push_back((*into)[a++]);
    } else if (a >= into->size() || other[b].index < (*into)[a].index) {
      out.push_back({other[b].index, sign * other[b].count});
      ++b;
    } else {
      out.push_back({(*into)[a].index, (*into)[a].count + sign * other[b].count});
      ++a;
      ++b;
    }
  }
  *into = std::move(out);
}

// Prometheus' zeroCountForLargerThreshold: the zero count this histogram
// would have with a threshold of at least `larger`, and the threshold
// actually needed (moved up to a bucket boundary if it splits a populated
// bucket).
void ZeroCountForLargerThreshold(const FloatHistogram& h, double larger, double* count, double* threshold) {
  if (larger == h.zero_threshold) {
    *count = h.zero_count;
    *threshold = larger;
    return;
  }
  for (int round = 0; round < 1000; ++round) {
    double total = h.zero_count;
    for (const HistogramBucket& b : h.positive) {
      const double lower = HistogramBucketBound(b.index - 1, h.schema);
      const double upper = HistogramBucketBound(b.index, h.schema);
      if (lower >= larger) break;
      total += b.count;
      if (upper > larger) {
        if (b.count != 0) larger = upper;
        break;
      }
    }
    bool restart = false;
    for (const HistogramBucket& b : h.negative) {
      const double upper = -HistogramBucketBound(b.index - 1, h.schema);
      const double lower = -HistogramBucketBound(b.index, h.schema);
      if (upper <= -larger) break;
      total += b.count;
      if (lower < -larger) {
        if (b.count != 0) {
          larger = -lower;
          restart = true;
        }
        break;
      }
    }
    if (!restart) {
      *count = total;
      *threshold = larger;
      return;
    }
  }
  *count = h.zero_count;
  *threshold = larger;
}

// Drops the buckets that now lie inside the zero bucket (their counts are
// already part of the zero count).
void TrimBucketsInZeroBucket(FloatHistogram* h) {
  auto trim = [h](std::vector<HistogramBucket>* buckets) {
    size_t keep = 0;
    while (keep < buckets->size() &&
           HistogramBucketBound((*buckets)[keep].index - 1, h->schema) < h->zero_threshold) {
      ++keep;
    }
    buckets->erase(buckets->begin(), buckets->begin() + static_cast<ptrdiff_t>(keep));
  };
  trim(&h->positive);
  trim(&h->negative);
}

void AddOrSubtract(FloatHistogram* h, const FloatHistogram& other, double sign) {
  if (other.schema < h->schema) {
    const CounterResetHint hint = h->reset_hint;
    *h = h->CopyToSchema(other.schema);
    h->reset_hint = hint;
  }
  double other_zero_count = other.zero_count;
  double other_threshold = other.zero_threshold;
  for (int round = 0; round < 1000 && other_threshold != h->zero_threshold; ++round) {
    if (std::isnan(other_threshold) || std::isnan(h->zero_threshold)) break;
    if (h->zero_threshold > other_threshold) {
      ZeroCountForLargerThreshold(other, h->zero_threshold, &other_zero_count, &other_threshold);
    }
    if (other_threshold > h->zero_threshold) {
      ZeroCountForLargerThreshold(*h, other_threshold, &h->zero_count, &h->zero_threshold);
      TrimBucketsInZeroBucket(h);
    }
  }
  h->zero_count += sign * other_zero_count;
  h->count += sign * other.count;
  h->sum += sign * other.sum;
  MergeInto(&h->positive, MergedBuckets(other.positive, other.schema, h->schema, h->zero_threshold), sign);
  MergeInto(&h->negative, MergedBuckets(other.negative, other.schema, h->schema, h->zero_threshold), sign);
}

// The first bucket of `buckets` (at `schema`) above `threshold`.
size_t FirstAbove(const std::vector<HistogramBucket>& buckets, int32_t schema, double threshold) {
  size_t i = 0;
  while (i < buckets.size() && HistogramBucketBound(buckets[i].index, schema) <= threshold) ++i;
  return i;
}

// DetectBucketReset for two lists at the same schema (the usual case):
// nothing to merge.
bool DetectSameSchemaBucketReset(const std::vector<HistogramBucket>& current,
                                 const std::vector<HistogramBucket>& previous, int32_t schema, double threshold) {
  size_t c = FirstAbove(current, schema, threshold);
  for (size_t p = FirstAbove(previous, schema, threshold); p < previous.size(); ++p) {
    while (c < current.size() && current[c].index < previous[p].index) ++c;
    if (c >= current.size() || current[c].index > previous[p].index) {
      if (previous[p].count != 0) return true;
    } else if (current[c].count < previous[p].count) {
      return true;
    }
  }
  return false;
}

// Prometheus' detectReset over two bucket lists merged to the same schema.
bool DetectBucketReset(MergedBucketCursor current, MergedBucketCursor previous) {
  HistogramBucket cur, prev;
  bool has_current = current.Next(&cur);
  while (previous.Next(&prev)) {
    while (has_current && cur.index < prev.index) has_current = current.Next(&cur);
    if (!has_current || cur.index > prev.index) {
      if (prev.count != 0) return true;
    } else if (cur.count < prev.count) {
      return true;
    }
  }
  return false;
}

}  // namespace

double HistogramBucketBound(int32_t index, int32_t schema) {
  if (schema < 0) {
    const int64_t exponent = static_cast<int64_t>(index) * (int64_t{1} << -schema);
    if (exponent == 1024) return DBL_MAX;
    if (exponent > 2000) return INFINITY;
    if (exponent < -2000) return 0;
    return std::ldexp(1.0, static_cast<int>(exponent));
  }
  const int32_t fraction_index = index & ((1 << schema) - 1);
  const double fraction = ExponentialBounds()[schema][fraction_index];
  const int exponent = (index >> schema) + 1;
  if (fraction == 0.5 && exponent == 1025) return DBL_MAX;
  return std::ldexp(fraction, exponent);
}

FloatHistogram& FloatHistogram::Add(const FloatHistogram& other) {
  AddOrSubtract(this, other, 1);
  return *this;
}

FloatHistogram& FloatHistogram::Sub(const FloatHistogram& other) {
  AddOrSubtract(this, other, -1);
  return *this;
}

FloatHistogram& FloatHistogram::Scale(double factor) {
  count *= factor;
  sum *= factor;
  zero_count *= factor;
  for (HistogramBucket& b : positive) b.count *= factor;
  for (HistogramBucket& b : negative) b.count *= factor;
  return *this;
}

FloatHistogram& FloatHistogram::Divide(double divisor) {
  count /= divisor;
  sum /= divisor;
  zero_count /= divisor;
  for (HistogramBucket& b : positive) b.count /= divisor;
  for (HistogramBucket& b : negative) b.count /= divisor;
  return *this;
}

FloatHistogram FloatHistogram::CopyToSchema(int32_t target) const {
  if (target >= schema) return *this;
  FloatHistogram out;
  out.schema = target;
  out.zero_threshold = zero_threshold;
  out.zero_count = zero_count;
  out.count = count;
  out.sum = sum;
  out.positive = MergedBuckets(positive, schema, target, 0);
  out.negative = MergedBuckets(negative, schema, target, 0);
  return out;
}

bool FloatHistogram::DetectReset(const FloatHistogram& previous) const {
  if (reset_hint == CounterResetHint::kCounterReset) return true;
  if (reset_hint == CounterResetHint::kNotCounterReset || reset_hint == CounterResetHint::kGauge) return false;
  if (count < previous.count) return true;
  if (schema > previous.schema) return true;
  if (zero_threshold < previous.zero_threshold) return true;
  double previous_zero_count, new_threshold;
  ZeroCountForLargerThreshold(previous, zero_threshold, &previous_zero_count, &new_threshold);
  if (new_threshold != zero_threshold) return true;
  if (zero_count < previous_zero_count) return true;
  if (previous.schema == schema) {
    return DetectSameSchemaBucketReset(positive, previous.positive, schema, zero_threshold) ||
           DetectSameSchemaBucketReset(negative, previous.negative, schema, zero_threshold);
  }
  if (DetectBucketReset(MergedBucketCursor(positive, schema, schema, zero_threshold),
                        MergedBucketCursor(previous.positive, previous.schema, schema, zero_threshold))) {
    return true;
  }
  return DetectBucketReset(MergedBucketCursor(negative, schema, schema, zero_threshold),
                           MergedBucketCursor(previous.negative, previous.schema, schema, zero_threshold));
}

std::vector<BucketRange> FloatHistogram::AllBuckets() const {
  std::vector<BucketRange> out;
  out.reserve(positive.size() + negative.size() + 1);
  for (auto it = negative.rbegin(); it != negative.rend(); ++it) {
    BucketRange b;
    b.lower = -HistogramBucketBound(it->index, schema);
    b.upper = -HistogramBucketBound(it->index - 1, schema);
    b.lower_inclusive = b.lower < 0;
    b.upper_inclusive = b.upper > 0;
    if (b.upper > -zero_threshold) b.upper = -zero_threshold;
    b.count = it->count;
    out.push_back(b);
  }
  if (zero_count > 0) {
    out.push_back(BucketRange{-zero_threshold, zero_threshold, true, true, zero_count});
  }
  for (const HistogramBucket& bucket : positive) {
    BucketRange b;
    b.upper = HistogramBucketBound(bucket.index, schema);
    b.lower = HistogramBucketBound(bucket.index - 1, schema);
    b.lower_inclusive = b.lower < 0;
    b.upper_inclusive = b.upper > 0;
    if (b.lower < zero_threshold) b.lower = zero_threshold;
    b.count = bucket.count;
    out.push_back(b);
  }
  return out;
}

bool IsStaleHistogram(const Histogram& stored) {
  return std::bit_cast<uint64_t>(stored.sum) == kStaleNaNBits;
}

namespace {

bool ConvertBuckets(const std::vector<BucketSpan>& spans, const std::vector<int64_t>& deltas,
                    const std::vector<double>& counts, bool is_float, std::vector<HistogramBucket>* out) {
  constexpr uint64_t kMaxBuckets = 1u << 20;
  uint64_t total = 0;
  for (const BucketSpan& span : spans) total += span.length;
  if (total > kMaxBuckets) return false;
  if (total != (is_float ? counts.size() : deltas.size())) return false;
  out->clear();
  out->reserve(total);
  int64_t index = 0;
  int64_t running = 0;
  size_t position = 0;
  for (size_t s = 0; s < spans.size(); ++s) {
    if (s > 0 && spans[s].offset < 0) return false;
    index += spans[s].offset;
    for (uint32_t j = 0; j < spans[s].length; ++j, ++index, ++position) {
      if (index < INT32_MIN / 2 || index > INT32_MAX / 2) return false;
      double value;
      if (is_float) {
        value = counts[position];
      } else {
        running = static_cast<int64_t>(static_cast<uint64_t>(running) + static_cast<uint64_t>(deltas[position]));
        value = static_cast<double>(running);
      }
      out->push_back({static_cast<int32_t>(index), value});
    }
  }
  return true;
}

}  // namespace

bool ToFloatHistogram(const Histogram& stored, FloatHistogram* out) {
  if (stored.schema < kMinHistogramSchema || stored.schema > kMaxHistogramSchema) return false;
  if (!std::isfinite(stored.zero_threshold) || stored.zero_threshold < 0) return false;
  out->schema = stored.schema;
  out->zero_threshold = stored.zero_threshold;
  out->sum = stored.sum;
  if (stored.is_float) {
    out->count = stored.count_float;
    out->zero_count = stored.zero_count_float;
  } else {
    out->count = static_cast<double>(stored.count_int);
    out->zero_count = static_cast<double>(stored.zero_count_int);
  }
  switch (stored.reset_hint) {
    case ResetHint::kYes: out->reset_hint = CounterResetHint::kCounterReset; break;
    case ResetHint::kNo: out->reset_hint = CounterResetHint::kNotCounterReset; break;
    case ResetHint::kGauge: out->reset_hint = CounterResetHint::kGauge; break;
    default: out->reset_hint = CounterResetHint::kUnknown;
  }
  return ConvertBuckets(stored.positive_spans, stored.positive_deltas, stored.positive_counts, stored.is_float,
                        &out->positive) &&
         ConvertBuckets(stored.negative_spans, stored.negative_deltas, stored.negative_counts, stored.is_float,
                        &out->negative);
}

double HistogramQuantile(double q, const FloatHistogram& h) {
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  if (h.count == 0 || std::isnan(q)) return NAN;
  const std::vector<BucketRange> buckets = h.AllBuckets();
  BucketRange bucket;
  double count = 0;
  double rank = q * h.count;
  for (const BucketRange& b : buckets) {
    bucket = b;
    count += b.count;
    if (count >= rank) break;
  }
  if (bucket.lower < 0 && bucket.upper > 0) {
    if (h.negative.empty() && !h.positive.empty()) {
      bucket.lower = 0;
    } else if (h.positive.empty() && !h.negative.empty()) {
      bucket.upper = 0;
    }
  }
  if (count > h.count) count = h.count;
  if (count < rank) return bucket.upper;
  rank -= count - bucket.count;
  return bucket.lower + (bucket.upper - bucket.lower) * (rank / bucket.count);
}

double HistogramFraction(double lower, double upper, const FloatHistogram& h) {
  if (h.count == 0 || std::isnan(lower) || std::isnan(upper)) return NAN;
  if (lower >= upper) return 0;
  double rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  for (BucketRange b : h.AllBuckets()) {
    if (b.lower < 0 && b.upper > 0) {
      if (h.negative.empty() && !h.positive.empty()) {
        b.lower = 0;
      } else if (h.positive.empty() && !h.negative.empty()) {
        b.upper = 0;
      }
    }
    if (!lower_set && b.lower >= lower) {
      lower_rank = rank;
      lower_set = true;
    }
    if (!upper_set && b.lower >= upper) {
      upper_rank = rank;
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    if (!lower_set && b.lower < lower && b.upper > lower) {
      lower_rank = rank + b.count * (lower - b.lower) / (b.upper - b.lower);
      lower_set = true;
    }
    if (!upper_set && b.lower < upper && b.upper > upper) {
      upper_rank = rank + b.count * (upper - b.lower) / (b.upper - b.lower);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank += b.count;
  }
  if (!lower_set || lower_rank > h.count) lower_rank = h.count;
  if (!upper_set || upper_rank > h.count) upper_rank = h.count;
  return (upper_rank - lower_rank) / h.count;
}

}  // namespace tsvault::model
