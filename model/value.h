// The values tsvault stores and serves: float samples, native histograms,
// exemplars and metric metadata, as Prometheus' model defines them. Every
// module can use these; storage/types.h re-exports them as storage's
// vocabulary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/labels.h"

namespace tsvault::model {

// Prometheus' staleness marker: a NaN with this exact bit pattern ends a series.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

// One float sample. Timestamps are milliseconds since the Unix epoch.
struct Sample {
  int64_t timestamp_ms = 0;
  double value = 0;
};

// A run of buckets in a native histogram (offset from the previous span's end).
struct BucketSpan {
  int32_t offset = 0;
  uint32_t length = 0;
  friend bool operator==(const BucketSpan&, const BucketSpan&) = default;
};

// Counter-reset hint of a native histogram, as in the remote-write protobuf.
enum class ResetHint : uint8_t { kUnknown = 0, kYes = 1, kNo = 2, kGauge = 3 };

// A native histogram sample, kept losslessly as received. An integer histogram
// (is_float == false) uses count_int/zero_count_int and the *_deltas vectors
// (delta-encoded bucket counts, as on the wire); a float histogram uses
// count_float/zero_count_float and the *_counts vectors (absolute counts).
struct Histogram {
  int64_t timestamp_ms = 0;
  bool is_float = false;
  uint64_t count_int = 0;
  double count_float = 0;
  double sum = 0;
  int32_t schema = 0;
  double zero_threshold = 0;
  uint64_t zero_count_int = 0;
  double zero_count_float = 0;
  std::vector<BucketSpan> negative_spans;
  std::vector<int64_t> negative_deltas;
  std::vector<double> negative_counts;
  std::vector<BucketSpan> positive_spans;
  std::vector<int64_t> positive_deltas;
  std::vector<double> positive_counts;
  ResetHint reset_hint = ResetHint::kUnknown;
  std::vector<double> custom_values;  // schema -53 (custom buckets), RW 2.0

  friend bool operator==(const Histogram&, const Histogram&) = default;
};

// An exemplar attached to a series.
struct Exemplar {
  Labels labels;
  double value = 0;
  int64_t timestamp_ms = 0;
};

// Metric type as in the remote-write protobuf enums (same numbering as RW 1.0).
enum class MetricType : uint8_t {
  kUnknown = 0,
  kCounter = 1,
  kGauge = 2,
  kHistogram = 3,
  kGaugeHistogram = 4,
  kSummary = 5,
  kInfo = 6,
  kStateset = 7,
};

// The Prometheus API name of a metric type ("counter", "gauge", ...).
const char* MetricTypeName(MetricType type);

// Type, help and unit of one metric family.
struct MetricMetadata {
  std::string metric_family_name;
  MetricType type = MetricType::kUnknown;
  std::string help;
  std::string unit;
};

}  // namespace tsvault::model
