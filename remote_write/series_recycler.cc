#include "remote_write/series_recycler.h"

#include <utility>

namespace tsvault::remote_write {

SeriesRecycler& SeriesRecycler::ForThisThread() {
  thread_local SeriesRecycler recycler;
  return recycler;
}

void SeriesRecycler::Lend(IngestBatch* decoded) {
  decoded->input.series = std::move(series_buffer_);
  decoded->input.series.clear();
  decoded->spare_series = std::move(spare_);
  series_buffer_ = {};
  spare_ = {};
}

void SeriesRecycler::Return(IngestBatch* decoded) {
  spare_ = std::move(decoded->spare_series);
  decoded->spare_series.clear();
  std::vector<storage::SeriesWrite>& used = decoded->input.series;
  for (storage::SeriesWrite& series : used) {
    if (spare_.size() >= kMaxSpareSeries) break;
    if (series.samples.capacity() > kMaxKeptSamples) continue;
    series.labels.clear();
    series.samples.clear();
    series.histograms.clear();
    series.exemplars.clear();
    series.series_ref = 0;
    spare_.push_back(std::move(series));
  }
  used.clear();
  if (used.capacity() <= kMaxKeptSeriesCapacity) series_buffer_ = std::move(used);
  used = {};
}

}  // namespace tsvault::remote_write
