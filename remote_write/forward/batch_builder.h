// Splits write log records into the requests a forward target receives:
// per shard (a series always in the same one), at most max_samples_per_send
// samples and histograms per request. Float samples for Remote Write 1.0 are
// written straight into protobuf bytes against each series' pre-encoded
// labels (no per-sample allocation); histograms, exemplars, metadata and
// Remote Write 2.0 go through the generic encoder. Internal.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "remote_write/protocol.h"
#include "storage/db.h"

namespace tsvault::forward {

// A series as a target sends it: its relabeled labels, and those labels as
// the `labels` field of a prometheus.TimeSeries.
struct TargetSeries {
  Labels labels;
  std::string v1_labels;
  bool dropped = false;  // write_relabel_configs drop it
};
// The prometheus.TimeSeries `labels` field bytes of `labels`.
std::string EncodeV1Labels(const Labels& labels);

// One request.
struct Batch {
  std::string v1_series;      // prometheus.WriteRequest `timeseries` fields (floats, RW 1.0)
  storage::WriteInput input;  // everything else
  size_t samples = 0, histograms = 0, exemplars = 0, metadata = 0;
  int64_t max_timestamp_ms = 0;
  bool resent = false;  // holds records of a segment sent before a restart

  size_t points() const { return samples + histograms; }
  // The request body (snappy-compressed protobuf) for `protocol`.
  Status Encode(remote_write::Protocol protocol, std::string* body) const;
};

class BatchBuilder {
 public:
  BatchBuilder(remote_write::Protocol protocol, size_t max_points, size_t shards);

  // Adds float samples of a series, in time order.
  void AddSamples(uint64_t series_id, const TargetSeries& series, std::span<const storage::Sample> samples,
                  bool resent);
  // Adds the histograms and exemplars of a log entry of a series (after
  // the series' samples added before).
  void AddHistogramsAndExemplars(uint64_t series_id, const TargetSeries& series, const storage::LogEntry& entry,
                                 bool resent);
  // Metadata goes first, in a request of its own, on shard 0.
  void AddMetadata(const std::vector<storage::MetricMetadata>& metadata);

  // Per shard, the requests in order.
  std::vector<std::vector<Batch>>& shards() { return shards_; }

 private:
  // The shard of a series (its id, mixed).
  size_t ShardOf(uint64_t series_id) const;
  // The request of `shard` with room left, opened if needed.
  Batch& Open(size_t shard, bool resent);

  remote_write::Protocol protocol_;
  size_t max_points_;
  std::vector<std::vector<Batch>> shards_;
};

}  // namespace tsvault::forward
