// Postings intersection benchmarks: selecting series with several matchers
// (equality and regex) at the in-memory index level (storage::MemPostings)
// and through the public DB::Select / DB::Series, over the seed workload at
// scale 1 (8,744 series) and 10 (87,440 series).
//
// MemPostings figures report postings entries examined per second as
// items/s (the sizes of every list a matcher selects, summed), plus the
// result size; DB figures report series returned per second.
#include <benchmark/benchmark.h>

#include "bench/bench_db.h"
#include "storage/mem_postings.h"

namespace tsvault {
namespace {

using storage::MatchType;

// The selectors measured; the argument `selector` indexes this table.
const std::vector<std::vector<bench::MatcherSpec>>& Selectors() {
  static const std::vector<std::vector<bench::MatcherSpec>> selectors = {
      // 0: three equality matchers.
      {{MatchType::kEqual, "__name__", "http_requests_total"},
       {MatchType::kEqual, "app", "web"},
       {MatchType::kEqual, "status", "500"}},
      // 1: a metric name and a prefix regex.
      {{MatchType::kEqual, "__name__", "http_requests_total"},
       {MatchType::kRegexMatch, "route", "/api/.*"}},
      // 2: a large metric (histogram buckets), two equalities and a regex.
      {{MatchType::kEqual, "__name__", "http_request_duration_seconds_bucket"},
       {MatchType::kEqual, "app", "web"},
       {MatchType::kRegexMatch, "route", "/api/.*"},
       {MatchType::kEqual, "le", "0.1"}},
      // 3: a metric name and a negative matcher (the subtraction path).
      {{MatchType::kEqual, "__name__", "http_requests_total"},
       {MatchType::kNotEqual, "status", "200"}},
  };
  return selectors;
}

std::string SelectorText(const std::vector<storage::LabelMatcher>& matchers) {
  std::string text = "{";
  for (const storage::LabelMatcher& matcher : matchers) {
    if (text.size() > 1) text += ",";
    text += matcher.ToString();
  }
  return text + "}";
}

// The seed workload's series in a MemPostings, with the ids DB::Append
// would give them (1, 2, ... in workload order). Built once per scale.
const storage::MemPostings& SharedPostings(int scale) {
  static std::map<int, std::unique_ptr<storage::MemPostings>> built;
  std::unique_ptr<storage::MemPostings>& slot = built[scale];
  if (!slot) {
    slot = std::make_unique<storage::MemPostings>();
    const workload::SeedWorkload& workload = bench::SharedSeedDB(scale)->workload;
    for (size_t i = 0; i < workload.num_series(); ++i) slot->Add(i + 1, workload.labels(i));
  }
  return *slot;
}

// Postings entries MemPostings::Select reads for `matchers`: every list of a
// value a positive matcher accepts, or a negative matcher rejects.
uint64_t PostingsEntriesExamined(const storage::MemPostings& postings,
                                 const std::vector<storage::LabelMatcher>& matchers) {
  uint64_t entries = 0;
  for (const storage::LabelMatcher& matcher : matchers) {
    const bool want_match = !matcher.MatchesEmpty();
    for (const std::string& value : postings.LabelValues(matcher.name())) {
      if (matcher.Matches(value) == want_match) entries += postings.Get(matcher.name(), value).size();
    }
  }
  return entries;
}

void BM_MemPostingsSelect(benchmark::State& state) {
  const storage::MemPostings& postings = SharedPostings(static_cast<int>(state.range(0)));
  std::vector<storage::LabelMatcher> matchers;
  if (!bench::MakeMatchers(Selectors()[state.range(1)], &matchers).ok()) {
    state.SkipWithError("bad matcher");
    return;
  }
  const uint64_t entries = PostingsEntriesExamined(postings, matchers);
  size_t result_size = 0;
  for (auto _ : state) {
    storage::SeriesIds ids = postings.Select(matchers);
    result_size = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  if (result_size == 0) state.SkipWithError("selector matched nothing");
  state.SetLabel(SelectorText(matchers));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * entries));
  state.counters["postings_entries"] = static_cast<double>(entries);
  state.counters["result_series"] = static_cast<double>(result_size);
}
BENCHMARK(BM_MemPostingsSelect)
    ->ArgsProduct({{1, 10}, {0, 1, 2, 3}})
    ->ArgNames({"scale", "selector"})
    ->Unit(benchmark::kMicrosecond);

// MemPostings::Intersect on two lists alone. Pairs: 0 = two large lists of
// similar size (status="500" and app="web"); 1 = a short list and a long
// one (__name__="http_requests_total" and app="web"), where a merge walks
// the long list although the result is at most the short one.
void BM_MemPostingsIntersect(benchmark::State& state) {
  const storage::MemPostings& postings = SharedPostings(static_cast<int>(state.range(0)));
  const bool skewed = state.range(1) != 0;
  const storage::SeriesIds& a = skewed ? postings.Get("__name__", "http_requests_total")
                                       : postings.Get("status", "500");
  const storage::SeriesIds& b = postings.Get("app", "web");
  if (a.empty() || b.empty()) {
    state.SkipWithError("postings list missing");
    return;
  }
  size_t result_size = 0;
  for (auto _ : state) {
    storage::SeriesIds ids = storage::MemPostings::Intersect(a, b);
    result_size = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (a.size() + b.size())));
  state.counters["list_a"] = static_cast<double>(a.size());
  state.counters["list_b"] = static_cast<double>(b.size());
  state.counters["result_series"] = static_cast<double>(result_size);
}
BENCHMARK(BM_MemPostingsIntersect)
    ->ArgsProduct({{1, 10}, {0, 1}})
    ->ArgNames({"scale", "skewed"})
    ->Unit(benchmark::kMicrosecond);

// The same selectors through the public DB. Select runs over the last five
// minutes (an instant query's range) and walks the returned set's labels;
// Series runs over all time (the /api/v1/series default).
void RunDBSelect(benchmark::State& state, bool select) {
  bench::SeedDB* seed = bench::SharedSeedDB(static_cast<int>(state.range(0)));
  std::vector<storage::LabelMatcher> matchers;
  if (!seed->status.ok() || !bench::MakeMatchers(Selectors()[state.range(1)], &matchers).ok()) {
    state.SkipWithError("set-up failed");
    return;
  }
  const int64_t max_time = select ? seed->next_timestamp_ms : std::numeric_limits<int64_t>::max();
  const int64_t min_time =
      select ? max_time - 5 * 60 * 1000 : std::numeric_limits<int64_t>::min();
  std::unique_ptr<storage::SeriesSet> set;
  std::vector<Labels> found;
  int64_t series_total = 0;
  size_t series = 0;
  for (auto _ : state) {
    series = 0;
    Status s;
    if (select) {
      s = seed->storage.db->Select({min_time, max_time}, matchers, &set);
      while (s.ok() && set->Next()) {
        benchmark::DoNotOptimize(set->labels().data());
        ++series;
      }
      if (s.ok()) s = set->status();
      set.reset();
    } else {
      s = seed->storage.db->Series(matchers, min_time, max_time, &found);
      series = found.size();
    }
    if (!s.ok() || series == 0) {
      state.SkipWithError(("selection failed or empty: " + s.ToString()).c_str());
      break;
    }
    series_total += static_cast<int64_t>(series);
  }
  state.SetLabel(SelectorText(matchers));
  state.SetItemsProcessed(series_total);
  state.counters["result_series"] = static_cast<double>(series);
}

void BM_DBSelectMatchers(benchmark::State& state) { RunDBSelect(state, true); }
void BM_DBSeriesMatchers(benchmark::State& state) { RunDBSelect(state, false); }
BENCHMARK(BM_DBSelectMatchers)
    ->ArgsProduct({{1, 10}, {0, 1, 2, 3}})
    ->ArgNames({"scale", "selector"})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DBSeriesMatchers)
    ->ArgsProduct({{1, 10}, {0, 1, 2, 3}})
    ->ArgNames({"scale", "selector"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tsvault

int main(int argc, char** argv) {
  using namespace tsvault;
  return bench::RunBenchmarksThenClose(argc, argv, [] { bench::SharedSeedDBs().clear(); });
}
