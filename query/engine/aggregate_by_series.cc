// Aggregation of a float matrix series by series: sum, avg, count, min,
// max, group, stddev and stdvar without a parameter, as dashboards write
// them (`sum by (app) (rate(...))`).
//
// The step-wise path (aggregate.cc over RangeEvalMatrices) builds an
// instant vector of every input series at every step and looks its group up
// per sample. Here each input series is read once: its group is found once
// and its points are folded into one accumulator per (group, step). For a
// given accumulator the points arrive in input-series order, which is the
// order the step-wise path adds them in, so every result keeps its bits;
// the output series come in the order the step-wise path creates them.
#include <algorithm>
#include <cmath>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

namespace {

using promql::AggregateOp;

bool HandledOperator(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
    case AggregateOp::kAvg:
    case AggregateOp::kCount:
    case AggregateOp::kMin:
    case AggregateOp::kMax:
    case AggregateOp::kGroup:
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar:
      return true;
    default:
      return false;
  }
}

}  // namespace

void FloatAggregation::Start(AggregateOp op, double f) {
  value = f;
  mean = f;
  count = 1;
  if (op == AggregateOp::kStddev || op == AggregateOp::kStdvar) value = 0;
  if (op == AggregateOp::kGroup) value = 1;
}

void FloatAggregation::Add(AggregateOp op, double f) {
  switch (op) {
    case AggregateOp::kSum:
      value += f;
      break;
    case AggregateOp::kAvg: {
      ++count;
      if (std::isinf(mean)) {
        if (std::isinf(f) && (mean > 0) == (f > 0)) break;
        if (!std::isinf(f) && !std::isnan(f)) break;
      }
      const double n = static_cast<double>(count);
      mean += f / n - mean / n;
      break;
    }
    case AggregateOp::kMax:
      if (value < f || std::isnan(value)) value = f;
      break;
    case AggregateOp::kMin:
      if (value > f || std::isnan(value)) value = f;
      break;
    case AggregateOp::kCount:
      ++count;
      break;
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar: {
      ++count;
      const double delta = f - mean;
      mean += delta / static_cast<double>(count);
      value += delta * (f - mean);
      break;
    }
    default:
      break;
  }
}

double FloatAggregation::Finish(AggregateOp op) const {
  switch (op) {
    case AggregateOp::kAvg:
      return mean;
    case AggregateOp::kCount:
      return static_cast<double>(count);
    case AggregateOp::kStdvar:
      return value / static_cast<double>(count);
    case AggregateOp::kStddev:
      return std::sqrt(value / static_cast<double>(count));
    default:
      return value;
  }
}

bool Evaluator::AggregateBySeries(const promql::AggregateExpr& expr, const Matrix& input, int64_t original_samples,
                                  Matrix* out) {
  if (expr.param != nullptr || !HandledOperator(expr.op)) return false;
  int64_t points = 0;
  for (const Series& series : input) {
    if (!series.histograms.empty()) return false;
    points += static_cast<int64_t>(series.floats.size());
  }
  std::vector<std::string> grouping = expr.grouping;
  std::sort(grouping.begin(), grouping.end());
  KeyInterner ids;
  std::vector<uint32_t> group_of(input.size());
  std::string key;
  for (size_t i = 0; i < input.size(); ++i) {
    state_->Tick();
    SignatureKey(input[i].metric->labels, grouping, !expr.without, &key);
    group_of[i] = ids.Intern(key);
  }
  const int64_t steps = NumSteps();
  const int64_t groups = static_cast<int64_t>(ids.size());
  // Dense accumulators pay off while they are not much bigger than the
  // input; sparse inputs with many groups take the step-wise path.
  if (groups > 0 && steps > (4 * points + 4096) / groups) return false;
  const size_t slots = static_cast<size_t>(groups * steps);
  // The accumulators count as samples held while they live.
  const int64_t accumulator_samples =
      static_cast<int64_t>(slots * sizeof(FloatAggregation) / QueryState::kBytesPerSample);
  state_->NeedSamples(state_->current_samples + accumulator_samples);
  state_->current_samples += accumulator_samples;

  std::vector<FloatAggregation> accumulators(slots);
  // Where each group first has a sample: its step, and the input series
  // that put it there (the step-wise path creates the output series in
  // this order).
  std::vector<int64_t> first_step(static_cast<size_t>(groups), INT64_MAX);
  std::vector<size_t> first_series(static_cast<size_t>(groups), 0);
  for (size_t i = 0; i < input.size(); ++i) {
    const uint32_t group = group_of[i];
    FloatAggregation* row = accumulators.data() + static_cast<size_t>(group) * static_cast<size_t>(steps);
    const std::vector<FPoint>& floats = input[i].floats;
    if (floats.empty()) continue;
    state_->Tick();
    const int64_t step_of_first = (floats.front().t - start_) / interval_;
    if (step_of_first < first_step[group]) {
      first_step[group] = step_of_first;
      first_series[group] = i;
    }
    for (const FPoint& point : floats) {
      const int64_t step = (point.t - start_) / interval_;
      if (step < 0 || step >= steps) throw EvalError{Status::Internal("aggregation input point off the steps")};
      FloatAggregation& acc = row[step];
      if (acc.count == 0) {
        acc.Start(expr.op, point.f);
      } else {
        acc.Add(expr.op, point.f);
      }
    }
  }

  std::vector<uint32_t> order;
  order.reserve(static_cast<size_t>(groups));
  for (uint32_t g = 0; g < static_cast<uint32_t>(groups); ++g) {
    if (first_step[g] != INT64_MAX) order.push_back(g);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return first_step[a] != first_step[b] ? first_step[a] < first_step[b] : first_series[a] < first_series[b];
  });
  out->clear();
  out->reserve(order.size());
  for (uint32_t g : order) {
    // Every member of a group gives it the same labels.
    const Labels& source = input[first_series[g]].metric->labels;
    Labels labels = expr.without ? LabelsWithout(source, grouping, true) : LabelsKeeping(source, grouping);
    Series series{state_->arena.Make(std::move(labels)), {}, {}};
    const FloatAggregation* row = accumulators.data() + static_cast<size_t>(g) * static_cast<size_t>(steps);
    size_t present = 0;
    for (int64_t s = first_step[g]; s < steps; ++s) present += row[s].count > 0;
    state_->NeedSamples(state_->current_samples + static_cast<int64_t>(present));
    state_->current_samples += static_cast<int64_t>(present);
    series.floats.reserve(present);
    for (int64_t s = first_step[g]; s < steps; ++s) {
      if (row[s].count > 0) series.floats.push_back({start_ + s * interval_, row[s].Finish(expr.op)});
    }
    out->push_back(std::move(series));
  }
  int64_t result_samples = 0;
  for (const Series& series : *out) result_samples += static_cast<int64_t>(series.size());
  state_->current_samples = original_samples + result_samples;
  return true;
}

}  // namespace tsvault::query::eval
