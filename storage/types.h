// Value types stored by tsvault: float samples, native histograms, exemplars
// and metric metadata. These are the storage engine's public vocabulary; the
// remote-write decoder produces them and the query layer consumes them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/labels.h"

namespace tsvault::storage {

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

// The data for one series in a write. `labels` must be canonical (sorted,
// unique names, non-empty __name__); the decoder guarantees it. Instead of
// labels, a writer may pass the `series_ref` that DB::Append returned for
// the same series earlier (WriteResult::series_refs): the hot path for
// series seen before, with no label hashing or comparison.
struct SeriesWrite {
  Labels labels;
  std::vector<Sample> samples;
  std::vector<Histogram> histograms;
  std::vector<Exemplar> exemplars;
  uint64_t series_ref = 0;  // 0: identify the series by `labels`
};

// One atomic unit of ingestion: everything a remote-write request carried
// that passed validation.
struct WriteInput {
  std::vector<SeriesWrite> series;
  std::vector<MetricMetadata> metadata;
};

// What an append did. Samples that conflict with stored data (same timestamp,
// different value) are rejected one by one and described in `errors`; the
// rest of the input is written.
struct WriteResult {
  uint64_t samples_written = 0;
  uint64_t histograms_written = 0;
  uint64_t exemplars_written = 0;
  uint64_t samples_rejected = 0;
  std::vector<std::string> errors;  // at most a few, for the HTTP answer
  // One per input series, in order: the reference to pass as
  // SeriesWrite::series_ref next time. Valid for the life of the DB object.
  std::vector<uint64_t> series_refs;
};

}  // namespace tsvault::storage
