#include "remote_write/histogram_conversion.h"

#include <cmath>
#include <vector>

#include "model/float_histogram.h"

namespace tsvault::remote_write {

namespace {

uint64_t SpanBuckets(const std::vector<storage::BucketSpan>& spans) {
  uint64_t total = 0;
  for (const storage::BucketSpan& span : spans) total += span.length;
  return total;
}

std::string CheckSide(const char* side, const std::vector<storage::BucketSpan>& spans,
                      size_t deltas, size_t counts, bool is_float) {
  const uint64_t expected = SpanBuckets(spans);
  const size_t present = is_float ? counts : deltas;
  const size_t other = is_float ? deltas : counts;
  if (other != 0) {
    return std::string(side) + (is_float ? " deltas set in a float histogram"
                                         : " counts set in an integer histogram");
  }
  if (present != expected) {
    return std::string(side) + " spans describe " + std::to_string(expected) + " buckets but " +
           std::to_string(present) + " are present";
  }
  return {};
}

}  // namespace

std::string CheckHistogram(const storage::Histogram& histogram) {
  if (histogram.schema == model::kCustomBucketsSchema) {
    if (histogram.custom_values.empty()) return "schema -53 (custom buckets) without custom_values";
    for (size_t i = 0; i < histogram.custom_values.size(); ++i) {
      const double bound = histogram.custom_values[i];
      if (!std::isfinite(bound) || (i > 0 && !(bound > histogram.custom_values[i - 1]))) {
        return "custom_values must be finite and strictly increasing (value " + std::to_string(i) + ")";
      }
    }
    if (!histogram.negative_spans.empty() || !histogram.negative_deltas.empty() ||
        !histogram.negative_counts.empty()) {
      return "schema -53 (custom buckets) with negative buckets";
    }
  } else if (histogram.schema < model::kMinHistogramSchema || histogram.schema > model::kMaxHistogramSchema) {
    return "schema " + std::to_string(histogram.schema) +
           " is invalid; the valid schemas are -4 to 8 (exponential) and -53 (custom buckets)";
  } else if (!histogram.custom_values.empty()) {
    return "custom_values set with exponential schema " + std::to_string(histogram.schema);
  }
  if (!(histogram.zero_threshold >= 0)) {  // also NaN
    return "zero_threshold " + std::to_string(histogram.zero_threshold) + " is negative or NaN";
  }
  std::string problem =
      CheckSide("negative", histogram.negative_spans, histogram.negative_deltas.size(),
                histogram.negative_counts.size(), histogram.is_float);
  if (!problem.empty()) return problem;
  return CheckSide("positive", histogram.positive_spans, histogram.positive_deltas.size(),
                   histogram.positive_counts.size(), histogram.is_float);
}

}  // namespace tsvault::remote_write
