#include "remote_write/histogram_conversion.h"

#include <vector>

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
  if (histogram.schema < kMinHistogramSchema || histogram.schema > kMaxHistogramSchema) {
    if (histogram.schema == kCustomBucketsSchema) {
      return "schema -53 (custom buckets) is not supported; the valid schemas are -4 to 8";
    }
    return "schema " + std::to_string(histogram.schema) + " is invalid; the valid schemas are -4 to 8";
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
