// Functions over a range answered from rollup windows (model/rollup.h):
// which resolution can answer a range function exactly, and the function's
// value from the folded windows, with the formulas the raw path uses.
#include <algorithm>
#include <bit>
#include <cmath>
#include <string_view>

#include "common/time_parse.h"
#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

namespace {

// The functions whose value depends only on what a FloatWindow keeps.
bool IsRollupFunction(std::string_view function) {
  static constexpr std::string_view kFunctions[] = {
      "rate", "increase", "delta", "resets", "changes", "count_over_time", "sum_over_time",
      "min_over_time", "max_over_time", "last_over_time", "present_over_time"};
  return std::find(std::begin(kFunctions), std::end(kFunctions), function) != std::end(kFunctions);
}

bool Divides(int64_t resolution, int64_t value) { return value % resolution == 0; }

}  // namespace

bool RollupTimesInRange(int64_t range_ms, int64_t offset_ms, std::optional<int64_t> at_ms, int64_t start_ms,
                        int64_t end_ms) {
  // Windows, ranges and offsets must stay inside what rollups cover, far
  // from the int64 limits.
  constexpr int64_t kLimit = model::kRollupTimeLimitMs / 2;
  const int64_t first = at_ms ? *at_ms : start_ms, last = at_ms ? *at_ms : end_ms;
  return range_ms > 0 && first >= -kLimit && last <= kLimit && range_ms <= kLimit && offset_ms <= kLimit &&
         offset_ms >= -kLimit;
}

int64_t ChooseRollupResolution(std::string_view function, int64_t max_resolution_ms, int64_t range_ms,
                               int64_t offset_ms, std::optional<int64_t> at_ms, int64_t start_ms,
                               int64_t end_ms, int64_t interval_ms) {
  if (max_resolution_ms <= 0 || !IsRollupFunction(function)) return 0;
  if (!RollupTimesInRange(range_ms, offset_ms, at_ms, start_ms, end_ms)) return 0;
  for (int64_t resolution : {model::kResolution1d, model::kResolution1h, model::kResolution5m}) {
    if (resolution > max_resolution_ms) continue;
    if (!Divides(resolution, range_ms) || !Divides(resolution, offset_ms)) continue;
    if (at_ms.has_value()) {
      if (!Divides(resolution, *at_ms)) continue;
    } else if (!Divides(resolution, start_ms) || (end_ms != start_ms && !Divides(resolution, interval_ms))) {
      continue;
    }
    return resolution;
  }
  return 0;
}

std::string DroppedByRetention(int64_t resolution, int64_t cutoff) {
  return (resolution == 0 ? std::string("raw samples") : std::string(model::ResolutionName(resolution)) + " rollups") +
         " before " + FormatRfc3339(cutoff) + " were dropped by retention";
}

int64_t ResolutionWithinRetention(QueryState* state, std::string_view function, int64_t resolution,
                                  int64_t first_ms) {
  // Raw samples at or after the cutoff are kept; a rollup window is kept
  // when it ends after its level's cutoff (the boundary window ending at
  // `first_ms` included).
  auto holds = [&](int64_t candidate) {
    const int64_t cutoff = state->db->RetentionCutoff(candidate);
    return cutoff == INT64_MIN || (candidate == 0 ? cutoff <= first_ms : cutoff < first_ms);
  };
  if (holds(resolution)) return resolution;
  const std::string dropped = DroppedByRetention(resolution, state->db->RetentionCutoff(resolution));
  if (IsRollupFunction(function) && state->max_source_resolution_ms > 0) {
    for (int64_t coarser : {model::kResolution5m, model::kResolution1h, model::kResolution1d}) {
      if (coarser <= resolution || coarser > state->max_source_resolution_ms || !holds(coarser)) continue;
      // Coarser than the auto choice: range, step or offset are not
      // multiples of it, so windows only approximate the range.
      state->AddWarning(dropped + "; " + std::string(function) + "() is answered from " +
                        model::ResolutionName(coarser) + " rollups, approximately (range, offset and step are not " +
                        "multiples of " + model::ResolutionName(coarser) + ")");
      return coarser;
    }
  }
  if (resolution > 0) {
    state->AddWarning(dropped + "; " + std::string(function) + "() has no data before then");
  }
  return resolution;  // raw reads warn in SelectSeries
}

namespace {

// Prometheus' histogramRate on a range's histogram window: last minus first
// at the lowest schema seen (for counters; delta takes first and last
// only), plus the histograms before each counter reset.
std::shared_ptr<model::FloatHistogram> HistogramRateOnWindow(const model::HistogramWindow& range, bool is_counter) {
  const int32_t schema = is_counter ? range.min_schema : std::min(range.first->schema, range.last->schema);
  auto result = std::make_shared<model::FloatHistogram>(range.last->CopyToSchema(schema));
  result->Sub(*range.first);
  if (is_counter && range.resets > 0) result->Add(*range.reset_compensation);
  result->reset_hint = model::CounterResetHint::kGauge;
  return result;
}

}  // namespace

bool EvalRollupFunction(std::string_view function, const model::FloatWindow& range, int64_t range_ms,
                        int64_t window_end_ms, double* value, HistogramRef* histogram) {
  histogram->reset();
  const model::HistogramWindow* histograms = range.histograms.get();
  const uint32_t histogram_count = histograms ? histograms->count : 0;
  if (function == "count_over_time") {
    *value = static_cast<double>(range.total_count());
  } else if (function == "sum_over_time") {
    if (range.count == 0) return false;  // REQUIRES: no histograms
    *value = std::isinf(range.sum) ? range.sum : range.sum + range.sum_compensation;
  } else if (function == "min_over_time") {
    if (range.count == 0) return false;
    *value = range.min;
  } else if (function == "max_over_time") {
    if (range.count == 0) return false;
    *value = range.max;
  } else if (function == "last_over_time") {
    if (histogram_count > 0 && (range.count == 0 || histograms->last_t > range.last_t)) {
      *histogram = histograms->last;
    } else {
      *value = range.last_v;
    }
  } else if (function == "present_over_time") {
    *value = 1;
  } else if (function == "resets") {
    *value = static_cast<double>(range.resets);  // floats only, as on raw samples
  } else if (function == "changes") {
    *value = static_cast<double>(range.changes);
  } else {
    const bool is_counter = function != "delta";
    const bool is_rate = function == "rate";
    if (range.count > 0 && histogram_count > 0) return false;  // extrapolatedRate ignores mixed ranges
    if (histogram_count >= 2) {
      std::shared_ptr<model::FloatHistogram> result = HistogramRateOnWindow(*histograms, is_counter);
      result->Scale(ExtrapolationFactor(histograms->first_t, histograms->last_t, histogram_count - 1, false, 0, 0,
                                        window_end_ms - range_ms, window_end_ms, range_ms, is_counter, is_rate));
      *histogram = std::move(result);
      return true;
    }
    if (range.count < 2) return false;
    double result = range.last_v - range.first_v;
    if (is_counter && range.resets > 0) result += range.reset_compensation;
    *value = result * ExtrapolationFactor(range.first_t, range.last_t, range.count - 1, true, range.first_v, result,
                                          window_end_ms - range_ms, window_end_ms, range_ms, is_counter, is_rate);
  }
  return true;
}

namespace {

// Whether a series' windows answer `function` as its raw samples would.
// Not when some histograms are unknown (written before histogram rollups),
// for sum_over_time of histograms (windows keep no histogram sum), nor for
// a counter rate over histograms whose zero buckets are irregular
// (HistogramWindow::irregular_zero), when it has resets.
bool WindowsAnswer(std::string_view function, const std::vector<model::FloatWindow>& windows) {
  const bool counter = function == "rate" || function == "increase";
  const model::FloatHistogram* previous_last = nullptr;
  bool irregular = false, resets = false;
  for (const model::FloatWindow& window : windows) {
    if (window.histograms_unknown()) return false;
    const model::HistogramWindow* histograms = window.histograms.get();
    if (histograms == nullptr) continue;
    if (function == "sum_over_time") return false;
    if (!counter) continue;
    irregular = irregular || histograms->irregular_zero ||
                (previous_last != nullptr && std::bit_cast<uint64_t>(previous_last->zero_threshold) !=
                                                 std::bit_cast<uint64_t>(histograms->first->zero_threshold));
    resets = resets || histograms->resets > 0 ||
             (previous_last != nullptr && histograms->first->DetectReset(*previous_last));
    if (irregular && resets) return false;
    previous_last = histograms->last.get();
  }
  return true;
}

}  // namespace

bool Evaluator::EvalRangeCallOnWindows(std::string_view name, storage::SeriesSet* set,
                                       int64_t resolution, int64_t range_ms, int64_t offset_ms,
                                       std::optional<int64_t> at_ms, MetricRef metric,
                                       std::vector<model::FloatWindow>* windows, Series* series) {
  Status s = set->Windows(resolution, windows);
  if (!s.ok()) {
    if (s.IsUnsupported()) return false;
    throw EvalError{s};
  }
  if (!WindowsAnswer(name, *windows)) return false;
  state_->resolutions_used.insert(resolution);
  state_->CheckInterrupt();
  *series = Series{metric, {}, {}};
  // Exact answers need range, offset and step times that are multiples of
  // the resolution (ChooseRollupResolution). When retention forced a
  // coarser one, the range is approximated by whole windows: it is
  // stretched to a multiple of the resolution and its end snapped back to
  // the last window end, and increase/delta are scaled back to the range.
  const int64_t fold_range = (range_ms + resolution - 1) / resolution * resolution;
  const double scale = static_cast<double>(range_ms) / static_cast<double>(fold_range);
  const bool scales = fold_range != range_ms && (name == "increase" || name == "delta");
  size_t next = 0;  // windows before it ended before the current range
  for (int64_t ts = start_; ts <= end_; ts += interval_) {
    state_->Tick();
    const int64_t evaluation_end = (at_ms ? *at_ms : ts) - offset_ms;
    const int64_t window_end = model::WindowFloor(evaluation_end, resolution);
    const int64_t window_start = window_end - fold_range;
    while (next < windows->size() && (*windows)[next].end_ms < window_start) ++next;
    // [start, end] = the sample at exactly `start` (the last of the window
    // ending there) plus the windows ending in (start, end].
    model::FloatWindow folded;
    folded.end_ms = window_start;
    for (size_t i = next; i < windows->size() && (*windows)[i].end_ms <= window_end; ++i) {
      const model::FloatWindow& window = (*windows)[i];
      model::MergeWindow(window.end_ms == window_start ? model::BoundaryWindow(window, window_start) : window, &folded);
    }
    double value = 0;
    HistogramRef histogram;
    if (folded.total_count() == 0 || !EvalRollupFunction(name, folded, fold_range, window_end, &value, &histogram)) {
      continue;
    }
    if (histogram) {
      if (scales) {
        auto scaled = std::make_shared<model::FloatHistogram>(*histogram);
        scaled->Scale(scale);
        histogram = std::move(scaled);
      }
      series->histograms.push_back({ts, std::move(histogram)});
      continue;
    }
    if (scales) value *= scale;
    if (series->floats.empty()) series->floats.reserve(InitialPointCapacity());
    series->floats.push_back({ts, value});
  }
  return true;
}


}  // namespace tsvault::query::eval
