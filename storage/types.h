// The storage engine's write vocabulary: what one append carries
// (WriteInput) and what it did (WriteResult). The value types themselves
// (samples, histograms, exemplars, metadata) live in model/value.h and are
// re-exported here under their storage:: names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/labels.h"
#include "model/value.h"

namespace tsvault::storage {

using model::BucketSpan;
using model::Exemplar;
using model::Histogram;
using model::kStaleNaNBits;
using model::MetricMetadata;
using model::MetricType;
using model::MetricTypeName;
using model::ResetHint;
using model::Sample;

// The window of timestamps storage accepts: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999Z in milliseconds, the times every API can print
// (RFC 3339, CSV) and parse back. Samples, histograms and exemplars outside
// it are refused (WriteResult::samples_out_of_bounds).
inline constexpr int64_t kMinTimestampMs = -62'135'596'800'000;
inline constexpr int64_t kMaxTimestampMs = 253'402'300'799'999;

// True when `timestamp_ms` lies in [kMinTimestampMs, kMaxTimestampMs].
inline bool TimestampInBounds(int64_t timestamp_ms) {
  return timestamp_ms >= kMinTimestampMs && timestamp_ms <= kMaxTimestampMs;
}

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
// different value) and samples older than the raw retention cutoff are
// rejected one by one and described in `errors`; the rest of the input is
// written.
struct WriteResult {
  uint64_t samples_written = 0;
  uint64_t histograms_written = 0;
  uint64_t exemplars_written = 0;
  uint64_t samples_rejected = 0;  // conflicts: same timestamp, different value
  // Of the written floats and histograms, those at or before the raw
  // retention cutoff, folded into rollup windows (docs/downsampling.md).
  uint64_t samples_into_rollups = 0;
  uint64_t samples_too_old = 0;   // floats and histograms no rollup level could take
  // Floats and histograms of new series refused because the head holds
  // Options::max_series series.
  uint64_t samples_series_limit = 0;
  // Floats, histograms and exemplars with a timestamp outside
  // [kMinTimestampMs, kMaxTimestampMs].
  uint64_t samples_out_of_bounds = 0;
  // At most a few, for the HTTP answer; each starts with its reason
  // ("duplicate_timestamp: ", "too_old: ", "series_limit: " or
  // "out_of_bounds: ").
  std::vector<std::string> errors;
  // One per input series, in order: the reference to pass as
  // SeriesWrite::series_ref next time. Valid for the life of the DB object.
  std::vector<uint64_t> series_refs;
};

}  // namespace tsvault::storage
