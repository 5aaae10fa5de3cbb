// Writes Prometheus TSDB blocks (`<ULID>/meta.json`, `index`,
// `chunks/000001...`, `tombstones`): the unit Prometheus keeps on disk and
// Thanos and Mimir keep in object storage. Formats, byte by byte, in
// docs/prometheus-formats.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "model/value.h"

namespace tsvault::prometheus_tsdb {

// What a finished block holds (its meta.json stats and its size on disk).
struct BlockStats {
  uint64_t series = 0;
  uint64_t samples = 0;
  uint64_t chunks = 0;
  uint64_t bytes = 0;  // all files of the block
};

// Builds one block of float series. Files are written under
// `<parent>/<ULID>.tmp-for-creation/` (Prometheus removes such leftovers at
// start-up) and renamed to `<parent>/<ULID>` by Finish, so a block is
// either complete or absent. Not thread-safe.
class BlockWriter {
 public:
  // Starts a block covering [min_time_ms, max_time_ms) in the existing
  // directory `parent`. REQUIRES: min_time_ms < max_time_ms.
  static Status Create(const std::string& parent, int64_t min_time_ms, int64_t max_time_ms,
                       std::unique_ptr<BlockWriter>* out);

  // Removes the temporary directory unless Finish succeeded.
  ~BlockWriter();
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  // Adds a series and its float samples, cut into chunks of
  // kSamplesPerChunk. Nothing is added when `samples` is empty.
  // InvalidArgument when `labels` is empty or not greater (CompareLabels)
  // than the previous series', or a timestamp does not increase or lies
  // outside the block's range; the block is then unusable.
  Status AddSeries(const Labels& labels, const std::vector<model::Sample>& samples);

  // Series added so far.
  uint64_t series_count() const;

  // Writes the index, meta.json and tombstones, syncs everything and
  // renames the block into place. A block without series is not written:
  // *ulid is then empty. No calls after Finish.
  Status Finish(std::string* ulid, BlockStats* stats);

 private:
  class Impl;
  explicit BlockWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::prometheus_tsdb
