// Calls with a range-vector argument: a window slides over each series once
// (Prometheus' matrix-argument path), over storage or a subquery's result,
// with absent_over_time()'s post-processing. The series are independent, so
// a call over many of them is split into parts of consecutive series that
// run on the query's thread and the engine's workers (parallel.h); the
// parts' results are put together in series order, so the answer is the
// one a single thread gives, bit for bit.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "query/engine/engine_internal.h"
#include "query/engine/parallel.h"
#include "query/promql/functions.h"

namespace tsvault::query::eval {

namespace {

// Parts smaller than this cost more to hand over than they save, for
// selections of up to kShortSpanMs; a longer span holds more samples per
// series, so fewer series make a part worth its hand-over (at least 2).
constexpr size_t kMinSeriesPerPart = 32;
constexpr int64_t kShortSpanMs = 2 * 60 * 60 * 1000;

size_t MinSeriesPerPart(int64_t span_ms) {
  if (span_ms <= kShortSpanMs) return kMinSeriesPerPart;
  const double scaled = static_cast<double>(kMinSeriesPerPart) * kShortSpanMs / static_cast<double>(span_ms);
  return std::max<size_t>(2, static_cast<size_t>(scaled));
}
// Parts per thread: more, smaller parts even out series of unequal cost.
constexpr size_t kPartsPerThread = 4;

}  // namespace

Matrix Evaluator::EvalRangeCall(const promql::Call& call, size_t range_arg, FunctionImpl impl) {
  RangeCallPlan plan;
  plan.call = &call;
  plan.impl = impl;
  plan.range_arg = range_arg;
  plan.name = call.function->name;
  const promql::Expr& argument = Unwrap(*call.args[range_arg]);
  std::unique_ptr<storage::SeriesSet> set;
  Matrix subquery_result;
  int64_t subquery_samples = 0;
  const bool from_subquery = argument.kind == promql::ExprKind::kSubquery;
  if (from_subquery) {
    const auto& subquery = argument.As<promql::SubqueryExpr>();
    plan.range_ms = subquery.range_ms;
    plan.offset_ms = subquery.offset_ms;
    plan.at_ms = subquery.timestamp_ms;
    Evaluator inner = SubqueryEvaluator(subquery);
    subquery_result = inner.Eval(*subquery.expr);
    for (const Series& s : subquery_result) subquery_samples += static_cast<int64_t>(s.size());
  } else {
    const auto& matrix_selector = argument.As<promql::MatrixSelector>();
    plan.range_ms = matrix_selector.range_ms;
    plan.offset_ms = matrix_selector.selector->offset_ms;
    plan.at_ms = matrix_selector.selector->timestamp_ms;
  }

  // The other arguments are scalars: one value per step.
  std::vector<Matrix> scalar_args(call.args.size());
  for (size_t j = 0; j < call.args.size(); ++j) {
    if (j == range_arg || call.args[j]->Type() == promql::ValueType::kString) continue;
    scalar_args[j] = Eval(*call.args[j]);
  }
  plan.scalar_args = &scalar_args;

  // A range function that rollup windows answer exactly reads them instead
  // of the raw samples (per series; WindowsAnswer says when a series' windows
  // cannot, and it falls back to raw).
  int64_t first = 0, last = 0;  // the selection's time range
  if (!from_subquery) {
    plan.resolution = ChooseRollupResolution(plan.name, state_->max_source_resolution_ms, plan.range_ms,
                                             plan.offset_ms, plan.at_ms, start_, end_, interval_);
    const auto& selector = *argument.As<promql::MatrixSelector>().selector;
    last = (plan.at_ms ? *plan.at_ms : end_) - plan.offset_ms;
    first = (plan.at_ms ? *plan.at_ms : start_) - plan.offset_ms - plan.range_ms;
    storage::SelectHints hints(first, last);
    hints.step_ms = interval_;
    hints.range_ms = plan.range_ms;
    hints.function = std::string(plan.name);
    if (RollupTimesInRange(plan.range_ms, plan.offset_ms, plan.at_ms, start_, end_)) {
      plan.resolution = ResolutionWithinRetention(state_, plan.name, plan.resolution, first);
    }
    hints.max_resolution_ms = plan.resolution;
    set = SelectSeries(state_, selector, hints);
    plan.raw_cutoff = state_->db->RetentionCutoff(0);
    plan.raw_dropped = plan.raw_cutoff != INT64_MIN && first < plan.raw_cutoff;
  }

  // Split the series into parts when there are threads to share them.
  const size_t threads = state_->workers == nullptr ? 1 : static_cast<size_t>(state_->workers->threads()) + 1;
  const size_t max_parts = threads > 1 ? threads * kPartsPerThread : 1;
  std::vector<std::unique_ptr<storage::SeriesSet>> sets;
  size_t parts = 1;
  if (from_subquery) {
    parts = std::max<size_t>(1, std::min(max_parts, subquery_result.size() / kMinSeriesPerPart));
  } else if (max_parts > 1) {
    // (Also with rollups: windows not yet sealed are computed from the
    // finer data, as costly as reading it.)
    sets = set->Split(max_parts, MinSeriesPerPart(last - first));
    parts = std::max<size_t>(1, sets.size());
  }
  Matrix out;
  if (parts == 1) {
    EvalRangeSeries(plan, set.get(), &subquery_result, 0, subquery_result.size(), &out);
  } else {
    std::vector<Matrix> outputs(parts);
    const size_t n = subquery_result.size();
    RunInParts(state_, parts, [&](size_t i, QueryState* part_state) {
      Evaluator part(part_state, start_, end_, interval_);
      part.EvalRangeSeries(plan, from_subquery ? nullptr : sets[i].get(), &subquery_result, n * i / parts,
                           n * (i + 1) / parts, &outputs[i]);
    });
    size_t total = 0;
    for (const Matrix& m : outputs) total += m.size();
    out.reserve(total);
    for (Matrix& m : outputs) std::move(m.begin(), m.end(), std::back_inserter(out));
  }
  state_->current_samples -= subquery_samples;

  if (plan.name == "absent_over_time") {
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

void Evaluator::EvalRangeSeries(const RangeCallPlan& plan, storage::SeriesSet* set, const Matrix* subquery,
                                size_t begin, size_t end, Matrix* out) {
  const promql::Call& call = *plan.call;
  const std::vector<Matrix>& scalar_args = *plan.scalar_args;
  std::vector<Vector> arg_vectors(call.args.size());
  for (size_t j = 0; j < call.args.size(); ++j) {
    if (j == plan.range_arg || call.args[j]->Type() == promql::ValueType::kString) continue;
    arg_vectors[j].push_back(Sample{state_->arena.Empty(), 0, 0, nullptr});
  }
  SlidingWindow window(state_);
  NodeHelper enh;
  enh.state = state_;
  Vector step_out;
  const bool keep_name = plan.name == "last_over_time";
  std::unique_ptr<PointReader> reader;
  std::vector<model::FloatWindow> windows;
  size_t position = begin;
  Labels without_name;
  while (true) {
    MetricRef metric;  // the output series' labels
    if (set == nullptr) {
      if (position >= end) break;
      const Series& s = (*subquery)[position++];
      metric = keep_name ? s.metric : enh.DropMetricName(s.metric);
      reader = NewSeriesPointReader(&s);
    } else {
      if (!set->Next()) break;
      // One label set per series, made without __name__ straight away
      // unless the function keeps it.
      const Labels& labels = set->labels();
      if (keep_name) {
        metric = state_->arena.Make(labels);
      } else {
        without_name.clear();
        for (const Label& label : labels) {
          if (label.name != kMetricNameLabel) without_name.push_back(label);
        }
        metric = state_->arena.Make(without_name);
      }
      if (plan.resolution > 0) {
        Series series;
        if (EvalRangeCallOnWindows(plan.name, set, plan.resolution, plan.range_ms, plan.offset_ms, plan.at_ms,
                                   metric, &windows, &series)) {
          if (series.size() > 0) {
            state_->current_samples += static_cast<int64_t>(series.size());
            if (state_->current_samples > state_->sample_limit) state_->NeedSamples(state_->current_samples);
            out->push_back(std::move(series));
          }
          continue;
        }
      }
      if (plan.resolution > 0 && plan.raw_dropped) {
        // This series' windows cannot answer (EvalRangeCallOnWindows).
        state_->AddWarning(DroppedByRetention(0, plan.raw_cutoff) + "; " + std::string(plan.name) +
                           "() on a series whose rollup windows cannot answer it (native histograms: " +
                           "sum_over_time, counter resets with changing zero buckets, or windows written " +
                           "before histogram rollups) needs raw samples, so it has no data before then");
      }
      state_->resolutions_used.insert(0);
      reader = NewStoragePointReader(set->Samples(), state_);
    }
    state_->CheckInterrupt();
    window.Reset(reader.get());
    Series series{metric, {}, {}};
    size_t step = 0;
    for (int64_t ts = start_; ts <= end_; ts += interval_, ++step) {
      state_->Tick();
      for (size_t j = 0; j < call.args.size(); ++j) {
        if (arg_vectors[j].empty()) continue;
        const Matrix& m = scalar_args[j];
        arg_vectors[j][0].f = (!m.empty() && step < m[0].floats.size()) ? m[0].floats[step].f : NAN;
      }
      const int64_t maxt = (plan.at_ms ? *plan.at_ms : ts) - plan.offset_ms;
      window.Advance(maxt - plan.range_ms, maxt);
      if (window.empty()) continue;
      FunctionInput in;
      in.call = &call;
      in.args = &arg_vectors;
      in.window_metric = metric;
      in.floats = window.floats();
      in.float_drops = window.float_drops();
      in.histograms = window.histograms();
      in.range_ms = plan.range_ms;
      in.window_end_ms = maxt;
      enh.ts = ts;
      step_out.clear();
      plan.impl(in, enh, &step_out);
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
      out->push_back(std::move(series));
    }
  }
  window.Reset(nullptr);
  if (set != nullptr && !set->status().ok()) throw EvalError{set->status()};
}

}  // namespace tsvault::query::eval
