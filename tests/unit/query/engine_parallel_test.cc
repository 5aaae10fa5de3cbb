// A range function over many series is evaluated in parts on several
// threads (range_call.cc, parallel.cc). The answer must be the one a single
// thread gives: the same series in the same order with the same bits, the
// same warnings, and the same errors when a limit is hit.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

#include "query/engine/engine.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

class EngineParallelTest : public QueryDBTest {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(20261208);
    storage::WriteInput input;
    // 300 resetting counters and 150 gauges with gaps, NaNs and series of
    // unequal length; 64 classic histogram buckets; 40 native histograms.
    for (int s = 0; s < 450; ++s) {
      storage::SeriesWrite series;
      const bool counter = s < 300;
      series.labels = {{"__name__", counter ? "work_total" : "level"}, {"g", std::to_string(s % 9)},
                       {"s", std::to_string(s)}};
      double value = 0;
      const int first = static_cast<int>(rng() % 100), last = 300 + static_cast<int>(rng() % 100);
      for (int i = first; i < last; ++i) {
        if (rng() % 7 == 0) continue;
        const uint64_t dice = rng() % 50;
        if (dice == 0) {
          value = NAN;
        } else if (counter) {
          value = dice == 1 ? static_cast<double>(rng() % 10) : (std::isnan(value) ? 0 : value) + (rng() % 1000) / 7.0;
        } else {
          value = static_cast<double>(static_cast<int64_t>(rng() % 20001) - 10000) / 3.0;
        }
        series.samples.push_back({int64_t{i} * 15'000 + static_cast<int64_t>(rng() % 4000), value});
      }
      input.series.push_back(std::move(series));
    }
    const char* bounds[] = {"0.1", "0.5", "1", "5", "10", "50", "100", "+Inf"};
    for (int app = 0; app < 8; ++app) {
      double counts[8] = {};
      for (int b = 0; b < 8; ++b) {
        storage::SeriesWrite series;
        series.labels = {{"__name__", "latency_bucket"}, {"app", std::to_string(app)}, {"le", bounds[b]}};
        input.series.push_back(std::move(series));
      }
      const size_t base = input.series.size() - 8;
      for (int i = 0; i < 400; ++i) {
        double running = 0;
        for (int b = 0; b < 8; ++b) {
          counts[b] += static_cast<double>(rng() % 5);
          running = std::max(running, counts[b]);
          counts[b] = running;
          input.series[base + b].samples.push_back({int64_t{i} * 15'000, counts[b]});
        }
      }
    }
    for (int s = 0; s < 40; ++s) {
      storage::SeriesWrite series;
      series.labels = {{"__name__", "native"}, {"s", std::to_string(s)}};
      for (int i = 0; i < 400; i += 2) {
        storage::Histogram h;
        h.timestamp_ms = int64_t{i} * 15'000;
        h.schema = s % 3;
        h.zero_threshold = 0.001;
        h.zero_count_int = static_cast<uint64_t>(i % 5);
        h.count_int = static_cast<uint64_t>(3 * i + i % 5);
        h.sum = i * 1.5;
        h.positive_spans = {{0, 2}, {1, 1}};
        h.positive_deltas = {static_cast<int64_t>(i), 0, 0};
        series.histograms.push_back(h);
      }
      input.series.push_back(std::move(series));
    }
    ASSERT_NO_FATAL_FAILURE(OpenDBWith(input));
  }

  // The answer's series, labels and every point's bits (every NaN as one:
  // no API answer tells NaNs apart), in the engine's order.
  static std::string Describe(const Status& status, const QueryResult& result) {
    if (!status.ok()) return "error: " + status.ToString();
    std::string out;
    for (const std::string& warning : result.warnings) out += "warning: " + warning + "\n";
    auto bits = [](double v) { return std::isnan(v) ? uint64_t{0x7ff8000000000000} : std::bit_cast<uint64_t>(v); };
    // Appended piece by piece: GCC 12 warns (-Wrestrict) about chains of
    // std::string operator+ here.
    auto put = [&out](auto... pieces) { (out.append(pieces), ...); };
    for (const ResultSeries& series : result.matrix) {
      put(LabelsToString(series.labels), ":");
      for (const FloatPoint& p : series.floats) put(" ", std::to_string(p.timestamp_ms), "=", std::to_string(bits(p.value)));
      for (const HistogramPoint& p : series.histograms) {
        put(" ", std::to_string(p.timestamp_ms), "=h", std::to_string(bits(p.histogram.count)), "/",
            std::to_string(bits(p.histogram.sum)));
        for (const model::HistogramBucket& bucket : p.histogram.positive) put(",", std::to_string(bits(bucket.count)));
      }
      put("\n");
    }
    for (const ResultSample& sample : result.vector) {
      out += LabelsToString(sample.labels) + "=" + std::to_string(bits(sample.value)) + "\n";
    }
    return out;
  }
};

TEST_F(EngineParallelTest, PartsOnFourThreadsAnswerAsOneThread) {
  EngineOptions one_thread;
  one_thread.parallelism = 1;
  EngineOptions four_threads;
  four_threads.parallelism = 4;
  Engine serial(db_.get(), one_thread);
  Engine parallel(db_.get(), four_threads);
  const char* queries[] = {
      "rate(work_total[1m])",
      "sum by (g) (rate(work_total[2m]))",
      "increase(work_total[5m])",
      "topk(7, sum by (s) (increase(work_total[3m])))",
      "avg_over_time(level[2m])",
      "quantile_over_time(0.9, level[3m])",
      "stddev_over_time(level[5m]) > 100",
      "predict_linear(level[4m], 600)",
      "deriv(level[2m]) + on (s) group_left rate(work_total[2m]) * 0",
      "rate(work_total[2m:30s])",
      "max_over_time(rate(work_total[1m])[5m:20s])",
      "absent_over_time(level[1m])",
      "absent_over_time(nothing[1m])",
      "histogram_quantile(0.9, sum by (le, app) (rate(latency_bucket[2m])))",
      "histogram_quantile(0.5, rate(native[2m]))",
      "sum(rate(native[3m]))",
      "last_over_time(work_total[1m])",
      "changes(level[10m]) + resets(work_total[10m])",
      "count_over_time({__name__=~\"work_total|level\"}[2m])",
  };
  size_t lines = 0;
  for (const char* query : queries) {
    SCOPED_TRACE(query);
    for (const auto& [start, end, step] : {std::tuple<int64_t, int64_t, int64_t>{0, 6'000'000, 15'000},
                                           {1'000'000, 5'000'000, 60'000}}) {
      QueryResult a, b;
      const Status sa = serial.RangeQuery(query, start, end, step, &a);
      const Status sb = parallel.RangeQuery(query, start, end, step, &b);
      ASSERT_TRUE(sa.ok()) << sa.ToString();
      const std::string expected = Describe(sa, a);
      ASSERT_EQ(Describe(sb, b), expected);
      lines += std::count(expected.begin(), expected.end(), '\n');
    }
    QueryResult a, b;
    const Status sa = serial.InstantQuery(query, 4'000'000, &a);
    const Status sb = parallel.InstantQuery(query, 4'000'000, &b);
    ASSERT_EQ(Describe(sb, b), Describe(sa, a));
  }
  EXPECT_GT(lines, 3000u);
}

TEST_F(EngineParallelTest, LimitsHitInAPartFailTheQueryAsOnOneThread) {
  // Parts hold a window each at once, so a limit between the two peaks
  // could fail one and not the other; these fail both or neither.
  for (int64_t max_samples : {int64_t{2'000}, int64_t{40'000}, int64_t{10'000'000}}) {
    EngineOptions one_thread, four_threads;
    one_thread.parallelism = 1;
    four_threads.parallelism = 4;
    one_thread.max_samples = four_threads.max_samples = max_samples;
    Engine serial(db_.get(), one_thread);
    Engine parallel(db_.get(), four_threads);
    for (const char* query : {"rate(work_total[5m])", "max_over_time(level[30m])", "sum(rate(work_total[5m]))"}) {
      SCOPED_TRACE(std::string(query) + " with max_samples " + std::to_string(max_samples));
      QueryResult a, b;
      const Status sa = serial.RangeQuery(query, 0, 6'000'000, 15'000, &a);
      const Status sb = parallel.RangeQuery(query, 0, 6'000'000, 15'000, &b);
      EXPECT_EQ(Describe(sb, b), Describe(sa, a));
    }
  }
  // A query that fails must leave no part running: cancelling it before it
  // starts ends it at once, on any thread.
  EngineOptions four_threads;
  four_threads.parallelism = 4;
  Engine parallel(db_.get(), four_threads);
  std::atomic<bool> cancelled{true};
  QueryControl control;
  control.cancelled = &cancelled;
  QueryResult result;
  const Status s = parallel.RangeQuery("rate(work_total[5m])", 0, 6'000'000, 15'000, &result, control);
  EXPECT_EQ(s.code(), Status::Code::kCancelled) << s.ToString();
}

}  // namespace
}  // namespace tsvault::query
