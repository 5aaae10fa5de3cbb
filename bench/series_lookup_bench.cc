// Series lookup benchmarks: the cost of resolving a label set to its series
// id on the append path (receiver cache, storage head index, public Append by
// labels versus by reference) and of finding series with equality matchers
// through the public DB::Series / DB::Select, over the seed workload at
// scale 1 (8,744 series) and 10 (87,440 series). Reports lookups/s or series/s.
#include <benchmark/benchmark.h>


#include "bench/bench_db.h"
#include "remote_write/series_ref_cache.h"
#include "storage/keys.h"
#include "storage/mem_series.h"
#include "storage/series_index.h"

namespace tsvault {
namespace {

constexpr size_t kSeriesPerRequest = 2000;

// Receiver layer: a known series is found by the bytes of its labels as they
// arrived on the wire (remote_write/series_ref_cache.h). Times Hash + Lookup.
void BM_SeriesRefCacheLookup(benchmark::State& state) {
  bench::SeedDB* seed = bench::SharedSeedDB(static_cast<int>(state.range(0)));
  const workload::SeedWorkload& workload = seed->workload;
  const size_t count = workload.num_series();
  std::vector<std::string> keys(count);
  remote_write::SeriesRefCache cache(4'000'000, 1ull << 30);  // the receiver's defaults
  for (size_t i = 0; i < count; ++i) {
    for (const Label& label : workload.labels(i)) {
      remote_write::AppendSeriesKeyLabel(label.name, label.value, &keys[i]);
    }
    cache.Insert(keys[i], cache.Hash(keys[i]), i + 1);
  }
  size_t next = 0;
  for (auto _ : state) {
    const std::string& key = keys[next];
    const uint64_t ref = cache.Lookup(key, cache.Hash(key));
    if (ref != next + 1) {
      state.SkipWithError("cache lost a series");
      break;
    }
    benchmark::DoNotOptimize(ref);
    if (++next == count) next = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["series"] = static_cast<double>(count);
}
BENCHMARK(BM_SeriesRefCacheLookup)->Arg(1)->Arg(10)->ArgName("scale");

// Storage layer, first half of DBImpl::GetOrCreateSeries: hashing and
// encoding the label set (common/labels.h HashLabels, storage/keys.h
// EncodeLabels), done for every series written without a reference.
void BM_HashAndEncodeLabels(benchmark::State& state) {
  bench::SeedDB* seed = bench::SharedSeedDB(static_cast<int>(state.range(0)));
  const workload::SeedWorkload& workload = seed->workload;
  const size_t count = workload.num_series();
  std::string buffer;
  size_t next = 0;
  for (auto _ : state) {
    const Labels& labels = workload.labels(next);
    const uint64_t hash = HashLabels(labels);
    buffer.clear();
    storage::EncodeLabels(labels, &buffer);
    benchmark::DoNotOptimize(hash);
    benchmark::DoNotOptimize(buffer.data());
    if (++next == count) next = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HashAndEncodeLabels)->Arg(1)->Arg(10)->ArgName("scale");

// Storage layer, the whole lookup of a known series: hash + encode, then the
// probe of the head's series index (storage/series_index.h, the class
// DBImpl::GetOrCreateSeries uses) over real MemSeries. BM_AppendKnownSeries
// below measures the real append path end to end.
void BM_HeadSeriesLookup(benchmark::State& state) {
  bench::SeedDB* seed = bench::SharedSeedDB(static_cast<int>(state.range(0)));
  const workload::SeedWorkload& workload = seed->workload;
  const size_t count = workload.num_series();
  std::vector<std::unique_ptr<storage::MemSeries>> series;
  storage::SeriesIndex index;
  series.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string encoded;
    storage::EncodeLabels(workload.labels(i), &encoded);
    series.push_back(std::make_unique<storage::MemSeries>(i + 1, std::move(encoded),
                                                          HashLabels(workload.labels(i))));
    index.Insert(series.back().get());
  }
  std::string buffer;
  size_t next = 0;
  for (auto _ : state) {
    const Labels& labels = workload.labels(next);
    const uint64_t hash = HashLabels(labels);
    buffer.clear();
    storage::EncodeLabels(labels, &buffer);
    const storage::MemSeries* found = index.Find(hash, buffer);
    if (found == nullptr || found->id() != next + 1) {
      state.SkipWithError("lookup missed a known series");
      break;
    }
    benchmark::DoNotOptimize(found);
    if (++next == count) next = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HeadSeriesLookup)->Arg(1)->Arg(10)->ArgName("scale");

// Public DB::Append of one sample for each of 2000 known series per call, the
// series named by labels (storage resolves them) or by the reference an
// earlier Append returned (no lookup). The difference is the lookup cost on
// the real append path. WAL sync off; the WAL record is still written.
void BM_AppendKnownSeries(benchmark::State& state) {
  const bool by_reference = state.range(1) != 0;
  bench::SeedDB* seed = bench::SharedSeedDB(static_cast<int>(state.range(0)));
  if (!seed->status.ok()) {
    state.SkipWithError(seed->status.ToString().c_str());
    return;
  }
  const workload::SeedWorkload& workload = seed->workload;
  const size_t count = workload.num_series();

  // One untimed scrape of every series by labels yields their references.
  storage::WriteInput all;
  for (size_t i = 0; i < count; ++i) {
    all.series.push_back(storage::SeriesWrite{workload.labels(i), {{seed->next_timestamp_ms, 0}}, {}, {}});
  }
  storage::WriteResult result;
  Status s = seed->storage.db->Append(all, &result);
  seed->next_timestamp_ms += bench::SeedDB::kScrapeIntervalMs;
  if (!s.ok() || result.series_refs.size() != count) {
    state.SkipWithError(("warm-up append failed: " + s.ToString()).c_str());
    return;
  }

  std::vector<storage::WriteInput> requests;
  for (size_t begin = 0; begin < count; begin += kSeriesPerRequest) {
    storage::WriteInput input;
    for (size_t i = begin; i < std::min(count, begin + kSeriesPerRequest); ++i) {
      storage::SeriesWrite write;
      if (by_reference) {
        write.series_ref = result.series_refs[i];
      } else {
        write.labels = workload.labels(i);
      }
      write.samples.push_back(storage::Sample{0, 0});
      input.series.push_back(std::move(write));
    }
    requests.push_back(std::move(input));
  }

  size_t next = 0;
  int64_t timestamp = 0;
  int64_t series_written = 0;
  for (auto _ : state) {
    // A new scrape starts with the first request: later timestamps and values.
    if (next == 0) {
      timestamp = seed->next_timestamp_ms;
      seed->next_timestamp_ms += bench::SeedDB::kScrapeIntervalMs;
    }
    storage::WriteInput& input = requests[next];
    for (storage::SeriesWrite& write : input.series) {
      write.samples[0].timestamp_ms = timestamp;
      write.samples[0].value += 1;
    }
    s = seed->storage.db->Append(input, &result);
    if (!s.ok() || result.samples_written != input.series.size()) {
      state.SkipWithError(("append failed: " + s.ToString()).c_str());
      break;
    }
    series_written += static_cast<int64_t>(input.series.size());
    if (++next == requests.size()) next = 0;
  }
  state.SetItemsProcessed(series_written);
}
BENCHMARK(BM_AppendKnownSeries)
    ->ArgsProduct({{1, 10}, {0, 1}})
    ->ArgNames({"scale", "by_reference"})
    ->UseRealTime();

// Public DB::Select and DB::Series resolving one whole label set given as
// equality matchers (one matcher per label; each call finds one series),
// cycling over every series of the workload.
void RunLabelSetLookup(benchmark::State& state, bool select) {
  bench::SeedDB* seed = bench::SharedSeedDB(static_cast<int>(state.range(0)));
  if (!seed->status.ok()) {
    state.SkipWithError(seed->status.ToString().c_str());
    return;
  }
  const workload::SeedWorkload& workload = seed->workload;
  std::vector<std::vector<storage::LabelMatcher>> selectors(workload.num_series());
  for (size_t i = 0; i < selectors.size(); ++i) {
    std::vector<bench::MatcherSpec> specs;
    for (const Label& label : workload.labels(i)) {
      specs.emplace_back(storage::MatchType::kEqual, label.name, label.value);
    }
    if (!bench::MakeMatchers(specs, &selectors[i]).ok()) {
      state.SkipWithError("bad matcher");
      return;
    }
  }
  // The last five minutes, as an instant query's selector asks for.
  const int64_t max_time = seed->next_timestamp_ms;
  const int64_t min_time = max_time - 5 * 60 * 1000;
  size_t next = 0;
  std::unique_ptr<storage::SeriesSet> set;
  std::vector<Labels> found;
  for (auto _ : state) {
    size_t series = 0;
    Status s;
    if (select) {
      s = seed->storage.db->Select({min_time, max_time}, selectors[next], &set);
      while (s.ok() && set->Next()) {
        benchmark::DoNotOptimize(set->labels().data());
        ++series;
      }
      set.reset();
    } else {
      s = seed->storage.db->Series(selectors[next], min_time, max_time, &found);
      series = found.size();
    }
    if (!s.ok() || series != 1) {
      state.SkipWithError(("lookup did not find exactly one series: " + s.ToString()).c_str());
      break;
    }
    if (++next == selectors.size()) next = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_DBSelectLabelSet(benchmark::State& state) { RunLabelSetLookup(state, true); }
void BM_DBSeriesLabelSet(benchmark::State& state) { RunLabelSetLookup(state, false); }
BENCHMARK(BM_DBSelectLabelSet)->Arg(1)->Arg(10)->ArgName("scale");
BENCHMARK(BM_DBSeriesLabelSet)->Arg(1)->Arg(10)->ArgName("scale");

// Public DB::Series for one metric name ({__name__="..."}), all time: what a
// dashboard's series or label lookup asks for. Reports series returned/s.
void BM_DBSeriesMetricName(benchmark::State& state) {
  static const char* const kMetrics[] = {"node_load1", "http_requests_total",
                                         "http_request_duration_seconds_bucket"};
  const char* metric = kMetrics[state.range(1)];
  bench::SeedDB* seed = bench::SharedSeedDB(static_cast<int>(state.range(0)));
  std::vector<storage::LabelMatcher> matchers;
  if (!seed->status.ok() ||
      !bench::MakeMatchers({{storage::MatchType::kEqual, "__name__", metric}}, &matchers).ok()) {
    state.SkipWithError("set-up failed");
    return;
  }
  state.SetLabel(metric);
  std::vector<Labels> found;
  int64_t series = 0;
  for (auto _ : state) {
    Status s = seed->storage.db->Series(matchers, std::numeric_limits<int64_t>::min(),
                                        std::numeric_limits<int64_t>::max(), &found);
    if (!s.ok() || found.empty()) {
      state.SkipWithError(("series failed: " + s.ToString()).c_str());
      break;
    }
    series += static_cast<int64_t>(found.size());
  }
  state.SetItemsProcessed(series);
  state.counters["series_per_call"] = static_cast<double>(found.size());
}
BENCHMARK(BM_DBSeriesMetricName)
    ->ArgsProduct({{1, 10}, {0, 1, 2}})
    ->ArgNames({"scale", "metric"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tsvault

int main(int argc, char** argv) {
  using namespace tsvault;
  return bench::RunBenchmarksThenClose(argc, argv, [] { bench::SharedSeedDBs().clear(); });
}
