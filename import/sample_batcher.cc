#include "import/sample_batcher.h"

#include <algorithm>

namespace tsvault::import {

Status SampleBatcher::Add(const Labels& labels, int64_t timestamp_ms, double value) {
  key_.clear();
  for (const Label& label : labels) {
    key_.append(label.name);
    key_.push_back('\xff');
    key_.append(label.value);
    key_.push_back('\xff');
  }
  auto [found, inserted] = index_.try_emplace(key_, batch_.series.size());
  if (inserted) batch_.series.emplace_back().labels = labels;
  batch_.series[found->second].samples.push_back({timestamp_ms, value});
  return ++samples_ >= batch_samples_ ? Flush() : Status::OK();
}

Status SampleBatcher::Flush() {
  if (batch_.series.empty() && batch_.metadata.empty()) return Status::OK();
  for (storage::SeriesWrite& series : batch_.series) {
    std::stable_sort(series.samples.begin(), series.samples.end(),
                     [](const storage::Sample& a, const storage::Sample& b) { return a.timestamp_ms < b.timestamp_ms; });
  }
  Status s = sink_->Write(&batch_, report_);
  batch_ = storage::WriteInput();
  index_.clear();
  samples_ = 0;
  return s;
}

}  // namespace tsvault::import
