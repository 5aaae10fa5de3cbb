// Builders of synthetic sample data shared by the chunk tests and the chunk
// benchmarks.
#pragma once

#include <cstdint>
#include <vector>

#include "storage/types.h"

namespace tsvault::testing {

// Sets the counts of `*histogram` from absolute per-bucket counts: the total
// count (zero bucket + every bucket), the zero count, and the bucket values in
// the encoding `histogram->is_float` selects (absolute *_counts for a float
// histogram, delta-encoded *_deltas for an integer one). Appends to the bucket
// vectors, which the caller leaves empty; spans, schema, sum and timestamp are
// the caller's.
inline void SetHistogramBucketCounts(const std::vector<uint64_t>& positive,
                                     const std::vector<uint64_t>& negative, uint64_t zero_count,
                                     storage::Histogram* histogram) {
  uint64_t count = zero_count;
  for (uint64_t b : positive) count += b;
  for (uint64_t b : negative) count += b;
  if (histogram->is_float) {
    histogram->count_float = static_cast<double>(count);
    histogram->zero_count_float = static_cast<double>(zero_count);
    for (uint64_t b : positive) histogram->positive_counts.push_back(static_cast<double>(b));
    for (uint64_t b : negative) histogram->negative_counts.push_back(static_cast<double>(b));
    return;
  }
  histogram->count_int = count;
  histogram->zero_count_int = zero_count;
  int64_t previous = 0;
  for (uint64_t b : positive) {
    histogram->positive_deltas.push_back(static_cast<int64_t>(b) - previous);
    previous = static_cast<int64_t>(b);
  }
  previous = 0;
  for (uint64_t b : negative) {
    histogram->negative_deltas.push_back(static_cast<int64_t>(b) - previous);
    previous = static_cast<int64_t>(b);
  }
}

}  // namespace tsvault::testing
