// History: samples at or before the raw retention cutoff (a backfill, an
// import of old data). Their raw neighbours are gone, so they cannot go to
// the head; each is folded into the window of the finest rollup level that
// still holds its time, when that window can take it exactly (it lands
// before or after every sample the window holds). Coarser levels are then
// marked stale, so they are recomputed from the level written.
// docs/downsampling.md, "Samples older than the raw retention".
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "model/float_histogram.h"
#include "storage/chunkenc/rollup_chunk.h"
#include "storage/db_impl.h"
#include "storage/keys.h"

namespace tsvault::storage {

namespace {

constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();
constexpr size_t kMaxReportedErrors = 5;

bool SameFloat(double a, double b) {
  uint64_t a_bits, b_bits;
  std::memcpy(&a_bits, &a, 8);
  std::memcpy(&b_bits, &b, 8);
  return a_bits == b_bits || (a != a && b != b && a_bits != kStaleNaNBits && b_bits != kStaleNaNBits);
}

// One history sample, float or histogram, by its position in the input.
struct HistoryItem {
  int64_t t;
  bool histogram;
  size_t position;
};

}  // namespace

std::vector<model::FloatWindow>* HistorySpans::Find(int index, uint64_t series_id, int64_t span_start) {
  auto found = positions.find({index, series_id, span_start});
  return found == positions.end() ? nullptr : &spans[found->second].windows;
}

std::vector<model::FloatWindow>* HistorySpans::Add(Span span) {
  positions[{span.index, span.series_id, span.span_start}] = spans.size();
  spans.push_back(std::move(span));
  return &spans.back().windows;
}

Status DBImpl::LoadHistorySpan(int index, uint64_t series_id, int64_t span_start, HistorySpans* spans,
                               std::vector<model::FloatWindow>** out) {
  *out = spans->Find(index, series_id, span_start);
  if (*out != nullptr) return Status::OK();
  std::vector<model::FloatWindow> windows;
  std::string value;
  rocksdb::Status rs =
      rocks_->Get(rocksdb::ReadOptions(), cf(RollupFamily(index)), RollupChunkKey(series_id, span_start), &value);
  if (rs.ok()) {
    int64_t resolution;
    Status s = DecodeRollupChunk(value, &resolution, &windows);
    if (s.ok() && resolution != kRollupResolutions[index]) s = Status::Corruption("rollup chunk of another resolution");
    if (!s.ok()) return Status::Corruption("series " + std::to_string(series_id) + ": " + s.message());
  } else if (!rs.IsNotFound()) {
    return FromRocks(rs);
  }
  *out = spans->Add({index, series_id, span_start, std::move(windows)});
  return Status::OK();
}

Status DBImpl::FoldHistory(const MemSeries& series, const std::vector<Sample>& floats,
                           const std::vector<Histogram>& histograms, int64_t raw_cutoff, HistorySpans* spans,
                           rocksdb::WriteBatch* batch, WriteResult* result) {
  std::vector<HistoryItem> items;
  items.reserve(floats.size() + histograms.size());
  for (size_t i = 0; i < floats.size(); ++i) items.push_back({floats[i].timestamp_ms, false, i});
  for (size_t i = 0; i < histograms.size(); ++i) items.push_back({histograms[i].timestamp_ms, true, i});
  std::stable_sort(items.begin(), items.end(), [](const HistoryItem& a, const HistoryItem& b) { return a.t < b.t; });

  // A sample exactly at the raw cutoff was written raw too, and counted
  // there: its window here is a second copy, best effort.
  auto refuse = [&](int64_t t, const std::string& why) {
    if (t == raw_cutoff) return;
    ++result->samples_too_old;
    if (result->errors.size() < kMaxReportedErrors) {
      result->errors.push_back("too_old: sample at timestamp " + std::to_string(t) + " " + why + ", series " +
                               LabelsToString(series.labels()));
    }
  };
  auto conflict = [&](int64_t t) {
    if (t == raw_cutoff) return;
    ++result->samples_rejected;
    if (result->errors.size() < kMaxReportedErrors) {
      result->errors.push_back("duplicate_timestamp: duplicate sample for timestamp " + std::to_string(t) +
                               " with a different value, series " + LabelsToString(series.labels()));
    }
  };
  auto accept = [&](int64_t t, bool histogram) {
    if (t == raw_cutoff) return;
    ++(histogram ? result->histograms_written : result->samples_written);
    ++result->samples_into_rollups;
  };

  std::vector<int64_t> marked_times[3];
  for (const HistoryItem& item : items) {
    const int64_t t = item.t;
    if (t <= -model::kRollupTimeLimitMs || t >= model::kRollupTimeLimitMs) {
      refuse(t, "is outside the time range rollups cover");
      continue;
    }
    // The finest rollup level whose retention still holds t (the cutoffs
    // are multiples of every span, so t's window and span are kept whole).
    int index = 0;
    while (index < 3) {
      const int64_t cutoff = retention_cutoff_[index + 1].load(std::memory_order_acquire);
      if (cutoff == kNoTime || t > cutoff) break;
      ++index;
    }
    if (index == 3) {
      refuse(t, "is not after the 1d rollup retention cutoff (every resolution dropped it)");
      continue;
    }
    const int64_t resolution = kRollupResolutions[index];
    const std::string level = model::ResolutionName(resolution);
    model::FloatWindowBuilder builder(resolution);
    if (item.histogram) {
      builder.AddHistogram(t, histograms[item.position]);
    } else {
      builder.Add(t, floats[item.position].value);
    }
    std::vector<model::FloatWindow> single = builder.Finish();
    if (single.size() != 1) continue;  // nothing PromQL reads (cannot happen: a stale marker gives a window)
    model::FloatWindow sample_window = std::move(single[0]);

    std::vector<model::FloatWindow>* windows = nullptr;
    const int64_t end = sample_window.end_ms;
    Status s = LoadHistorySpan(index, series.id(), RollupSpanStart(end, resolution), spans, &windows);
    if (!s.ok()) return s;
    auto it = std::lower_bound(windows->begin(), windows->end(), end,
                               [](const model::FloatWindow& w, int64_t e) { return w.end_ms < e; });
    if (it == windows->end() || it->end_ms != end) {
      windows->insert(it, std::move(sample_window));
      accept(t, item.histogram);
      marked_times[index].push_back(t);
      continue;
    }
    model::FloatWindow& window = *it;
    const model::HistogramWindow* window_histograms = window.histograms.get();
    if (window.histograms_unknown() || window.total_count() == 0) {
      refuse(t, "falls into a " + level + " rollup window that holds only a staleness marker or undescribed histograms");
      continue;
    }
    int64_t low = std::numeric_limits<int64_t>::max(), high = kNoTime;
    if (window.count > 0) low = window.first_t, high = window.last_t;
    if (window_histograms != nullptr && window_histograms->count > 0) {
      low = std::min(low, window_histograms->first_t);
      high = std::max(high, window_histograms->last_t);
    }
    if (t > high && window.ends_stale) {
      refuse(t, "falls into a " + level + " rollup window that ends with a staleness marker at an unknown time");
      continue;
    } else if (t > high) {
      model::MergeWindow(sample_window, &window);
    } else if (t < low) {
      model::MergeWindow(window, &sample_window);
      window = std::move(sample_window);
    } else if (t == low || t == high) {
      // The same sample again (a re-run import) is accepted and changes
      // nothing; another value at that time is a conflict, as on raw data.
      bool same = false;
      if (!item.histogram && window.count > 0) {
        const double v = floats[item.position].value;
        same = (t == window.first_t && SameFloat(v, window.first_v)) ||
               (t == window.last_t && SameFloat(v, window.last_v));
      } else if (item.histogram && window_histograms != nullptr && sample_window.histograms != nullptr) {
        const model::FloatHistogram& h = *sample_window.histograms->first;
        same = (t == window_histograms->first_t && *window_histograms->first == h) ||
               (t == window_histograms->last_t && *window_histograms->last == h);
      }
      if (!same) {
        conflict(t);
        continue;
      }
      if (t != raw_cutoff) ++(item.histogram ? result->histograms_written : result->samples_written);
      continue;
    } else {
      refuse(t, "falls between the samples of its " + level +
                    " rollup window, whose raw samples retention dropped: it can only be added before or after them");
      continue;
    }
    accept(t, item.histogram);
    marked_times[index].push_back(t);
  }
  // Coarser levels are recomputed from the written one.
  for (int index = 0; index < 3; ++index) {
    if (marked_times[index].empty() || index == 2) continue;
    spans->marked_stale |= MarkStaleRollups(series.id(), marked_times[index].front(), marked_times[index],
                                            batch, index + 1);
  }
  return Status::OK();
}

Status DBImpl::PutHistorySpans(HistorySpans* spans, rocksdb::WriteBatch* batch) {
  for (const HistorySpans::Span& span : spans->spans) {
    if (span.windows.empty()) continue;
    std::string chunk;
    Status s = EncodeRollupChunk(kRollupResolutions[span.index], span.windows, &chunk);
    if (!s.ok()) return s;
    batch->Put(cf(RollupFamily(span.index)), RollupChunkKey(span.series_id, span.span_start), chunk);
  }
  return Status::OK();
}

}  // namespace tsvault::storage
