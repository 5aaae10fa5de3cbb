// Engine: parses and prepares a query, runs the evaluator and converts its
// matrix into the API result (query/engine/engine.h).
#include "query/engine/engine.h"

#include <algorithm>
#include <limits>
#include <new>
#include <thread>

#include "query/engine/engine_internal.h"
#include "query/engine/parallel.h"
#include "query/promql/parser.h"
#include "query/promql/preprocess.h"

namespace tsvault::query {

namespace {

// 11000 -> "11,000", as in Prometheus' message.
std::string WithThousandsSeparators(int64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && digits[i - 1] != '-' && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

void ToResultSeries(const eval::Series& series, ResultSeries* out) {
  out->labels = series.metric->labels;
  out->floats.reserve(series.floats.size());
  for (const eval::FPoint& p : series.floats) out->floats.push_back({p.t, p.f});
  out->histograms.reserve(series.histograms.size());
  for (const eval::HPoint& p : series.histograms) out->histograms.push_back({p.t, *p.h});
}

}  // namespace

const char* ResultTypeName(ResultType type) {
  switch (type) {
    case ResultType::kMatrix: return "matrix";
    case ResultType::kVector: return "vector";
    case ResultType::kScalar: return "scalar";
    case ResultType::kString: return "string";
  }
  return "vector";
}

Engine::Engine(storage::DB* db, EngineOptions options)
    : db_(db),
      options_(std::move(options)),
      gate_(std::make_unique<QueryGate>(options_.max_concurrency)),
      memory_pool_(std::make_unique<eval::MemoryPool>()) {
  int threads = options_.parallelism;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (threads > 1) workers_ = std::make_unique<eval::WorkerPool>(threads - 1);
}

Engine::~Engine() = default;

Status Engine::InstantQuery(std::string_view query, int64_t time_ms, QueryResult* result,
                            const QueryControl& control) const {
  return Run(query, time_ms, time_ms, 0, true, result, control);
}

Status Engine::RangeQuery(std::string_view query, int64_t start_ms, int64_t end_ms, int64_t step_ms,
                          QueryResult* result, const QueryControl& control) const {
  if (step_ms <= 0) {
    return Status::InvalidArgument(
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  if (end_ms < start_ms) return Status::InvalidArgument("end timestamp must not be before start time");
  if ((end_ms - start_ms) / step_ms > options_.max_points_per_series) {
    return Status::InvalidArgument("exceeded maximum resolution of " +
                                   WithThousandsSeparators(options_.max_points_per_series) +
                                   " points per timeseries. Try decreasing the query resolution (?step=XX)");
  }
  return Run(query, start_ms, end_ms, step_ms, false, result, control);
}

Status Engine::Run(std::string_view query, int64_t start_ms, int64_t end_ms, int64_t step_ms, bool instant,
                   QueryResult* result, const QueryControl& control) const {
  std::unique_ptr<promql::Expr> expr;
  Status s = ParseExpr(query, &expr);
  if (!s.ok()) return s;
  const promql::ValueType type = expr->Type();
  if (!instant && type != promql::ValueType::kVector && type != promql::ValueType::kScalar) {
    return Status::InvalidArgument(std::string("invalid expression type \"") + promql::DocumentedValueTypeName(type) +
                                   "\" for range query, must be Scalar or instant Vector");
  }
  promql::PreprocessExpr(&expr, start_ms, end_ms);

  eval::QueryState state;
  state.db = db_;
  state.options = &options_;
  auto timeout = options_.timeout;
  if (control.timeout && *control.timeout < timeout) timeout = *control.timeout;
  state.deadline = std::chrono::steady_clock::now() + timeout;
  state.cancelled = control.cancelled;
  state.pool = memory_pool_.get();
  state.workers = workers_.get();
  state.max_source_resolution_ms = control.max_source_resolution_ms;

  // Wait for a slot among --query.max-concurrency; the wait is part of the
  // query's time, as in Prometheus.
  QueryGate::Slot slot;
  s = slot.Acquire(gate_.get(), state.deadline, control.cancelled);
  if (!s.ok()) return s;

  *result = QueryResult();
  try {
    state.CheckInterrupt();
    state.NeedSamples(0);  // sets sample_limit
    if (type == promql::ValueType::kString) {
      result->type = ResultType::kString;
      result->string_value = eval::StringArgument(*expr);
      result->string_timestamp_ms = start_ms;
      return Status::OK();
    }
    eval::Evaluator evaluator(&state, start_ms, end_ms, instant ? 1 : step_ms);
    eval::Matrix matrix = evaluator.Eval(*expr);
    state.CheckInterrupt();
    result->resolutions_used.assign(state.resolutions_used.begin(), state.resolutions_used.end());
    result->warnings = state.warnings;
    if (options_.resolution_observer) options_.resolution_observer(result->resolutions_used);
    if (!instant) {
      result->type = ResultType::kMatrix;
      std::sort(matrix.begin(), matrix.end(), [](const eval::Series& a, const eval::Series& b) {
        return CompareLabels(a.metric->labels, b.metric->labels) < 0;
      });
      result->matrix.resize(matrix.size());
      for (size_t i = 0; i < matrix.size(); ++i) ToResultSeries(matrix[i], &result->matrix[i]);
      return Status::OK();
    }
    switch (type) {
      case promql::ValueType::kVector:
        result->type = ResultType::kVector;
        result->vector.reserve(matrix.size());
        for (const eval::Series& series : matrix) {
          ResultSample sample;
          sample.labels = series.metric->labels;
          sample.timestamp_ms = start_ms;
          if (!series.floats.empty()) {
            sample.value = series.floats[0].f;
          } else if (!series.histograms.empty()) {
            sample.histogram = *series.histograms[0].h;
          }
          result->vector.push_back(std::move(sample));
        }
        break;
      case promql::ValueType::kScalar:
        result->type = ResultType::kScalar;
        result->scalar.timestamp_ms = start_ms;
        result->scalar.value =
            (!matrix.empty() && !matrix[0].floats.empty()) ? matrix[0].floats[0].f : std::numeric_limits<double>::quiet_NaN();
        break;
      default:
        result->type = ResultType::kMatrix;
        result->matrix.resize(matrix.size());
        for (size_t i = 0; i < matrix.size(); ++i) ToResultSeries(matrix[i], &result->matrix[i]);
        break;
    }
    return Status::OK();
  } catch (const eval::EvalError& e) {
    *result = QueryResult();
    return e.status;
  } catch (const std::bad_alloc&) {
    *result = QueryResult();
    return Status::ResourceExhausted("query ran out of memory");
  } catch (const std::exception& e) {
    *result = QueryResult();
    return Status::Internal(std::string("unexpected error: ") + e.what());
  }
}

}  // namespace tsvault::query
