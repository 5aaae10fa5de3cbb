// Function calls: plain calls run step by step on their arguments; calls
// with a range-vector argument slide a window over each series once
// (Prometheus' matrix-argument path), including subquery arguments,
// timestamp() on a selector and absent_over_time()'s post-processing.
#include <bit>
#include <cmath>
#include <unordered_set>

#include "query/engine/engine_internal.h"
#include "query/promql/functions.h"

namespace tsvault::query::eval {

FunctionImpl LookupFunctionImpl(std::string_view name) {
  static const auto* table = [] {
    auto* map = new std::unordered_map<std::string_view, FunctionImpl>();
    for (auto entries : {MathFunctions(), TimeFunctions(), RangeFunctions(), OverTimeFunctions(),
                         HistogramFunctions(), LabelFunctions()}) {
      for (const FunctionEntry& entry : entries) map->emplace(entry.name, entry.impl);
    }
    return map;
  }();
  auto it = table->find(name);
  return it == table->end() ? nullptr : it->second;
}

Matrix Evaluator::EvalCall(const promql::Call& call) {
  const std::string_view name = call.function->name;
  FunctionImpl impl = LookupFunctionImpl(name);
  if (impl == nullptr) {
    throw EvalError{Status::Internal("function " + std::string(name) + " is not implemented")};
  }
  if (name == "timestamp") {
    const promql::Expr& argument = Unwrap(*call.args[0]);
    if (argument.kind == promql::ExprKind::kVectorSelector) {
      // The sample timestamps of the selected samples, not the step times.
      const int64_t original = state_->current_samples;
      std::vector<Matrix> inputs;
      inputs.push_back(EvalVectorSelector(argument.As<promql::VectorSelector>(), true));
      return RangeEvalMatrices(
          nullptr,
          [](std::vector<Vector>& args, std::vector<std::vector<const SeriesHelper*>>&, NodeHelper& enh,
             Vector* out) {
            for (const Sample& s : args[0]) out->push_back(Sample{enh.DropMetricName(s.metric), enh.ts, s.f, nullptr});
          },
          std::move(inputs), original);
    }
  }
  for (size_t i = 0; i < call.args.size(); ++i) {
    const promql::Expr& argument = Unwrap(*call.args[i]);
    if (argument.kind == promql::ExprKind::kMatrixSelector || argument.kind == promql::ExprKind::kSubquery) {
      return EvalRangeCall(call, i, impl);
    }
  }
  std::vector<const promql::Expr*> exprs;
  for (const auto& arg : call.args) exprs.push_back(arg.get());
  return RangeEval(
      nullptr,
      [&call, impl](std::vector<Vector>& args, std::vector<std::vector<const SeriesHelper*>>&, NodeHelper& enh,
                    Vector* out) {
        FunctionInput in;
        in.call = &call;
        in.args = &args;
        impl(in, enh, out);
      },
      exprs);
}

namespace {

// Where the points of a range argument come from: storage or a subquery.
struct RangeSource {
  int64_t range_ms = 0;
  int64_t offset_ms = 0;
  std::optional<int64_t> at_ms;
  // Storage-backed:
  std::unique_ptr<storage::SeriesSet> set;
  // Subquery-backed:
  Matrix subquery_result;
  size_t subquery_position = 0;
  bool from_subquery = false;
};

}  // namespace

Matrix Evaluator::EvalRangeCall(const promql::Call& call, size_t range_arg, FunctionImpl impl) {
  const std::string_view name = call.function->name;
  const promql::Expr& argument = Unwrap(*call.args[range_arg]);
  RangeSource source;
  int64_t subquery_samples = 0;
  if (argument.kind == promql::ExprKind::kSubquery) {
    const auto& subquery = argument.As<promql::SubqueryExpr>();
    source.from_subquery = true;
    source.range_ms = subquery.range_ms;
    source.offset_ms = subquery.offset_ms;
    source.at_ms = subquery.timestamp_ms;
    Evaluator inner = SubqueryEvaluator(subquery);
    source.subquery_result = inner.Eval(*subquery.expr);
    for (const Series& s : source.subquery_result) subquery_samples += static_cast<int64_t>(s.size());
  } else {
    const auto& matrix_selector = argument.As<promql::MatrixSelector>();
    const promql::VectorSelector& selector = *matrix_selector.selector;
    source.range_ms = matrix_selector.range_ms;
    source.offset_ms = selector.offset_ms;
    source.at_ms = selector.timestamp_ms;
  }

  // The other arguments are scalars: one value per step.
  std::vector<Matrix> other(call.args.size());
  std::vector<Vector> arg_vectors(call.args.size());
  for (size_t j = 0; j < call.args.size(); ++j) {
    if (j == range_arg || call.args[j]->Type() == promql::ValueType::kString) continue;
    other[j] = Eval(*call.args[j]);
    arg_vectors[j].push_back(Sample{state_->arena.Empty(), 0, 0, nullptr});
  }

  // A range function that rollup windows answer exactly reads them instead
  // of the raw samples (per series; WindowsAnswer says when a series' windows
  // cannot, and it falls back to raw).
  int64_t resolution = 0;
  int64_t raw_cutoff = INT64_MIN;
  bool raw_dropped = false;  // retention dropped raw samples the range needs
  if (!source.from_subquery) {
    resolution = ChooseRollupResolution(name, state_->max_source_resolution_ms, source.range_ms, source.offset_ms,
                                        source.at_ms, start_, end_, interval_);
  }
  if (!source.from_subquery) {
    const auto& selector = *argument.As<promql::MatrixSelector>().selector;
    const int64_t last = (source.at_ms ? *source.at_ms : end_) - source.offset_ms;
    const int64_t first = (source.at_ms ? *source.at_ms : start_) - source.offset_ms - source.range_ms;
    storage::SelectHints hints(first, last);
    hints.step_ms = interval_;
    hints.range_ms = source.range_ms;
    hints.function = std::string(name);
    if (RollupTimesInRange(source.range_ms, source.offset_ms, source.at_ms, start_, end_)) {
      resolution = ResolutionWithinRetention(state_, name, resolution, first);
    }
    hints.max_resolution_ms = resolution;
    source.set = SelectSeries(state_, selector, hints);
    raw_cutoff = state_->db->RetentionCutoff(0);
    raw_dropped = raw_cutoff != INT64_MIN && first < raw_cutoff;
  }

  Matrix out;
  SlidingWindow window(state_);
  NodeHelper enh;
  enh.state = state_;
  Vector step_out;
  const bool keep_name = name == "last_over_time";
  std::unique_ptr<PointReader> reader;
  std::vector<model::FloatWindow> windows;
  while (true) {
    MetricRef metric;
    if (source.from_subquery) {
      if (source.subquery_position >= source.subquery_result.size()) break;
      const Series& s = source.subquery_result[source.subquery_position++];
      metric = s.metric;
      reader = NewSeriesPointReader(&s);
    } else {
      if (!source.set->Next()) break;
      metric = state_->arena.Make(source.set->labels());
      if (resolution > 0) {
        Series series;
        if (EvalRangeCallOnWindows(name, source.set.get(), resolution, source.range_ms, source.offset_ms,
                                   source.at_ms, metric, &windows, &series)) {
          if (series.size() > 0) {
            state_->current_samples += static_cast<int64_t>(series.size());
            if (state_->current_samples > state_->sample_limit) state_->NeedSamples(state_->current_samples);
            out.push_back(std::move(series));
          }
          continue;
        }
      }
      if (resolution > 0 && raw_dropped) {
        // This series' windows cannot answer (EvalRangeCallOnWindows).
        state_->AddWarning(DroppedByRetention(0, raw_cutoff) + "; " + std::string(name) +
                           "() on a series whose rollup windows cannot answer it (native histograms: " +
                           "sum_over_time, counter resets with changing zero buckets, or windows written " +
                           "before histogram rollups) needs raw samples, so it has no data before then");
      }
      state_->resolutions_used.insert(0);
      reader = NewStoragePointReader(source.set->Samples(), state_);
    }
    state_->CheckInterrupt();
    window.Reset(reader.get());
    Series series{keep_name ? metric : enh.DropMetricName(metric), {}, {}};
    size_t step = 0;
    for (int64_t ts = start_; ts <= end_; ts += interval_, ++step) {
      state_->Tick();
      for (size_t j = 0; j < call.args.size(); ++j) {
        if (arg_vectors[j].empty()) continue;
        const Matrix& m = other[j];
        arg_vectors[j][0].f = (!m.empty() && step < m[0].floats.size()) ? m[0].floats[step].f : NAN;
      }
      const int64_t maxt = (source.at_ms ? *source.at_ms : ts) - source.offset_ms;
      window.Advance(maxt - source.range_ms, maxt);
      if (window.empty()) continue;
      FunctionInput in;
      in.call = &call;
      in.args = &arg_vectors;
      in.window_metric = metric;
      in.floats = window.floats();
      in.float_drops = window.float_drops();
      in.histograms = window.histograms();
      in.range_ms = source.range_ms;
      in.window_end_ms = maxt;
      enh.ts = ts;
      step_out.clear();
      impl(in, enh, &step_out);
      if (step_out.empty()) continue;
      if (step_out[0].h) {
        series.histograms.push_back({ts, std::move(step_out[0].h)});
      } else {
        if (series.floats.empty()) series.floats.reserve(InitialPointCapacity());
        series.floats.push_back({ts, step_out[0].f});
      }
    }
    if (series.size() > 0) {
      if (state_->current_samples + static_cast<int64_t>(series.size()) > state_->sample_limit) {
        state_->NeedSamples(state_->current_samples + static_cast<int64_t>(series.size()));
      }
      state_->current_samples += static_cast<int64_t>(series.size());
      out.push_back(std::move(series));
    }
  }
  window.Reset(nullptr);
  if (source.set && !source.set->status().ok()) throw EvalError{source.set->status()};
  state_->current_samples -= subquery_samples;

  if (name == "absent_over_time") {
    const size_t steps = static_cast<size_t>(NumSteps());
    for (const Series& s : out) {
      if (s.size() == steps) return {};
    }
    std::unordered_set<int64_t> found;
    for (size_t i = 0; i < out.size(); ++i) {
      for (const FPoint& p : out[i].floats) found.insert(p.t);
      for (const HPoint& p : out[i].histograms) found.insert(p.t);
      if (i > 0 && found.size() == steps) return {};
    }
    Series absent{state_->arena.Make(AbsentLabels(*call.args[0])), {}, {}};
    for (int64_t ts = start_; ts <= end_; ts += interval_) {
      state_->Tick();
      if (found.count(ts) == 0) absent.floats.push_back({ts, 1});
    }
    Matrix result;
    result.push_back(std::move(absent));
    return result;
  }
  if (ContainsSameLabelset(out)) ThrowExecution("vector cannot contain metrics with the same labelset");
  return out;
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
  NodeHelper enh;
  enh.state = state_;
  *series = Series{name == "last_over_time" ? metric : enh.DropMetricName(metric), {}, {}};
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
