#include "tests/support/histogram_series.h"

#include <cstring>
#include <map>
#include <random>

namespace tsvault::testing {

namespace {

// Absolute counts by bucket index at schema 3, turned into a stored
// histogram at `schema` (<= 3), integer or float.
storage::Histogram MakeHistogram(const std::map<int32_t, uint64_t>& buckets, uint64_t zero_count, int32_t schema,
                                 double zero_threshold, bool is_float, double sum) {
  std::map<int32_t, uint64_t> at_schema;
  for (const auto& [index, count] : buckets) at_schema[((index - 1) >> (3 - schema)) + 1] += count;
  storage::Histogram h;
  h.schema = schema;
  h.zero_threshold = zero_threshold;
  h.is_float = is_float;
  h.sum = sum;
  uint64_t total = zero_count;
  int64_t previous_count = 0;
  int32_t previous_index = 0;
  bool first = true;
  for (const auto& [index, count] : at_schema) {
    total += count;
    if (first || index != previous_index + 1) {
      h.positive_spans.push_back({first ? index : index - previous_index - 1, 0});
    }
    ++h.positive_spans.back().length;
    if (is_float) {
      h.positive_counts.push_back(static_cast<double>(count));
    } else {
      h.positive_deltas.push_back(static_cast<int64_t>(count) - previous_count);
    }
    previous_count = static_cast<int64_t>(count);
    previous_index = index;
    first = false;
  }
  if (is_float) {
    h.count_float = static_cast<double>(total);
    h.zero_count_float = static_cast<double>(zero_count);
  } else {
    h.count_int = total;
    h.zero_count_int = zero_count;
  }
  return h;
}

}  // namespace

std::vector<storage::Histogram> RandomHistogramSeries(uint64_t seed, int64_t start_ms, int64_t end_ms,
                                                      int64_t step_ms, const HistogramSeriesOptions& options) {
  std::mt19937_64 rng(seed);
  std::map<int32_t, uint64_t> buckets;  // schema 3 indices 1..24 (about 1.1 to 8)
  uint64_t zero_count = 0;
  double sum = 0;
  std::vector<storage::Histogram> out;
  const int64_t span = end_ms - start_ms;
  for (int64_t t = start_ms; t <= end_ms; t += step_ms) {
    if (rng() % 50 == 0) continue;  // a missed scrape
    const double position = static_cast<double>(t - start_ms) / static_cast<double>(span);
    storage::Histogram h;
    if (options.stale_marker && out.size() > 10 && position > 0.55 && position < 0.56) {
      h.sum = 0;
      std::memcpy(&h.sum, &storage::kStaleNaNBits, sizeof(h.sum));
      h.timestamp_ms = t;
      out.push_back(h);
      t += 20 * step_ms;  // the series comes back after a while
      continue;
    }
    if (options.custom_buckets && position > 0.3 && position < 0.3 + 1.0 / static_cast<double>(span / step_ms)) {
      h.schema = -53;
      h.custom_values = {1, 2, 4};
      h.positive_spans = {{0, 1}};
      h.positive_deltas = {1};
      h.count_int = 1;
      h.timestamp_ms = t;
      out.push_back(h);
      continue;
    }
    storage::ResetHint hint = storage::ResetHint::kUnknown;
    if (static_cast<double>(rng() % 10'000) < options.reset_probability * 10'000) {
      for (auto& [index, count] : buckets) count /= 4;
      zero_count /= 4;
      sum /= 4;
    } else {
      const int observations = static_cast<int>(rng() % 20);
      for (int i = 0; i < observations; ++i) {
        const int32_t index = 1 + static_cast<int32_t>(rng() % 24);
        ++buckets[index];
        sum += static_cast<double>(index) * 0.25;
      }
      if (rng() % 7 == 0) ++zero_count;
      if (options.hints) {
        const uint64_t roll = rng() % 100;
        if (roll < 2) hint = storage::ResetHint::kYes;
        else if (roll < 12) hint = storage::ResetHint::kNo;
      }
    }
    const int32_t schema = options.schema_changes && position > 0.2 && position < 0.3 ? 1 : 3;
    const double zero_threshold = options.zero_threshold_change && position > 0.8 ? 0.5 : 1e-3;
    const bool is_float = options.float_counts && position > 0.4 && position < 0.5;
    h = MakeHistogram(buckets, zero_count, schema, zero_threshold, is_float, sum);
    h.reset_hint = hint;
    h.timestamp_ms = t;
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace tsvault::testing
