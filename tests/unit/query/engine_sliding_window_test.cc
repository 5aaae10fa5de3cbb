// A range query slides one window per series across its steps, keeping
// count of counter resets as points enter and leave (SlidingWindow), so
// rate() and increase() skip their reset scan when the window has none. An
// instant query builds each window afresh. On counters full of resets, NaNs
// and gaps, every step of the range query must be bit-identical to the
// instant query at that time.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

#include "query/engine/engine.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

class SlidingWindowTest : public QueryDBTest {};

TEST_F(SlidingWindowTest, RangeStepsEqualInstantQueriesOnResettingCounters) {
  std::mt19937_64 rng(20261207);
  storage::WriteInput input;
  for (int s = 0; s < 12; ++s) {
    storage::SeriesWrite series;
    series.labels = {{"__name__", "resetting_total"}, {"s", std::to_string(s)}};
    double value = 0;
    for (int i = 0; i < 400; ++i) {
      if (rng() % 5 == 0) continue;  // a gap
      const uint64_t dice = rng() % 10;
      if (dice == 0) {
        value = static_cast<double>(rng() % 5);  // a reset
      } else if (dice == 1 && s % 3 == 0) {
        value = NAN;
      } else {
        value = (std::isnan(value) ? 0 : value) + static_cast<double>(rng() % 100) / 7.0;
      }
      series.samples.push_back({int64_t{i} * 15'000 + static_cast<int64_t>(rng() % 3000), value});
    }
    input.series.push_back(std::move(series));
  }
  ASSERT_NO_FATAL_FAILURE(OpenDBWith(input));
  Engine engine(db_.get(), EngineOptions());
  for (const char* query : {"rate(resetting_total[1m])", "increase(resetting_total[2m])",
                            "rate(resetting_total[5m])", "increase(resetting_total[37s])",
                            "rate(resetting_total[3m:20s])"}) {
    SCOPED_TRACE(query);
    const int64_t start = 60'000, end = 6'000'000, step = 10'000;
    // Raw samples only: rollup windows (max_source_resolution=auto) answer
    // some of these windows, which is another path.
    QueryControl raw;
    raw.max_source_resolution_ms = 0;
    QueryResult range;
    Status s = engine.RangeQuery(query, start, end, step, &range, raw);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::map<std::pair<Labels, int64_t>, double> from_range;
    for (const ResultSeries& series : range.matrix) {
      for (const FloatPoint& point : series.floats) from_range[{series.labels, point.timestamp_ms}] = point.value;
    }
    size_t compared = 0;
    for (int64_t t = start; t <= end; t += step) {
      QueryResult instant;
      s = engine.InstantQuery(query, t, &instant, raw);
      ASSERT_TRUE(s.ok()) << s.ToString();
      for (const ResultSample& sample : instant.vector) {
        auto found = from_range.find({sample.labels, t});
        ASSERT_NE(found, from_range.end()) << "t=" << t;
        ASSERT_EQ(std::bit_cast<uint64_t>(found->second), std::bit_cast<uint64_t>(sample.value))
            << "t=" << t << " " << LabelsToString(sample.labels) << " range " << found->second << " instant "
            << sample.value;
        from_range.erase(found);
        ++compared;
      }
    }
    EXPECT_TRUE(from_range.empty()) << from_range.size() << " points only in the range query";
    EXPECT_GT(compared, 1000u);
  }
}

}  // namespace
}  // namespace tsvault::query
