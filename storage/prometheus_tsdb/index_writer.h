// Prometheus' block index, format version 2 (tsdb/index/index.go), written
// from an in-memory list of series. Byte layout in docs/prometheus-formats.md.
// Internal to storage/prometheus_tsdb.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/labels.h"
#include "common/status.h"

namespace tsvault::prometheus_tsdb {

// Where one chunk of a series lies and what it covers.
struct ChunkMeta {
  int64_t min_time_ms = 0;  // first sample
  int64_t max_time_ms = 0;  // last sample (inclusive)
  uint64_t ref = 0;         // segment index << 32 | offset in the segment file
};

// One series of a block: its labels (sorted by name) and its chunks in time order.
struct IndexSeries {
  Labels labels;
  std::vector<ChunkMeta> chunks;
};

// Writes the index of a block holding `series` to `path` (created or
// truncated) and syncs it. REQUIRES: `series` strictly increasing by
// CompareLabels, each with at least one chunk (InvalidArgument otherwise,
// before anything is written). ResourceExhausted when the block exceeds
// the format's limits (series entries past 64 GiB, sections over 4 GiB).
Status WriteIndex(const std::string& path, const std::vector<IndexSeries>& series);

}  // namespace tsvault::prometheus_tsdb
