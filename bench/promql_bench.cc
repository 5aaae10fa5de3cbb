// PromQL evaluation benchmarks: query::Engine against a real storage::DB
// holding one day of 15 s samples for 1000 counter series and 1000
// classic-histogram bucket series (checkpointed and compacted, so reads come
// from the chunk store). Each query runs as a range query over the whole day
// at a 60 s step and as an instant query at its end.
//
// items/s is samples read from storage per second: the samples DB::Select
// yields for the query's selector and time range, counted once at set-up
// through the same DB. `window_samples` adds Prometheus' per-step accounting
// (each sample counted once per step window it falls in). Time is ms/query.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "bench/bench_db.h"
#include "query/engine/engine.h"

namespace tsvault {
namespace {

constexpr int64_t kStartMs = 1700000000000;       // first sample
constexpr int64_t kScrapeMs = 15'000;
constexpr int64_t kRangeMs = 5 * 60 * 1000;        // the [5m] of every query
constexpr int64_t kQueryStartMs = kStartMs + kRangeMs;
constexpr int64_t kQueryEndMs = kQueryStartMs + 24 * 3600 * 1000;
constexpr int64_t kStepMs = 60'000;
constexpr int kJobs = 10;
constexpr int kInstances = 100;                    // per job for x; total for h
const double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, INFINITY};
constexpr int kBucketCount = sizeof kBuckets / sizeof kBuckets[0];
constexpr int kSamplesPerRequest = 240;            // one chunk's worth per series

// The DB, filled once per process.
struct PromDB {
  bench::BenchDB storage;
  Status status;
};

std::string BucketBound(double le) {
  if (std::isinf(le)) return "+Inf";
  char text[32];
  std::snprintf(text, sizeof text, "%g", le);
  return text;
}

// 1000 x{job, instance} counters and 1000 h_bucket{instance, le} cumulative
// buckets (100 instances x 10 bounds), one day + 5 min at 15 s.
Status Fill(storage::DB* db) {
  std::vector<Labels> labels;
  for (int job = 0; job < kJobs; ++job) {
    for (int instance = 0; instance < kInstances; ++instance) {
      Labels l = {{"__name__", "x"}, {"instance", "host-" + std::to_string(job * kInstances + instance)},
                  {"job", "job-" + std::to_string(job)}};
      labels.push_back(std::move(l));
    }
  }
  const size_t counters = labels.size();
  for (int instance = 0; instance < kInstances; ++instance) {
    for (double le : kBuckets) {
      labels.push_back({{"__name__", "h_bucket"}, {"instance", "host-" + std::to_string(instance)},
                        {"le", BucketBound(le)}});
    }
  }
  for (Labels& l : labels) SortLabels(&l);

  std::mt19937_64 rng(42);
  std::vector<double> values(labels.size(), 0);
  std::vector<uint64_t> refs;
  const int64_t steps = (kQueryEndMs - kStartMs) / kScrapeMs + 1;
  for (int64_t first = 0; first < steps; first += kSamplesPerRequest) {
    const int64_t last = std::min<int64_t>(steps, first + kSamplesPerRequest);
    storage::WriteInput input;
    input.series.resize(labels.size());
    for (size_t i = 0; i < labels.size(); ++i) {
      if (refs.empty()) {
        input.series[i].labels = labels[i];
      } else {
        input.series[i].series_ref = refs[i];
      }
    }
    for (int64_t step = first; step < last; ++step) {
      const int64_t t = kStartMs + step * kScrapeMs;
      for (size_t i = 0; i < counters; ++i) {
        values[i] += static_cast<double>(rng() % 20);
        input.series[i].samples.push_back({t, values[i]});
      }
      for (int instance = 0; instance < kInstances; ++instance) {
        // Observations this scrape, spread over the buckets cumulatively.
        const uint64_t observations = rng() % 50;
        uint64_t cumulative = 0;
        for (int b = 0; b < kBucketCount; ++b) {
          cumulative += (b + 1 == kBucketCount) ? observations - cumulative
                                                : (observations - cumulative) / 3;
          const size_t i = counters + static_cast<size_t>(instance * kBucketCount + b);
          values[i] += static_cast<double>(cumulative);
          input.series[i].samples.push_back({t, values[i]});
        }
      }
    }
    storage::WriteResult result;
    Status s = db->Append(input, &result);
    if (!s.ok()) return s;
    if (refs.empty()) refs = result.series_refs;
    s = db->Checkpoint();
    if (!s.ok()) return s;
  }
  return db->CompactAll();
}

std::unique_ptr<PromDB>& SharedPromDBSlot() {
  static std::unique_ptr<PromDB> shared;
  return shared;
}

PromDB* SharedPromDB() {
  std::unique_ptr<PromDB>& shared = SharedPromDBSlot();
  if (!shared) {
    shared = std::make_unique<PromDB>();
    shared->status = bench::OpenBenchDB(&shared->storage);
    if (shared->status.ok()) shared->status = Fill(shared->storage.db.get());
  }
  return shared.get();
}

struct QueryCase {
  const char* query;
  std::vector<bench::MatcherSpec> selector;  // of the one selector it reads
};

const QueryCase kQueries[] = {
    {"rate(x[5m])", {{storage::MatchType::kEqual, "__name__", "x"}}},
    {"sum by (job) (rate(x[5m]))", {{storage::MatchType::kEqual, "__name__", "x"}}},
    {"histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m])))",
     {{storage::MatchType::kEqual, "__name__", "h_bucket"}}},
};

// Samples DB::Select yields over [min_time, max_time] (what the engine
// reads), and the per-step window count for steps start, start+step, ... end.
Status CountSamples(storage::DB* db, const std::vector<storage::LabelMatcher>& matchers, int64_t start,
                    int64_t end, int64_t step, uint64_t* read, uint64_t* windowed) {
  std::unique_ptr<storage::SeriesSet> set;
  Status s = db->Select({start - kRangeMs, end}, matchers, &set);
  if (!s.ok()) return s;
  *read = *windowed = 0;
  std::vector<int64_t> times;
  while (set->Next()) {
    times.clear();
    for (auto it = set->Samples(); it->Next();) times.push_back(it->timestamp());
    *read += times.size();
    for (int64_t t = start; t <= end; t += step) {
      auto first = std::lower_bound(times.begin(), times.end(), t - kRangeMs);
      auto past = std::upper_bound(times.begin(), times.end(), t);
      *windowed += static_cast<uint64_t>(past - first);
    }
  }
  return set->status();
}

void BM_PromQL(benchmark::State& state) {
  const QueryCase& query = kQueries[state.range(0)];
  const bool range = state.range(1) != 0;
  // threads=1: each query on its own thread; 0: the engine's default, one
  // per core (range functions over many series split among them).
  const int threads = static_cast<int>(state.range(2));
  PromDB* prom = SharedPromDB();
  std::vector<storage::LabelMatcher> matchers;
  if (!prom->status.ok() || !bench::MakeMatchers(query.selector, &matchers).ok()) {
    state.SkipWithError(("set-up failed: " + prom->status.ToString()).c_str());
    return;
  }
  storage::DB* db = prom->storage.db.get();
  const int64_t start = range ? kQueryStartMs : kQueryEndMs;
  uint64_t read = 0, windowed = 0;
  Status s = CountSamples(db, matchers, start, kQueryEndMs, kStepMs, &read, &windowed);
  if (!s.ok() || read == 0) {
    state.SkipWithError(("counting samples failed: " + s.ToString()).c_str());
    return;
  }
  query::EngineOptions options;
  options.parallelism = threads;
  query::Engine engine(db, options);
  query::QueryResult result;
  size_t result_series = 0;
  for (auto _ : state) {
    s = range ? engine.RangeQuery(query.query, start, kQueryEndMs, kStepMs, &result)
              : engine.InstantQuery(query.query, kQueryEndMs, &result);
    result_series = range ? result.matrix.size() : result.vector.size();
    if (!s.ok() || result_series == 0) {
      state.SkipWithError(("query failed or empty: " + s.ToString()).c_str());
      break;
    }
  }
  state.SetLabel(std::string(range ? "range 1d/60s " : "instant ") + (threads == 1 ? "1 thread " : "per core ") +
                 query.query);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * read));
  state.counters["samples_read"] = static_cast<double>(read);
  state.counters["window_samples/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * windowed), benchmark::Counter::kIsRate);
  state.counters["result_series"] = static_cast<double>(result_series);
}
BENCHMARK(BM_PromQL)
    ->ArgsProduct({{0, 1, 2}, {1, 0}, {1, 0}})
    ->ArgNames({"query", "range", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace tsvault

int main(int argc, char** argv) {
  using namespace tsvault;
  return bench::RunBenchmarksThenClose(argc, argv, [] { SharedPromDBSlot().reset(); });
}
