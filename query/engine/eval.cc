// The evaluator core: expression dispatch, step-wise evaluation of
// functions/operators over their arguments (RangeEval), step-invariant
// subtrees, unary minus and number literals.
#include <unordered_map>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

namespace {

// Output series of a RangeEval, found by label set.
class SeriesByMetric {
 public:
  // The index of the series for `metric` in *out, created if needed.
  size_t Find(MetricRef metric, Matrix* out) {
    auto [begin, end] = index_.equal_range(metric->hash);
    for (auto it = begin; it != end; ++it) {
      MetricRef existing = (*out)[it->second].metric;
      if (existing == metric || existing->labels == metric->labels) return it->second;
    }
    out->push_back(Series{metric, {}, {}});
    index_.emplace(metric->hash, out->size() - 1);
    return out->size() - 1;
  }

 private:
  std::unordered_multimap<uint64_t, size_t> index_;
};

int64_t TotalSamples(const Matrix& matrix) {
  int64_t total = 0;
  for (const Series& s : matrix) total += static_cast<int64_t>(s.size());
  return total;
}

}  // namespace

Matrix Evaluator::Eval(const promql::Expr& expr) {
  state_->CheckInterrupt();
  using promql::ExprKind;
  switch (expr.kind) {
    case ExprKind::kAggregate:
      return EvalAggregate(expr.As<promql::AggregateExpr>());
    case ExprKind::kCall:
      return EvalCall(expr.As<promql::Call>());
    case ExprKind::kParen:
      return Eval(*expr.As<promql::ParenExpr>().expr);
    case ExprKind::kUnary:
      return EvalUnary(expr.As<promql::UnaryExpr>());
    case ExprKind::kBinary:
      return EvalBinary(expr.As<promql::BinaryExpr>());
    case ExprKind::kNumberLiteral:
      return EvalNumber(expr.As<promql::NumberLiteral>().value);
    case ExprKind::kStringLiteral:
      throw EvalError{Status::Internal("string literal evaluated as a vector")};
    case ExprKind::kVectorSelector:
      return EvalVectorSelector(expr.As<promql::VectorSelector>(), false);
    case ExprKind::kMatrixSelector:
      if (start_ != end_) ThrowExecution("cannot do range evaluation of matrix selector");
      return EvalMatrixSelector(expr.As<promql::MatrixSelector>());
    case ExprKind::kSubquery:
      return EvalSubquery(expr.As<promql::SubqueryExpr>());
    case ExprKind::kStepInvariant:
      return EvalStepInvariant(expr.As<promql::StepInvariantExpr>());
  }
  throw EvalError{Status::Internal("unhandled expression kind")};
}

size_t Evaluator::StepCapacity() const {
  const int64_t steps = NumSteps();
  if (steps > state_->sample_limit - state_->current_samples) state_->NeedSamples(state_->current_samples + steps);
  return static_cast<size_t>(steps);
}

Matrix Evaluator::EvalNumber(double value) {
  Series series{state_->arena.Empty(), {}, {}};
  series.floats.reserve(StepCapacity());
  for (int64_t ts = start_; ts <= end_; ts += interval_) {
    state_->AddSample();
    series.floats.push_back({ts, value});
  }
  Matrix out;
  out.push_back(std::move(series));
  return out;
}

Matrix Evaluator::RangeEval(const PrepareFn& prepare, const StepFn& step,
                            const std::vector<const promql::Expr*>& exprs) {
  const int64_t original = state_->current_samples;
  std::vector<Matrix> inputs(exprs.size());
  for (size_t i = 0; i < exprs.size(); ++i) {
    if (exprs[i] == nullptr || exprs[i]->Type() == promql::ValueType::kString) continue;
    inputs[i] = Eval(*exprs[i]);
  }
  return RangeEvalMatrices(prepare, step, std::move(inputs), original);
}

Matrix Evaluator::RangeEvalMatrices(const PrepareFn& prepare, const StepFn& step, std::vector<Matrix> inputs,
                                    int64_t original_samples) {
  const size_t n = inputs.size();
  std::vector<Vector> vectors(n);
  std::vector<std::vector<SeriesHelper>> series_helpers(n);
  std::vector<std::vector<const SeriesHelper*>> step_helpers(n);
  // Read positions into each input series' floats and histograms.
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> positions(n);
  size_t biggest = 1;
  for (size_t i = 0; i < n; ++i) {
    positions[i].assign(inputs[i].size(), {0, 0});
    vectors[i].reserve(inputs[i].size());
    biggest = std::max(biggest, inputs[i].size());
    if (prepare) {
      series_helpers[i].resize(inputs[i].size());
      for (size_t s = 0; s < inputs[i].size(); ++s) prepare(inputs[i][s].metric, &series_helpers[i][s]);
      step_helpers[i].reserve(inputs[i].size());
    }
  }
  NodeHelper enh;
  enh.state = state_;
  Vector out;
  out.reserve(biggest);
  Matrix result;
  SeriesByMetric result_index;
  int64_t temp_samples = state_->current_samples;
  const bool instant = start_ == end_;

  for (int64_t ts = start_; ts <= end_; ts += interval_) {
    state_->CheckInterrupt();
    state_->current_samples = temp_samples;
    for (size_t i = 0; i < n; ++i) {
      vectors[i].clear();
      if (prepare) step_helpers[i].clear();
      for (size_t s = 0; s < inputs[i].size(); ++s) {
        const Series& series = inputs[i][s];
        auto& [fpos, hpos] = positions[i][s];
        Sample sample;
        bool found = false;
        if (fpos < series.floats.size() && series.floats[fpos].t == ts) {
          sample = Sample{series.metric, ts, series.floats[fpos].f, nullptr};
          ++fpos;
          found = true;
        } else if (hpos < series.histograms.size() && series.histograms[hpos].t == ts) {
          sample = Sample{series.metric, ts, 0, series.histograms[hpos].h};
          ++hpos;
          found = true;
        }
        if (!found) continue;
        state_->AddSample();
        vectors[i].push_back(std::move(sample));
        if (prepare) step_helpers[i].push_back(&series_helpers[i][s]);
      }
    }
    enh.ts = ts;
    out.clear();
    step(vectors, step_helpers, enh, &out);
    if (ContainsSameLabelset(out)) ThrowExecution("vector cannot contain metrics with the same labelset");
    state_->current_samples += static_cast<int64_t>(out.size());
    temp_samples += static_cast<int64_t>(out.size());
    if (state_->current_samples > state_->sample_limit) state_->NeedSamples(state_->current_samples);

    if (instant) {
      Matrix matrix;
      matrix.reserve(out.size());
      for (Sample& sample : out) {
        Series series{sample.metric, {}, {}};
        if (sample.h) {
          series.histograms.push_back({ts, std::move(sample.h)});
        } else {
          series.floats.push_back({ts, sample.f});
        }
        matrix.push_back(std::move(series));
      }
      state_->current_samples = original_samples + TotalSamples(matrix);
      return matrix;
    }
    for (Sample& sample : out) {
      Series& series = result[result_index.Find(sample.metric, &result)];
      if (sample.h) {
        series.histograms.push_back({ts, std::move(sample.h)});
      } else {
        if (series.floats.empty()) series.floats.reserve(InitialPointCapacity());
        series.floats.push_back({ts, sample.f});
      }
    }
  }
  state_->current_samples = original_samples + TotalSamples(result);
  return result;
}

Matrix Evaluator::EvalStepInvariant(const promql::StepInvariantExpr& expr) {
  const promql::Expr& inner = *expr.expr;
  if (inner.kind == promql::ExprKind::kNumberLiteral) return Eval(inner);
  Evaluator once(state_, start_, start_, interval_);
  Matrix result = once.Eval(inner);
  if (inner.kind == promql::ExprKind::kMatrixSelector || inner.kind == promql::ExprKind::kSubquery) {
    return result;
  }
  for (Series& series : result) {
    if (series.size() != 1) ThrowExecution("unexpected number of samples");
    if (!series.floats.empty()) {
      const double value = series.floats[0].f;
      series.floats.reserve(StepCapacity());
      for (int64_t ts = start_ + interval_; ts <= end_; ts += interval_) {
        series.floats.push_back({ts, value});
        if (++state_->current_samples > state_->sample_limit) state_->NeedSamples(state_->current_samples);
      }
    } else {
      const HistogramRef h = series.histograms[0].h;
      for (int64_t ts = start_ + interval_; ts <= end_; ts += interval_) {
        series.histograms.push_back({ts, h});
        if (++state_->current_samples > state_->sample_limit) state_->NeedSamples(state_->current_samples);
      }
    }
  }
  return result;
}

Matrix Evaluator::EvalUnary(const promql::UnaryExpr& expr) {
  Matrix matrix = Eval(*expr.expr);
  if (expr.op != promql::UnaryOp::kMinus) return matrix;
  NodeHelper enh;
  enh.state = state_;
  for (Series& series : matrix) {
    series.metric = enh.DropMetricName(series.metric);
    for (FPoint& p : series.floats) p.f = -p.f;
  }
  if (ContainsSameLabelset(matrix)) ThrowExecution("vector cannot contain metrics with the same labelset");
  return matrix;
}

}  // namespace tsvault::query::eval
