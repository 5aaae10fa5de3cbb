// Selectors: reading series from storage once per selector, the 5m
// lookback with staleness markers for instant vectors, sliding windows for
// range vectors, and subquery step alignment.
#include <bit>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

namespace {

bool IsStaleFloat(double value) { return std::bit_cast<uint64_t>(value) == storage::kStaleNaNBits; }

// A stored histogram the engine cannot evaluate is left out; a custom-bucket
// one (accepted at write time, for forwarding and exports) says so.
void NoteUnreadableHistogram(const storage::Histogram& stored, QueryState* state) {
  if (state == nullptr || stored.schema != model::kCustomBucketsSchema) return;
  state->AddWarning("custom-bucket native histograms (schema -53) were left out: this engine evaluates PromQL as "
                    "Prometheus 2.42 does, which has no custom buckets; remote read (/api/v1/read) and block "
                    "export return them");
}

class StoragePointReader final : public PointReader {
 public:
  StoragePointReader(std::unique_ptr<storage::SampleIterator> iterator, QueryState* state)
      : iterator_(std::move(iterator)), state_(state) {}

  bool Next(int64_t* t, double* f, HistogramRef* h, bool* stale) override {
    while (iterator_->Next()) {
      *t = iterator_->timestamp();
      if (!iterator_->is_histogram()) {
        *f = iterator_->value();
        h->reset();
        *stale = IsStaleFloat(*f);
        return true;
      }
      const storage::Histogram& stored = iterator_->histogram();
      *f = 0;
      if (model::IsStaleHistogram(stored)) {
        h->reset();
        *stale = true;
        return true;
      }
      auto converted = std::make_shared<model::FloatHistogram>();
      if (!model::ToFloatHistogram(stored, converted.get())) {
        NoteUnreadableHistogram(stored, state_);
        continue;
      }
      *h = std::move(converted);
      *stale = false;
      return true;
    }
    return false;
  }

 private:
  std::unique_ptr<storage::SampleIterator> iterator_;
  QueryState* state_;
};

class SeriesPointReader final : public PointReader {
 public:
  explicit SeriesPointReader(const Series* series) : series_(series) {}

  bool Next(int64_t* t, double* f, HistogramRef* h, bool* stale) override {
    const bool has_float = float_pos_ < series_->floats.size();
    const bool has_histogram = histogram_pos_ < series_->histograms.size();
    if (!has_float && !has_histogram) return false;
    *stale = false;
    if (has_float && (!has_histogram || series_->floats[float_pos_].t <= series_->histograms[histogram_pos_].t)) {
      *t = series_->floats[float_pos_].t;
      *f = series_->floats[float_pos_].f;
      h->reset();
      ++float_pos_;
    } else {
      *t = series_->histograms[histogram_pos_].t;
      *f = 0;
      *h = series_->histograms[histogram_pos_].h;
      ++histogram_pos_;
    }
    return true;
  }

 private:
  const Series* series_;
  size_t float_pos_ = 0;
  size_t histogram_pos_ = 0;
};

// The latest sample at or before a reference time within the lookback
// window, for one series read in time order (Prometheus'
// vectorSelectorSingle over a memoized iterator).
class LookbackCursor {
 public:
  LookbackCursor(std::unique_ptr<storage::SampleIterator> iterator, QueryState* state)
      : iterator_(std::move(iterator)), state_(state) {}

  // Finds the value at `ref`; false when there is none (or it is stale).
  bool At(int64_t ref, int64_t lookback, int64_t* t, double* f, HistogramRef* h) {
    const int64_t oldest = ref - lookback;
    if (!started_) {
      started_ = true;
      valid_ = iterator_->Seek(oldest);
    } else if (valid_ && iterator_->timestamp() < oldest) {
      valid_ = iterator_->Seek(oldest);
      has_previous_ = false;
    }
    while (valid_ && iterator_->timestamp() <= ref) {
      has_previous_ = true;
      previous_t_ = iterator_->timestamp();
      previous_is_histogram_ = iterator_->is_histogram();
      if (previous_is_histogram_) {
        previous_histogram_ = iterator_->histogram();
        converted_.reset();
        converted_ok_ = true;
      } else {
        previous_f_ = iterator_->value();
      }
      valid_ = iterator_->Next();
    }
    if (!has_previous_ || previous_t_ < oldest) return false;
    *t = previous_t_;
    if (!previous_is_histogram_) {
      if (IsStaleFloat(previous_f_)) return false;
      *f = previous_f_;
      h->reset();
      return true;
    }
    if (model::IsStaleHistogram(previous_histogram_)) return false;
    if (!converted_ && converted_ok_) {
      auto converted = std::make_shared<model::FloatHistogram>();
      converted_ok_ = model::ToFloatHistogram(previous_histogram_, converted.get());
      if (converted_ok_) converted_ = std::move(converted);
      if (!converted_ok_) NoteUnreadableHistogram(previous_histogram_, state_);
    }
    if (!converted_) return false;
    *f = 0;
    *h = converted_;
    return true;
  }

 private:
  std::unique_ptr<storage::SampleIterator> iterator_;
  bool started_ = false;
  bool valid_ = false;
  bool has_previous_ = false;
  int64_t previous_t_ = 0;
  bool previous_is_histogram_ = false;
  double previous_f_ = 0;
  storage::Histogram previous_histogram_;
  HistogramRef converted_;
  bool converted_ok_ = true;
  QueryState* state_;
};

}  // namespace

std::unique_ptr<PointReader> NewStoragePointReader(std::unique_ptr<storage::SampleIterator> iterator,
                                                   QueryState* state) {
  return std::make_unique<StoragePointReader>(std::move(iterator), state);
}

std::unique_ptr<PointReader> NewSeriesPointReader(const Series* series) {
  return std::make_unique<SeriesPointReader>(series);
}

std::unique_ptr<storage::SeriesSet> SelectSeries(QueryState* state, const promql::VectorSelector& selector,
                                                 const storage::SelectHints& hints) {
  if (hints.max_resolution_ms == 0) {
    state->resolutions_used.insert(0);
    const int64_t cutoff = state->db->RetentionCutoff(0);
    if (cutoff != INT64_MIN && hints.start_ms < cutoff) {
      state->AddWarning(DroppedByRetention(0, cutoff) + " (--retention.resolution-raw); " +
                        (hints.function.empty() ? std::string("this selector")
                                                : hints.function + "() over this range") +
                        " needs raw samples, so the result has no data before then");
    }
  }
  std::unique_ptr<storage::SeriesSet> set;
  Status s = state->db->Select(hints, selector.matchers, &set);
  if (!s.ok()) throw EvalError{s};
  return set;
}

void SlidingWindow::Reset(PointReader* reader) {
  Clear();
  reader_ = reader;
  has_pending_ = false;
  exhausted_ = false;
}

void SlidingWindow::Clear() {
  state_->current_samples -= static_cast<int64_t>(floats().size() + histograms().size());
  floats_.clear();
  float_begin_ = 0;
  float_drops_ = 0;
  histograms_.clear();
  histogram_begin_ = 0;
}

void SlidingWindow::TakeAll(Series* out) {
  out->floats.assign(floats().begin(), floats().end());
  out->histograms.assign(histograms().begin(), histograms().end());
  floats_.clear();
  float_begin_ = 0;
  float_drops_ = 0;
  histograms_.clear();
  histogram_begin_ = 0;
}

void SlidingWindow::Advance(int64_t mint, int64_t maxt) {
  while (float_begin_ < floats_.size() && floats_[float_begin_].t < mint) {
    // The pair (float_begin_, float_begin_ + 1) leaves the window.
    if (float_begin_ + 1 < floats_.size() && floats_[float_begin_ + 1].f < floats_[float_begin_].f) --float_drops_;
    ++float_begin_;
    --state_->current_samples;
  }
  while (histogram_begin_ < histograms_.size() && histograms_[histogram_begin_].t < mint) {
    histograms_[histogram_begin_].h.reset();
    ++histogram_begin_;
    --state_->current_samples;
  }
  if (float_begin_ > 256 && float_begin_ * 2 > floats_.size()) {
    floats_.erase(floats_.begin(), floats_.begin() + static_cast<std::ptrdiff_t>(float_begin_));
    float_begin_ = 0;
  }
  if (histogram_begin_ > 64 && histogram_begin_ * 2 > histograms_.size()) {
    histograms_.erase(histograms_.begin(), histograms_.begin() + static_cast<std::ptrdiff_t>(histogram_begin_));
    histogram_begin_ = 0;
  }
  while (reader_ != nullptr) {
    if (!has_pending_) {
      if (exhausted_) break;
      if (!reader_->Next(&pending_t_, &pending_f_, &pending_h_, &pending_stale_)) {
        exhausted_ = true;
        break;
      }
      has_pending_ = true;
    }
    if (pending_t_ > maxt) break;
    has_pending_ = false;
    if (pending_stale_ || pending_t_ < mint) continue;
    state_->AddSample();
    if (pending_h_) {
      histograms_.push_back({pending_t_, std::move(pending_h_)});
      pending_h_.reset();
    } else {
      if (float_begin_ < floats_.size() && pending_f_ < floats_.back().f) ++float_drops_;
      floats_.push_back({pending_t_, pending_f_});
    }
  }
}

bool InstantFromWindows(const std::vector<model::FloatWindow>& windows, int64_t resolution, int64_t ref,
                        int64_t lookback, size_t* next, int64_t* t, double* f, HistogramRef* h) {
  // The windows ending at or before ref hold every sample at or before the
  // last multiple of the resolution <= ref; the latest of them with a
  // sample holds the latest such sample.
  const int64_t snapped = model::WindowFloor(ref, resolution);
  while (*next < windows.size() && windows[*next].end_ms <= snapped) ++*next;
  for (size_t i = *next; i-- > 0;) {
    const model::FloatWindow& window = windows[i];
    if (window.end_ms < ref - lookback) return false;  // nothing in the lookback
    if (window.total_count() == 0 && !window.ends_stale) continue;
    if (window.ends_stale) return false;  // the latest sample is a stale marker
    const model::HistogramWindow* histograms = window.histograms.get();
    const bool histogram_last =
        histograms != nullptr && histograms->count > 0 && (window.count == 0 || histograms->last_t > window.last_t);
    *t = histogram_last ? histograms->last_t : window.last_t;
    if (*t < ref - lookback) return false;
    *f = histogram_last ? 0 : window.last_v;
    if (histogram_last) {
      *h = histograms->last;
    } else {
      h->reset();
    }
    return true;
  }
  return false;
}

int64_t Evaluator::InstantSelectorResolution(const promql::VectorSelector& selector, int64_t need_from) {
  const int64_t raw_cutoff = state_->db->RetentionCutoff(0);
  if (raw_cutoff == INT64_MIN || need_from >= raw_cutoff || state_->max_source_resolution_ms <= 0) return 0;
  const int64_t lookback = state_->options->lookback_delta.count();
  if (!RollupTimesInRange(lookback, selector.offset_ms, selector.timestamp_ms, start_, end_)) return 0;
  for (int64_t resolution : {model::kResolution5m, model::kResolution1h, model::kResolution1d}) {
    if (resolution > state_->max_source_resolution_ms) break;
    const int64_t cutoff = state_->db->RetentionCutoff(resolution);
    if (cutoff != INT64_MIN && cutoff >= need_from) continue;
    // Exact when every evaluation time is a window end: the windows ending
    // at or before it hold exactly the samples at or before it.
    const bool at = selector.timestamp_ms.has_value();
    const bool aligned = (at ? *selector.timestamp_ms : start_) % resolution == 0 &&
                         selector.offset_ms % resolution == 0 && (at || end_ == start_ || interval_ % resolution == 0);
    state_->AddWarning(DroppedByRetention(0, raw_cutoff) +
                       "; this selector is answered there from the last sample of each " +
                       model::ResolutionName(resolution) + " rollup window" +
                       (aligned ? "" : ", approximately (step times are not multiples of the resolution)"));
    state_->resolutions_used.insert(resolution);
    return resolution;
  }
  return 0;
}

Matrix Evaluator::EvalVectorSelector(const promql::VectorSelector& selector, bool timestamps_as_values) {
  const int64_t lookback = state_->options->lookback_delta.count();
  const bool at = selector.timestamp_ms.has_value();
  const int64_t first_ref = (at ? *selector.timestamp_ms : start_) - selector.offset_ms;
  const int64_t last_ref = (at ? *selector.timestamp_ms : end_) - selector.offset_ms;
  storage::SelectHints hints(first_ref - lookback, last_ref);
  hints.step_ms = interval_;
  // Where retention dropped the raw samples, each window's last sample
  // stands in (InstantFromWindows).
  const int64_t raw_cutoff = state_->db->RetentionCutoff(0);
  const int64_t resolution = InstantSelectorResolution(selector, first_ref - lookback);
  hints.max_resolution_ms = resolution;
  std::unique_ptr<storage::SeriesSet> set = SelectSeries(state_, selector, hints);
  Matrix out;
  size_t count = 0;
  std::vector<model::FloatWindow> windows;
  while (set->Next()) {
    if (++count % 64 == 0) state_->CheckInterrupt();
    LookbackCursor cursor(set->Samples(), state_);
    bool use_windows = resolution > 0;
    if (use_windows) {
      Status s = set->Windows(resolution, &windows);
      if (!s.ok() && !s.IsUnsupported()) throw EvalError{s};
      use_windows = s.ok() && std::none_of(windows.begin(), windows.end(),
                                           [](const model::FloatWindow& w) { return w.histograms_unknown(); });
      if (s.ok() && !use_windows) {
        state_->AddWarning(DroppedByRetention(0, raw_cutoff) +
                           "; a series whose rollup windows were written before histogram rollups needs raw "
                           "samples, so this selector has no data for it before then");
      }
    }
    size_t next_window = 0;
    Series series{state_->arena.Make(set->labels()), {}, {}};
    for (int64_t ts = start_; ts <= end_; ts += interval_) {
      state_->Tick();
      const int64_t ref = (at ? *selector.timestamp_ms : ts) - selector.offset_ms;
      int64_t t;
      double f;
      HistogramRef h;
      if (use_windows && ref - lookback < raw_cutoff) {
        if (!InstantFromWindows(windows, resolution, ref, lookback, &next_window, &t, &f, &h)) continue;
      } else if (!cursor.At(ref, lookback, &t, &f, &h)) {
        continue;
      }
      state_->AddSample();
      if (timestamps_as_values) {
        if (series.floats.empty()) series.floats.reserve(InitialPointCapacity());
        series.floats.push_back({ts, static_cast<double>(t) / 1000});
      } else if (h) {
        series.histograms.push_back({ts, std::move(h)});
      } else {
        if (series.floats.empty()) series.floats.reserve(InitialPointCapacity());
        series.floats.push_back({ts, f});
      }
    }
    if (series.size() > 0) out.push_back(std::move(series));
  }
  if (!set->status().ok()) throw EvalError{set->status()};
  return out;
}

Matrix Evaluator::EvalMatrixSelector(const promql::MatrixSelector& matrix_selector) {
  const promql::VectorSelector& selector = *matrix_selector.selector;
  const int64_t maxt =
      (selector.timestamp_ms.has_value() ? *selector.timestamp_ms : start_) - selector.offset_ms;
  const int64_t mint = maxt - matrix_selector.range_ms;
  storage::SelectHints hints(mint, maxt);
  hints.step_ms = interval_;
  hints.range_ms = matrix_selector.range_ms;
  std::unique_ptr<storage::SeriesSet> set = SelectSeries(state_, selector, hints);
  Matrix out;
  SlidingWindow window(state_);
  while (set->Next()) {
    state_->CheckInterrupt();
    std::unique_ptr<PointReader> reader = NewStoragePointReader(set->Samples(), state_);
    window.Reset(reader.get());
    window.Advance(mint, maxt);
    if (window.empty()) continue;
    Series series{state_->arena.Make(set->labels()), {}, {}};
    window.TakeAll(&series);
    out.push_back(std::move(series));
  }
  window.Reset(nullptr);
  if (!set->status().ok()) throw EvalError{set->status()};
  return out;
}

Evaluator Evaluator::SubqueryEvaluator(const promql::SubqueryExpr& subquery) const {
  const bool at = subquery.timestamp_ms.has_value();
  const int64_t base_start = at ? *subquery.timestamp_ms : start_;
  const int64_t base_end = at ? *subquery.timestamp_ms : end_;
  int64_t interval = subquery.step_ms > 0 ? subquery.step_ms : state_->options->default_subquery_step.count();
  if (interval <= 0) interval = 60 * 1000;
  const int64_t end = base_end - subquery.offset_ms;
  const int64_t lowest = base_start - subquery.offset_ms - subquery.range_ms;
  int64_t start = interval * (lowest / interval);
  if (start < lowest) start += interval;
  return Evaluator(state_, start, end, interval);
}

Matrix Evaluator::EvalSubquery(const promql::SubqueryExpr& subquery) {
  Evaluator inner = SubqueryEvaluator(subquery);
  return inner.Eval(*subquery.expr);
}

}  // namespace tsvault::query::eval
