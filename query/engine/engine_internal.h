// Internals of the PromQL engine (query/engine/engine.h), shared by the
// engine_*.cc files. Not part of the public API.
//
// The evaluator follows Prometheus 2.42's design: every expression is
// evaluated over all steps at once into a Matrix (one point per step per
// series); functions, operators and aggregations run step by step on the
// instant vectors gathered from their arguments' matrices (RangeEval).
// Evaluation errors are thrown as EvalError and turned into a Status at
// the Engine boundary; nothing throws out of the engine.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "query/engine/engine.h"
#include "model/float_histogram.h"
#include "model/kahan_sum.h"
#include "model/rollup.h"
#include "query/promql/ast.h"
#include "storage/db.h"

namespace re2 {
class RE2;
}

namespace tsvault::query::eval {

// An immutable label set with its hash, owned by the query's MetricArena.
struct Metric {
  Labels labels;
  uint64_t hash = 0;
};
using MetricRef = const Metric*;

struct QueryState;

// Owns every label set created while evaluating one query; references stay
// valid until the query ends. Its bytes count against the query's memory
// (QueryState::NeedBytes).
class MetricArena {
 public:
  explicit MetricArena(QueryState* owner) : owner_(owner) {}
  // Stores `labels` (canonical order) and returns a stable reference.
  // Throws an execution error when the query's memory is exhausted.
  MetricRef Make(Labels labels);
  // The empty label set.
  MetricRef Empty();
  // Bytes held by the label sets (strings, vectors, bookkeeping).
  int64_t bytes() const { return bytes_; }

 private:
  QueryState* const owner_;
  std::deque<Metric> metrics_;
  MetricRef empty_ = nullptr;
  int64_t bytes_ = 0;
};

// The memory all running queries share (EngineOptions::max_total_memory_bytes).
struct MemoryPool {
  std::atomic<int64_t> reserved{0};
};

using HistogramRef = std::shared_ptr<const model::FloatHistogram>;

struct FPoint {
  int64_t t = 0;
  double f = 0;
};

struct HPoint {
  int64_t t = 0;
  HistogramRef h;
};

// A series of evaluated points: floats and histograms, each in time order.
struct Series {
  MetricRef metric = nullptr;
  std::vector<FPoint> floats;
  std::vector<HPoint> histograms;
  size_t size() const { return floats.size() + histograms.size(); }
};
using Matrix = std::vector<Series>;

// One element of an instant vector: a float, or a histogram when h is set.
struct Sample {
  MetricRef metric = nullptr;
  int64_t t = 0;
  double f = 0;
  HistogramRef h;
};
using Vector = std::vector<Sample>;

// Aborts evaluation; caught by Engine.
struct EvalError {
  Status status;
};
// Stops one part of a parallel evaluation because another part failed;
// never leaves RunInParts.
struct SiblingFailed {};
// Throws an execution error (Status::ResourceExhausted, API "execution").
[[noreturn]] void ThrowExecution(const std::string& message);

class WorkerPool;

// State shared by all evaluators of one query.
//
// Parts of a query may run on several threads at once (RunInParts): each
// part then has its own QueryState forked from the query's (ForkFrom),
// which counts its own samples and ticks and reaches the query's state
// only under `parent->part_mutex`: for label sets (its arena forwards to
// the parent's), memory and sample grants, and warnings. The query's state
// is not touched otherwise until the parts have joined (JoinParent).
struct QueryState {
  QueryState() : arena(this) {}
  ~QueryState();
  QueryState(const QueryState&) = delete;
  QueryState& operator=(const QueryState&) = delete;

  storage::DB* db = nullptr;
  const EngineOptions* options = nullptr;
  MetricArena arena;
  std::chrono::steady_clock::time_point deadline;
  const std::atomic<bool>* cancelled = nullptr;
  int64_t current_samples = 0;  // samples held in memory (Prometheus' accounting)
  // The coarsest stored resolution selectors may read (max_source_resolution):
  // 0 for raw only.
  int64_t max_source_resolution_ms = 0;
  // Resolutions that served selectors of this query (0 = raw samples).
  std::set<int64_t> resolutions_used;
  // Why the answer may be partial or approximate (QueryResult::warnings),
  // each once, in the order found.
  std::vector<std::string> warnings;
  void AddWarning(std::string warning);
  // Samples the query may hold before NeedSamples must be asked: the
  // smaller of EngineOptions::max_samples and what the memory reserved so
  // far holds beside the arena. Hot loops compare against it; only
  // NeedSamples raises it.
  int64_t sample_limit = 0;
  // The total memory pool (null: no total bound) and this query's part of it.
  MemoryPool* pool = nullptr;
  int64_t reserved_bytes = 0;
  uint64_t ticks_ = 0;  // Tick()'s counter
  // Threads that evaluate parts of this query beside its own (null: none).
  WorkerPool* workers = nullptr;
  // For the state of one part of a parallel evaluation: the query's state,
  // the samples counted there on this part's behalf, and the flag that
  // says another part failed (then this one stops).
  QueryState* parent = nullptr;
  int64_t granted_samples = 0;
  const std::atomic<bool>* sibling_failed = nullptr;
  // Serialises the parts' calls into this state while they run.
  std::mutex part_mutex;
  // Makes this (fresh) state the state of one part of `parent`'s
  // evaluation. REQUIRES: parent->part_mutex not held.
  void ForkFrom(QueryState* parent_state, const std::atomic<bool>* failed);
  // Ends this part: samples granted but not held go back to the parent,
  // the ones held (its results) stay counted there; the resolutions used
  // join the parent's. REQUIRES: the part's thread has finished with it.
  void JoinParent();
  // Throws on timeout or cancellation (or when a sibling part failed).
  void CheckInterrupt() const;
  // For loops that may run billions of times (a step loop of a subquery
  // with a tiny step): checks for timeout and cancellation every 1024
  // calls, so a query ends within its timeout wherever it loops.
  void Tick() {
    if ((++ticks_ & 1023) == 0) CheckInterrupt();
  }
  // Makes room for `total` samples held at once: raises sample_limit to at
  // least `total`, reserving memory as needed, or throws (too many samples,
  // or the query's or all queries' memory bound).
  void NeedSamples(int64_t total);
  // Makes room for `more` bytes beyond the arena and the samples held (a
  // label set about to be stored, a string about to be built), or throws.
  void NeedBytes(int64_t more);
  // Counts one more sample in memory, throwing when no room can be made.
  void AddSample() {
    if (current_samples >= sample_limit) NeedSamples(current_samples + 1);
    ++current_samples;
  }
  // Memory charged per sample held (an FPoint).
  static constexpr int64_t kBytesPerSample = 16;

 private:
  // Checks that `more` bytes beyond what the query holds fit its bound,
  // reserves them from the pool, and recomputes sample_limit with
  // `pending_bytes` of them not for samples.
  void Reserve(int64_t more, int64_t pending_bytes);
};

// Per-series data prepared once per evaluation node (grouping key or
// matching signature).
struct SeriesHelper {
  std::string key;
  uint32_t id = 0;  // dense number of `key` within the node (KeyInterner)
};

// Numbers distinct keys 0, 1, 2, ... so that per-step lookups can use
// vectors instead of hash maps.
class KeyInterner {
 public:
  uint32_t Intern(const std::string& key) {
    auto [it, inserted] = ids_.try_emplace(key, static_cast<uint32_t>(ids_.size()));
    return it->second;
  }
  size_t size() const { return ids_.size(); }

 private:
  std::unordered_map<std::string, uint32_t> ids_;
};

// Caches and scratch space for one node across its steps (Prometheus'
// EvalNodeHelper).
struct NodeHelper {
  QueryState* state = nullptr;
  int64_t ts = 0;  // the current step's timestamp
  std::unordered_map<MetricRef, MetricRef> drop_name_cache;
  std::unordered_map<MetricRef, MetricRef> label_cache;
  std::shared_ptr<re2::RE2> regex;
  bool regex_checked = false;
  // The metric without __name__, cached by input metric.
  MetricRef DropMetricName(MetricRef metric);
};

// ---- Label helpers (labels are canonical: sorted by name) ----
Labels LabelsWithout(const Labels& labels, std::span<const std::string> names, bool also_metric_name);
Labels LabelsKeeping(const Labels& labels, std::span<const std::string> names);
void SetLabel(Labels* labels, std::string_view name, std::string_view value);  // empty value deletes
bool IsValidLabelName(std::string_view name);
// A collision-free key over the values of `names` (on=true) or of all
// labels except `names` and __name__ (on=false); `names` must be sorted.
void SignatureKey(const Labels& labels, std::span<const std::string> names, bool on, std::string* out);
// A key over all labels except `names` (__name__ included).
void LabelsKeyWithout(const Labels& labels, std::span<const std::string> names, std::string* out);
// True when two vector elements share a label set.
bool ContainsSameLabelset(const Vector& vector);
bool ContainsSameLabelset(const Matrix& matrix);

// ---- Functions ----

// The arguments of one function call at one step.
struct FunctionInput {
  const promql::Call* call = nullptr;
  // One per argument: the instant vector (a scalar is a one-element
  // vector); empty for string arguments and for the range argument.
  const std::vector<Vector>* args = nullptr;
  // For functions taking a range vector: the window of one series, and
  // the labels its result carries (without __name__ unless the function
  // keeps it).
  MetricRef window_metric = nullptr;
  std::span<const FPoint> floats;
  std::span<const HPoint> histograms;
  int64_t range_ms = 0;       // the selector's range
  int64_t window_end_ms = 0;  // the window's end (step time minus offset)
  // How many floats are below the one before them in `floats` (counter
  // resets), when the caller kept count (SlidingWindow::float_drops);
  // kUnknownDrops otherwise. Lets rate() skip its reset scan when it is 0.
  static constexpr size_t kUnknownDrops = static_cast<size_t>(-1);
  size_t float_drops = kUnknownDrops;
};

// A function implementation: appends its results for one step to *out.
// Range-vector functions append at most one sample whose metric is ignored.
using FunctionImpl = void (*)(const FunctionInput& in, NodeHelper& enh, Vector* out);

// The value of scalar argument `index` at this step (NaN if missing).
inline double ScalarArgument(const std::vector<Vector>& args, size_t index) {
  return index < args.size() && !args[index].empty() ? args[index][0].f : __builtin_nan("");
}

// The implementation of a PromQL function, or nullptr when unknown.
FunctionImpl LookupFunctionImpl(std::string_view name);

// Registration tables of the function files.
struct FunctionEntry {
  std::string_view name;
  FunctionImpl impl;
};
std::span<const FunctionEntry> MathFunctions();
std::span<const FunctionEntry> TimeFunctions();
std::span<const FunctionEntry> RangeFunctions();
std::span<const FunctionEntry> OverTimeFunctions();
std::span<const FunctionEntry> HistogramFunctions();
std::span<const FunctionEntry> LabelFunctions();

// The string value of a string-literal argument (through parens and
// step-invariant wrappers).
std::string StringArgument(const promql::Expr& expr);
// Strips ParenExpr and StepInvariantExpr wrappers.
const promql::Expr& Unwrap(const promql::Expr& expr);
// Strips ParenExpr wrappers only.
const promql::Expr& UnwrapParens(const promql::Expr& expr);
// The labels absent()/absent_over_time() report for their argument.
Labels AbsentLabels(const promql::Expr& argument);
// The factor by which Prometheus' extrapolatedRate scales last - first (plus
// resets): extrapolation to the range boundaries, per second for rate.
// `floats` and `first_value` matter only for counters (the zero point).
double ExtrapolationFactor(int64_t first_t, int64_t last_t, size_t samples_minus_one, bool floats,
                           double first_value, double result, int64_t range_start, int64_t range_end,
                           int64_t range_ms, bool is_counter, bool is_rate);

// Rollups (rollup_eval.cc): the coarsest resolution whose windows answer
// `function` over [t - range, t] exactly at every step of this evaluator
// (range, offset, @ and step times multiples of it), at most
// `max_resolution_ms` (0: raw only); 0 when none does.
int64_t ChooseRollupResolution(std::string_view function, int64_t max_resolution_ms, int64_t range_ms,
                               int64_t offset_ms, std::optional<int64_t> at_ms, int64_t start_ms,
                               int64_t end_ms, int64_t interval_ms);
// Whether a range selector's times (range, offset, @ or the evaluation
// range) stay far enough from the int64 limits for rollup windows.
bool RollupTimesInRange(int64_t range_ms, int64_t offset_ms, std::optional<int64_t> at_ms, int64_t start_ms,
                        int64_t end_ms);
// An instant selector's sample at `ref` from rollup windows (sorted by
// end): the last sample of the latest window ending at or before ref (ref
// snapped down to a window end) that is within `lookback`; false when there
// is none or it is a stale marker. Exact when ref is a window end. A
// histogram sample comes back in *h (null for a float). REQUIRES: no
// window has unknown histograms. `next` carries the scan position across
// increasing refs.
bool InstantFromWindows(const std::vector<model::FloatWindow>& windows, int64_t resolution, int64_t ref,
                        int64_t lookback, size_t* next, int64_t* t, double* f, HistogramRef* h);
// "raw samples before <RFC 3339> were dropped by retention" (or "5m
// rollups ..."): the start of every retention warning.
std::string DroppedByRetention(int64_t resolution, int64_t cutoff);
// Where retention dropped what `resolution` (0: raw) holds before
// `first_ms`, the first timestamp a range selector under `function` needs:
// the finest coarser rollup resolution (at most the query's
// max_source_resolution) that still holds it, for functions rollups answer,
// else `resolution`. Adds a warning saying what was dropped and how the
// answer is affected.
int64_t ResolutionWithinRetention(QueryState* state, std::string_view function, int64_t resolution,
                                  int64_t first_ms);
// The value of rollup-able `function` for the folded windows of one range
// (total_count() > 0): a float in *value, or a histogram in *histogram
// (null otherwise); false when the function has no value, as on raw
// samples (rate with one sample or with floats and histograms mixed,
// min_over_time without floats). REQUIRES: sum_over_time only on ranges
// without histograms.
bool EvalRollupFunction(std::string_view function, const model::FloatWindow& range, int64_t range_ms,
                        int64_t window_end_ms, double* value, HistogramRef* histogram);

// The float rules of sum, avg, count, min, max, group, stddev and stdvar
// for one group at one step, as Prometheus 2.42's aggregation applies them:
// Start with the group's first sample's float (0 for a histogram), Add
// each further float in input order, Finish for the value. Shared by the
// step-wise (aggregate.cc) and series-wise (aggregate_by_series.cc) paths.
struct FloatAggregation {
  double value = 0;
  double mean = 0;
  int64_t count = 0;  // samples so far (0: none yet)
  void Start(promql::AggregateOp op, double f);
  void Add(promql::AggregateOp op, double f);
  double Finish(promql::AggregateOp op) const;
};

// Prometheus' quantile over float values (sorts `values`).
double Quantile(double q, std::vector<double>* values);
// Prometheus' Kahan-Neumaier summation step (model/kahan_sum.h).
using model::KahanAdd;

// ---- Evaluator ----

// A call of a range-vector function, prepared once and the same for each
// series it evaluates (range_call.cc).
struct RangeCallPlan {
  const promql::Call* call = nullptr;
  FunctionImpl impl = nullptr;
  std::string_view name;  // the function's
  size_t range_arg = 0;   // which argument is the range vector
  int64_t range_ms = 0;
  int64_t offset_ms = 0;
  std::optional<int64_t> at_ms;
  int64_t resolution = 0;           // the rollup resolution tried first; 0: raw samples
  int64_t raw_cutoff = INT64_MIN;   // the raw retention cutoff (INT64_MIN: none)
  bool raw_dropped = false;         // retention dropped raw samples the range needs
  // The scalar arguments' values, one point per step (empty matrices for
  // the range and string arguments).
  const std::vector<Matrix>* scalar_args = nullptr;
};

// Evaluates expressions at start, start+interval, ..., end.
class Evaluator {
 public:
  Evaluator(QueryState* state, int64_t start_ms, int64_t end_ms, int64_t interval_ms)
      : state_(state), start_(start_ms), end_(end_ms), interval_(interval_ms) {}

  // Evaluates `expr` (not a string literal) into one point per step per series.
  Matrix Eval(const promql::Expr& expr);

  int64_t start() const { return start_; }
  int64_t end() const { return end_; }
  int64_t interval() const { return interval_; }
  int64_t NumSteps() const { return end_ < start_ ? 0 : (end_ - start_) / interval_ + 1; }
  // Capacity to reserve for a new output series: the step count, capped so
  // that many sparse series do not each reserve a full range.
  size_t InitialPointCapacity() const { return static_cast<size_t>(std::min<int64_t>(NumSteps(), 256)); }
  // Room for one point per step, refused (too many samples) when the steps
  // alone exceed the sample limit: a subquery step of 1ms over a year must
  // fail at once, not allocate for 3e10 points.
  size_t StepCapacity() const;
  QueryState* state() const { return state_; }

  using PrepareFn = std::function<void(MetricRef, SeriesHelper*)>;
  using StepFn = std::function<void(std::vector<Vector>& args,
                                    std::vector<std::vector<const SeriesHelper*>>& helpers,
                                    NodeHelper& enh, Vector* out)>;
  // Evaluates `exprs` (null or string entries give empty arguments), then
  // calls `step` at every step with the instant vectors of that step and
  // assembles the outputs into series (Prometheus' rangeEval).
  Matrix RangeEval(const PrepareFn& prepare, const StepFn& step, const std::vector<const promql::Expr*>& exprs);
  // Same with already evaluated inputs; `original_samples` is the sample
  // count before the inputs were evaluated.
  Matrix RangeEvalMatrices(const PrepareFn& prepare, const StepFn& step, std::vector<Matrix> inputs,
                           int64_t original_samples);

 private:
  // eval.cc
  Matrix EvalStepInvariant(const promql::StepInvariantExpr& expr);
  Matrix EvalUnary(const promql::UnaryExpr& expr);
  Matrix EvalNumber(double value);
  // rollup_eval.cc: one series of a range function answered from rollup windows
  // at `resolution`, its result labelled `metric` (already without __name__
  // where the function drops it); false when the series must be read raw
  // instead.
  bool EvalRangeCallOnWindows(std::string_view name, storage::SeriesSet* set,
                              int64_t resolution, int64_t range_ms, int64_t offset_ms,
                              std::optional<int64_t> at_ms, MetricRef metric,
                              std::vector<model::FloatWindow>* windows, Series* series);
  // selectors.cc
  Matrix EvalVectorSelector(const promql::VectorSelector& selector, bool timestamps_as_values);
  // For an instant selector that needs raw samples from `need_from` on where
  // retention dropped them: the finest rollup resolution (within
  // max_source_resolution) that holds that range, with a warning; 0 when
  // raw samples cover it or none does.
  int64_t InstantSelectorResolution(const promql::VectorSelector& selector, int64_t need_from);
  Matrix EvalMatrixSelector(const promql::MatrixSelector& selector);
  Matrix EvalSubquery(const promql::SubqueryExpr& subquery);
  // The evaluator running a subquery's inner expression (steps aligned to
  // absolute multiples of the subquery step).
  Evaluator SubqueryEvaluator(const promql::SubqueryExpr& subquery) const;
  // call.cc
  Matrix EvalCall(const promql::Call& call);
  // range_call.cc
  Matrix EvalRangeCall(const promql::Call& call, size_t range_arg, FunctionImpl impl);
  // Appends to *out the result of `plan` for each series of `set` (from
  // storage) or, when `set` is null, of (*subquery)[begin, end).
  void EvalRangeSeries(const RangeCallPlan& plan, storage::SeriesSet* set, const Matrix* subquery, size_t begin,
                       size_t end, Matrix* out);
  // binary.cc
  Matrix EvalBinary(const promql::BinaryExpr& expr);
  // aggregate.cc
  Matrix EvalAggregate(const promql::AggregateExpr& expr);
  // aggregate_by_series.cc: `expr` (sum, avg, count, min, max, group,
  // stddev or stdvar, no parameter) over the evaluated float matrix `input`,
  // one input series at a time, bit-identical to the step-wise path and in
  // its output order; false (nothing done) for other operators, histogram
  // input, or inputs too sparse for dense per-step accumulators.
  // `original_samples` is the sample count before `input` was evaluated.
  bool AggregateBySeries(const promql::AggregateExpr& expr, const Matrix& input, int64_t original_samples,
                         Matrix* out);

  QueryState* state_;
  int64_t start_, end_, interval_;
};

// ---- Storage access (selectors.cc) ----

// Reads the points of one series in time order, skipping nothing.
class PointReader {
 public:
  virtual ~PointReader() = default;
  // The next point; exactly one of *f / *h is meaningful (*h set for a
  // histogram). *stale is true for a staleness marker.
  virtual bool Next(int64_t* t, double* f, HistogramRef* h, bool* stale) = 0;
};

// The points of a series inside a window that only moves forward,
// skipping staleness markers (Prometheus' matrixIterSlice). Every point
// held counts against the query's sample limit.
class SlidingWindow {
 public:
  explicit SlidingWindow(QueryState* state) : state_(state) {}
  ~SlidingWindow() { Clear(); }
  // Starts over with a new series.
  void Reset(PointReader* reader);
  // Moves the window to [mint, maxt]; both must not decrease between calls.
  void Advance(int64_t mint, int64_t maxt);
  std::span<const FPoint> floats() const { return {floats_.data() + float_begin_, floats_.size() - float_begin_}; }
  std::span<const HPoint> histograms() const {
    return {histograms_.data() + histogram_begin_, histograms_.size() - histogram_begin_};
  }
  bool empty() const { return floats().empty() && histograms().empty(); }
  // How many of floats() are below the float before them in the window
  // (counter resets), kept as points enter and leave.
  size_t float_drops() const { return float_drops_; }
  // Releases the held points (and their sample accounting).
  void Clear();
  // Moves the held points into *out; they stay counted as in memory.
  void TakeAll(Series* out);

 private:
  QueryState* state_;
  PointReader* reader_ = nullptr;
  bool has_pending_ = false;
  int64_t pending_t_ = 0;
  double pending_f_ = 0;
  HistogramRef pending_h_;
  bool pending_stale_ = false;
  bool exhausted_ = false;
  std::vector<FPoint> floats_;
  size_t float_begin_ = 0;
  size_t float_drops_ = 0;  // i in (float_begin_, size) with floats_[i].f < floats_[i - 1].f
  std::vector<HPoint> histograms_;
  size_t histogram_begin_ = 0;
};

// A PointReader over a storage sample iterator (histograms converted;
// malformed ones skipped).
std::unique_ptr<PointReader> NewStoragePointReader(std::unique_ptr<storage::SampleIterator> iterator,
                                                   QueryState* state);
// A PointReader over an evaluated series.
std::unique_ptr<PointReader> NewSeriesPointReader(const Series* series);

// Selects the series of `selector` with data in [hints.start_ms,
// hints.end_ms] through the storage select API; throws on error.
std::unique_ptr<storage::SeriesSet> SelectSeries(QueryState* state, const promql::VectorSelector& selector,
                                                 const storage::SelectHints& hints);

}  // namespace tsvault::query::eval
