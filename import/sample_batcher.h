// Internal to the import module: gathers samples by series into batches of
// about a given size and hands each to an ImportSink.
#pragma once

#include <string>
#include <unordered_map>

#include "import/importer.h"

namespace tsvault::import {

class SampleBatcher {
 public:
  // `sink` and `report` must outlive the batcher; `batch_samples` >= 1.
  SampleBatcher(ImportSink* sink, ImportReport* report, size_t batch_samples)
      : sink_(sink), report_(report), batch_samples_(batch_samples) {}

  // Adds one sample of the series `labels` (sorted by name), then writes
  // the batch if it is full. Returns the sink's error.
  Status Add(const Labels& labels, int64_t timestamp_ms, double value);
  // Adds metadata to the next batch.
  void AddMetadata(model::MetricMetadata metadata) { batch_.metadata.push_back(std::move(metadata)); }
  // Writes what is gathered (each series' samples sorted by time).
  Status Flush();

 private:
  ImportSink* sink_;
  ImportReport* report_;
  size_t batch_samples_;
  storage::WriteInput batch_;
  std::unordered_map<std::string, size_t> index_;  // series key -> index in batch_.series
  size_t samples_ = 0;
  std::string key_;
};

}  // namespace tsvault::import
