// The PromQL evaluation engine: runs instant and range queries against the
// storage engine with the semantics of Prometheus 2.42 (promql/engine.go,
// functions.go, quantile.go). See docs/query-api.md.
//
// Errors map to Prometheus' API errorType:
//   InvalidArgument   -> bad_data   (parse errors, wrong expression type)
//   ResourceExhausted -> execution  (evaluation errors such as duplicate
//                                    label sets, many-to-many matching,
//                                    too many samples, bad regex)
//   DeadlineExceeded  -> timeout
//   Cancelled         -> canceled
//   anything else     -> internal   (storage failures)
//
// Thread safety: an Engine may run any number of queries concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "model/float_histogram.h"
#include "query/engine/query_gate.h"
#include "storage/db.h"

namespace tsvault::query {

namespace eval {
struct MemoryPool;
class WorkerPool;
}

struct EngineOptions {
  // How far back an instant vector selector looks for the latest sample.
  std::chrono::milliseconds lookback_delta{5 * 60 * 1000};
  // Longest a query may run before it fails with DeadlineExceeded.
  std::chrono::milliseconds timeout{2 * 60 * 1000};
  // Most samples a query may hold in memory at once (Prometheus'
  // --query.max-samples accounting).
  int64_t max_samples = 50'000'000;
  // Most memory one query may hold: its label sets (label strings included,
  // e.g. those label_join or count_values make) plus 16 bytes per sample
  // it holds; more fails the query with an execution error naming the
  // limit. <= 0: unlimited.
  int64_t max_memory_bytes = 1ll << 30;
  // Most memory all running queries may hold together, counted the same
  // way (each query reserves from it as it grows, in 4 MiB steps, and
  // returns its share when done). <= 0: unlimited.
  int64_t max_total_memory_bytes = 2ll << 30;
  // Most points per series a range query may produce; RangeQuery refuses
  // (end - start) / step above it.
  int64_t max_points_per_series = 11'000;
  // Step of subqueries written without one (`x[1h:]`): Prometheus' global
  // evaluation interval.
  std::chrono::milliseconds default_subquery_step{60 * 1000};
  // Most queries evaluating at once; more wait for a slot, and the wait
  // counts against their timeout. <= 0: unlimited.
  int max_concurrency = 20;
  // Threads one query may evaluate on at once (its own included): a range
  // function over many series splits them into parts for the engine's
  // parallelism - 1 worker threads, shared by all queries; answers are the
  // same bit for bit. <= 0: one per CPU core; 1: each query on its own
  // thread only.
  int parallelism = 0;
  // Called after every successful query with the resolutions that served
  // it (QueryResult::resolutions_used); for /metrics. May be empty.
  std::function<void(const std::vector<int64_t>& resolutions_used)> resolution_observer;
};

// Per-query controls.
struct QueryControl {
  // A tighter deadline than EngineOptions::timeout (e.g. the API's
  // `timeout` parameter); the smaller one applies.
  std::optional<std::chrono::milliseconds> timeout;
  // When set and it becomes true, the query stops with Cancelled.
  const std::atomic<bool>* cancelled = nullptr;
  // The coarsest rollup resolution (Thanos' max_source_resolution) a range
  // function may read when its windows answer it exactly: 0 reads raw
  // samples only; 5m, 1h or 1d allow rollups up to it. The default allows
  // all (`auto`): each selector then reads the coarsest resolution whose
  // windows give the same answer as the raw samples (docs/downsampling.md).
  int64_t max_source_resolution_ms = kAutoSourceResolution;

  static constexpr int64_t kAutoSourceResolution = 24 * 60 * 60 * 1000;
};

// A float sample at a time.
struct FloatPoint {
  int64_t timestamp_ms = 0;
  double value = 0;
};

// A histogram sample at a time.
struct HistogramPoint {
  int64_t timestamp_ms = 0;
  model::FloatHistogram histogram;
};

// One series of a matrix result; floats and histograms are each in time order.
struct ResultSeries {
  Labels labels;
  std::vector<FloatPoint> floats;
  std::vector<HistogramPoint> histograms;
};

// One element of an instant vector result: a float or a histogram.
struct ResultSample {
  Labels labels;
  int64_t timestamp_ms = 0;
  double value = 0;
  std::optional<model::FloatHistogram> histogram;
};

enum class ResultType { kMatrix, kVector, kScalar, kString };

// "matrix", "vector", "scalar" or "string".
const char* ResultTypeName(ResultType type);

// The value of a query. Only the member matching `type` is meaningful.
// Matrices from range queries are sorted by labels; vectors keep the order
// Prometheus produces (significant only after sort()/sort_desc()).
struct QueryResult {
  ResultType type = ResultType::kVector;
  std::vector<ResultSeries> matrix;
  std::vector<ResultSample> vector;
  FloatPoint scalar;
  int64_t string_timestamp_ms = 0;
  std::string string_value;
  // The resolutions that served the query's selectors, ascending: 0 for
  // raw samples, else the rollup resolution in milliseconds.
  std::vector<int64_t> resolutions_used;
  // Why the answer may be partial or approximate (data dropped by
  // retention), as Prometheus' API "warnings".
  std::vector<std::string> warnings;
};

class Engine {
 public:
  // `db` must outlive the engine.
  Engine(storage::DB* db, EngineOptions options);
  ~Engine();

  const EngineOptions& options() const { return options_; }

  // Evaluates `query` at `time_ms`. The result is a vector, scalar, string
  // or (for a range selector or subquery) matrix.
  Status InstantQuery(std::string_view query, int64_t time_ms, QueryResult* result,
                      const QueryControl& control = {}) const;

  // Evaluates `query` at start, start+step, ... <= end and returns a matrix.
  // The expression must be an instant vector or a scalar; step must be > 0,
  // end >= start and (end - start) / step <= max_points_per_series.
  Status RangeQuery(std::string_view query, int64_t start_ms, int64_t end_ms, int64_t step_ms,
                    QueryResult* result, const QueryControl& control = {}) const;

 private:
  Status Run(std::string_view query, int64_t start_ms, int64_t end_ms, int64_t step_ms, bool instant,
             QueryResult* result, const QueryControl& control) const;

  storage::DB* db_;
  EngineOptions options_;
  std::unique_ptr<QueryGate> gate_;  // --query.max-concurrency
  // What running queries hold, against max_total_memory_bytes. Thread-safe.
  std::unique_ptr<eval::MemoryPool> memory_pool_;
  // The threads that evaluate parts of queries beside the queries' own
  // (EngineOptions::parallelism - 1 of them); null when there are none.
  std::unique_ptr<eval::WorkerPool> workers_;
};

}  // namespace tsvault::query
