// A base for storage::DB test doubles and benchmark stubs that only take
// writes: everything but Append is implemented, and returns nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/db.h"

namespace tsvault::testing {

// A storage::DB that stores nothing readable: Select returns Unsupported,
// every other read returns OK with an empty answer, Checkpoint and
// CompactAll return OK and do nothing, Stats and Cardinality are all zero.
// Subclasses implement Append (and may override anything else).
class WriteOnlyDB : public storage::DB {
 public:
  Status Select(const storage::SelectHints&, const std::vector<storage::LabelMatcher>&,
                std::unique_ptr<storage::SeriesSet>*) override {
    return Status::Unsupported("write-only test DB");
  }
  Status Series(const std::vector<storage::LabelMatcher>&, int64_t, int64_t, std::vector<Labels>*) override {
    return Status::OK();
  }
  Status LabelNames(const std::vector<storage::LabelMatcher>&, int64_t, int64_t,
                    std::vector<std::string>*) override {
    return Status::OK();
  }
  Status LabelValues(const std::string&, const std::vector<storage::LabelMatcher>&, int64_t, int64_t,
                     std::vector<std::string>*) override {
    return Status::OK();
  }
  Status Metadata(const std::string&, std::vector<storage::MetricMetadata>*) override { return Status::OK(); }
  Status Exemplars(const std::vector<storage::LabelMatcher>&, int64_t, int64_t,
                   std::vector<std::pair<Labels, std::vector<storage::Exemplar>>>*) override {
    return Status::OK();
  }
  Status Checkpoint() override { return Status::OK(); }
  Status Snapshot(const std::string&) override { return Status::OK(); }
  Status CompactAll() override { return Status::OK(); }
  using storage::DB::Downsample;
  Status Downsample(int64_t, int64_t, storage::DownsampleStats*) override { return Status::OK(); }
  Status Delete(const std::vector<storage::LabelMatcher>&, int64_t, int64_t, storage::DeleteStats*) override {
    return Status::OK();
  }
  Status ApplyRetention(const storage::RetentionRequest&, storage::RetentionStats*) override { return Status::OK(); }
  int64_t RetentionCutoff(int64_t) override { return INT64_MIN; }
  Status OldestTime(int, int64_t* out) override {
    *out = INT64_MAX;
    return Status::OK();
  }
  storage::DBStats Stats() override { return {}; }
  Status Inspect(std::vector<storage::ResolutionSummary>*) override { return Status::OK(); }
  storage::CardinalityStats Cardinality(size_t, bool) override { return {}; }
};

}  // namespace tsvault::testing
