// sum, avg, count, min, max, group, stddev and stdvar over a float matrix
// are folded one input series at a time (aggregate_by_series.cc); a
// histogram anywhere in the input sends the whole aggregation down the
// step-wise path (aggregate.cc). The two must agree bit for bit, in value
// and in output order: the same query over the floats alone and over the
// floats plus one native histogram series (in its own group, left out of
// the comparison) runs each path once. (Every NaN counts as one.)
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <map>
#include <random>

#include "query/engine/engine.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

class AggregateBySeriesTest : public QueryDBTest {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(20261208);
    storage::WriteInput input;
    for (int s = 0; s < 40; ++s) {
      storage::SeriesWrite series;
      series.labels = {{"__name__", "floats"}, {"g", std::to_string(s % 7)}, {"s", std::to_string(s)}};
      // Series start and end at different times, so groups first appear at
      // different steps and in an order unlike their keys'.
      const int first = static_cast<int>(rng() % 200), last = 200 + static_cast<int>(rng() % 200);
      for (int i = first; i < last; ++i) {
        if (rng() % 6 == 0) continue;  // a gap
        double value;
        switch (rng() % 40) {
          case 0: value = NAN; break;
          case 1: value = INFINITY; break;
          case 2: value = -INFINITY; break;
          case 3: value = 1;  break;  // ties for topk
          default: value = static_cast<double>(static_cast<int64_t>(rng() % 2000001) - 1000000) / 3.0;
        }
        series.samples.push_back({int64_t{i} * 15'000 + static_cast<int64_t>(rng() % 5000), value});
      }
      input.series.push_back(std::move(series));
    }
    storage::SeriesWrite histogram;
    histogram.labels = {{"__name__", "hist"}, {"g", "h"}, {"s", "h"}};
    for (int64_t t = 0; t <= 6'000'000; t += 15'000) {
      storage::Histogram h;
      h.timestamp_ms = t;
      h.schema = 0;
      h.zero_threshold = 0.001;
      h.count_int = static_cast<uint64_t>(2 + t / 15'000);
      h.sum = static_cast<double>(t) / 1000;
      h.positive_spans = {{0, 1}};
      h.positive_deltas = {static_cast<int64_t>(2 + t / 15'000)};
      histogram.histograms.push_back(h);
    }
    input.series.push_back(std::move(histogram));
    ASSERT_NO_FATAL_FAILURE(OpenDBWith(input));
  }

  // A value's bits, every NaN as one: which NaN an addition returns
  // depends on the order the compiler puts its operands in, and no PromQL
  // result or API answer can tell NaNs apart.
  static uint64_t Bits(double value) { return std::isnan(value) ? 0x7ff8000000000000 : std::bit_cast<uint64_t>(value); }

  static bool InHistogramGroup(const Labels& labels) {
    return GetLabelValue(labels, "g") == "h" || GetLabelValue(labels, "s") == "h";
  }

  // The series' labels and point counts, for failure messages.
  static std::string Describe(const std::map<Labels, std::vector<std::pair<int64_t, uint64_t>>>& points) {
    std::string out;
    for (const auto& [labels, list] : points) out += LabelsToString(labels) + ":" + std::to_string(list.size()) + " ";
    return out;
  }

  // The points of a range query, by series labels, leaving out the
  // histogram's group.
  static std::map<Labels, std::vector<std::pair<int64_t, uint64_t>>> Points(const QueryResult& result) {
    std::map<Labels, std::vector<std::pair<int64_t, uint64_t>>> points;
    for (const ResultSeries& series : result.matrix) {
      if (InHistogramGroup(series.labels)) continue;
      auto& list = points[series.labels];
      for (const FloatPoint& p : series.floats) list.push_back({p.timestamp_ms, Bits(p.value)});
    }
    return points;
  }
};

TEST_F(AggregateBySeriesTest, SeriesWiseEqualsStepWiseBitForBitAndInOrder) {
  Engine engine(db_.get(), EngineOptions());
  size_t compared = 0;
  for (const char* op : {"sum", "avg", "count", "min", "max", "group", "stddev", "stdvar"}) {
    // Not the whole input as one group: the histogram would share it.
    for (const char* grouping : {"by (g)", "without (s)", "by (s)", "by (g, s)"}) {
      for (const char* inner : {"%s", "rate(%s[2m])", "%s * 2"}) {
        char floats_only[256], mixed[256];
        std::snprintf(floats_only, sizeof(floats_only), inner, "floats");
        std::snprintf(mixed, sizeof(mixed), inner, "{__name__=~\"floats|hist\"}");
        for (const char* outer : {"%s", "topk(3, %s)", "sort(%s)"}) {
          // count and group make a float of the histogram's group, which
          // topk would then weigh too.
          if (outer[0] == 't' && (std::string(op) == "count" || std::string(op) == "group")) continue;
          const std::string series_wise_query = std::string(op) + " " + grouping + " (" + floats_only + ")";
          const std::string step_wise_query = std::string(op) + " " + grouping + " (" + mixed + ")";
          char a[512], b[512];
          std::snprintf(a, sizeof(a), outer, series_wise_query.c_str());
          std::snprintf(b, sizeof(b), outer, step_wise_query.c_str());
          SCOPED_TRACE(std::string(a) + " vs " + b);
          QueryResult series_wise, step_wise;
          Status s = engine.RangeQuery(a, 0, 6'000'000, 20'000, &series_wise);
          ASSERT_TRUE(s.ok()) << s.ToString();
          s = engine.RangeQuery(b, 0, 6'000'000, 20'000, &step_wise);
          ASSERT_TRUE(s.ok()) << s.ToString();
          const auto expected = Points(step_wise), actual = Points(series_wise);
          ASSERT_EQ(Describe(actual), Describe(expected));
          for (const auto& [labels, list] : expected) {
            const auto& other = actual.at(labels);
            for (size_t i = 0; i < list.size(); ++i) {
              ASSERT_EQ(other[i].first, list[i].first) << LabelsToString(labels);
              ASSERT_EQ(other[i].second, list[i].second)
                  << LabelsToString(labels) << " t=" << list[i].first << ": " << std::bit_cast<double>(other[i].second)
                  << " step-wise " << std::bit_cast<double>(list[i].second);
            }
          }
          for (const auto& [labels, points] : expected) compared += points.size();
          // Instant vectors keep the order the aggregation made them in.
          for (int64_t t : {int64_t{1'500'000}, int64_t{3'000'000}, int64_t{4'200'000}}) {
            QueryResult x, y;
            ASSERT_TRUE(engine.InstantQuery(a, t, &x).ok());
            ASSERT_TRUE(engine.InstantQuery(b, t, &y).ok());
            std::vector<std::pair<Labels, uint64_t>> xs, ys;
            for (const ResultSample& r : x.vector) xs.push_back({r.labels, Bits(r.value)});
            for (const ResultSample& r : y.vector) {
              if (!InHistogramGroup(r.labels)) ys.push_back({r.labels, Bits(r.value)});
            }
            ASSERT_EQ(xs, ys) << "t=" << t;
          }
        }
      }
    }
  }
  EXPECT_GT(compared, 100'000u);
}

}  // namespace
}  // namespace tsvault::query
