// Internal to the import module: gathers samples by series into batches of
// about a given size and hands each to an ImportSink.
#pragma once

#include <string>
#include <string_view>
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
  // Adds one sample of the series that `key` names: any bytes naming one
  // series among those this batcher gets through AddKeyed (they do not
  // meet Add's series). `make_labels()` (sorted by name) is called only when
  // the series is new in the batch, so a caller that can name a series
  // cheaply (a CSV row's label fields) skips building its labels.
  template <class MakeLabels>
  Status AddKeyed(std::string_view key, MakeLabels&& make_labels, int64_t timestamp_ms, double value) {
    key_.assign(1, '\x01');
    key_.append(key);
    auto found = index_.find(key_);
    if (found == index_.end()) {
      found = index_.emplace(key_, batch_.series.size()).first;
      batch_.series.emplace_back().labels = make_labels();
    }
    batch_.series[found->second].samples.push_back({timestamp_ms, value});
    return ++samples_ >= batch_samples_ ? Flush() : Status::OK();
  }
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
