// Native histograms: FloatHistogram arithmetic (model/float_histogram.h)
// and histogram samples flowing through the engine (selectors, rate,
// operators, aggregations, histogram_* functions).
#include "model/float_histogram.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "query/engine/engine.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

// schema 0, zero bucket [-0.001, 0.001] with `scale`, buckets (0.5,1] and
// (1,2] with 2*scale and 3*scale.
storage::Histogram Stored(int64_t t, uint64_t scale) {
  storage::Histogram h;
  h.timestamp_ms = t;
  h.count_int = 6 * scale;
  h.sum = 10.5 * static_cast<double>(scale);
  h.schema = 0;
  h.zero_threshold = 0.001;
  h.zero_count_int = scale;
  h.positive_spans = {{0, 2}};
  h.positive_deltas = {static_cast<int64_t>(2 * scale), static_cast<int64_t>(scale)};
  return h;
}

model::FloatHistogram Float(int32_t schema, double zero_threshold, double zero_count,
                     std::vector<model::HistogramBucket> positive, std::vector<model::HistogramBucket> negative = {}) {
  model::FloatHistogram h;
  h.schema = schema;
  h.zero_threshold = zero_threshold;
  h.zero_count = zero_count;
  h.positive = std::move(positive);
  h.negative = std::move(negative);
  h.count = zero_count;
  for (const auto& b : h.positive) h.count += b.count;
  for (const auto& b : h.negative) h.count += b.count;
  return h;
}

TEST(FloatHistogramTest, BucketBounds) {
  EXPECT_EQ(model::HistogramBucketBound(0, 0), 1);
  EXPECT_EQ(model::HistogramBucketBound(1, 0), 2);
  EXPECT_EQ(model::HistogramBucketBound(-1, 0), 0.5);
  EXPECT_DOUBLE_EQ(model::HistogramBucketBound(1, 1), std::sqrt(2.0));
  EXPECT_EQ(model::HistogramBucketBound(2, 1), 2);
  EXPECT_EQ(model::HistogramBucketBound(1, -1), 4);
  EXPECT_EQ(model::HistogramBucketBound(-1, -2), 1.0 / 16);
  EXPECT_DOUBLE_EQ(model::HistogramBucketBound(3, 3), std::pow(2.0, 3.0 / 8));
}

TEST(FloatHistogramTest, ConvertsIntegerAndFloatHistograms) {
  model::FloatHistogram h;
  ASSERT_TRUE(model::ToFloatHistogram(Stored(0, 1), &h));
  EXPECT_EQ(h.count, 6);
  EXPECT_EQ(h.sum, 10.5);
  EXPECT_EQ(h.zero_count, 1);
  EXPECT_EQ(h.positive, (std::vector<model::HistogramBucket>{{0, 2}, {1, 3}}));

  storage::Histogram f;
  f.is_float = true;
  f.count_float = 7;
  f.schema = 1;
  f.positive_spans = {{-2, 1}, {3, 2}};
  f.positive_counts = {1, 2, 4};
  f.negative_spans = {{1, 1}};
  f.negative_counts = {0.5};
  ASSERT_TRUE(model::ToFloatHistogram(f, &h));
  EXPECT_EQ(h.positive, (std::vector<model::HistogramBucket>{{-2, 1}, {2, 2}, {3, 4}}));
  EXPECT_EQ(h.negative, (std::vector<model::HistogramBucket>{{1, 0.5}}));

  storage::Histogram bad = Stored(0, 1);
  bad.positive_deltas.pop_back();
  EXPECT_FALSE(model::ToFloatHistogram(bad, &h));
  bad = Stored(0, 1);
  bad.schema = 9;
  EXPECT_FALSE(model::ToFloatHistogram(bad, &h));
  bad = Stored(0, 1);
  bad.positive_spans = {{0, 1}, {-3, 1}};
  EXPECT_FALSE(model::ToFloatHistogram(bad, &h));
  bad = Stored(0, 1);
  bad.zero_threshold = NAN;
  EXPECT_FALSE(model::ToFloatHistogram(bad, &h));
  bad = Stored(0, 1);
  bad.positive_spans = {{0, 4000000000u}};
  EXPECT_FALSE(model::ToFloatHistogram(bad, &h));
}

TEST(FloatHistogramTest, AllBucketsInBoundaryOrder) {
  model::FloatHistogram h = Float(0, 0.001, 1, {{0, 2}, {1, 3}}, {{0, 4}});
  auto buckets = h.AllBuckets();
  ASSERT_EQ(buckets.size(), 4u);
  EXPECT_EQ(buckets[0].lower, -1);
  EXPECT_EQ(buckets[0].upper, -0.5);
  EXPECT_TRUE(buckets[0].lower_inclusive);
  EXPECT_FALSE(buckets[0].upper_inclusive);
  EXPECT_EQ(buckets[1].lower, -0.001);
  EXPECT_EQ(buckets[1].upper, 0.001);
  EXPECT_EQ(buckets[2].lower, 0.5);
  EXPECT_EQ(buckets[2].upper, 1);
  EXPECT_FALSE(buckets[2].lower_inclusive);
  EXPECT_TRUE(buckets[2].upper_inclusive);
  EXPECT_EQ(buckets[3].count, 3);
}

TEST(FloatHistogramTest, AddAcrossSchemas) {
  model::FloatHistogram coarse = Float(0, 0, 0, {{1, 1}});
  model::FloatHistogram fine = Float(1, 0, 0, {{1, 1}, {2, 1}, {3, 5}});
  model::FloatHistogram sum = coarse;
  sum.Add(fine);
  EXPECT_EQ(sum.schema, 0);
  EXPECT_EQ(sum.positive, (std::vector<model::HistogramBucket>{{1, 3}, {2, 5}}));
  EXPECT_EQ(sum.count, 8);
  // Commutative in value: adding the coarse one to the fine one reduces it.
  model::FloatHistogram other = fine;
  other.Add(coarse);
  EXPECT_EQ(other.schema, 0);
  EXPECT_EQ(other.positive, sum.positive);
}

TEST(FloatHistogramTest, AddReconcilesZeroBuckets) {
  model::FloatHistogram a = Float(0, 0.001, 1, {{0, 2}});
  model::FloatHistogram b = Float(0, 0.6, 3, {{1, 4}});
  a.Add(b);
  // 0.6 falls inside a's populated bucket (0.5,1]: the threshold widens to 1.
  EXPECT_EQ(a.zero_threshold, 1);
  EXPECT_EQ(a.zero_count, 6);
  EXPECT_EQ(a.positive, (std::vector<model::HistogramBucket>{{1, 4}}));
}

TEST(FloatHistogramTest, SubScaleDivide) {
  model::FloatHistogram a = Float(0, 0, 1, {{0, 5}});
  model::FloatHistogram b = Float(0, 0, 1, {{0, 2}, {1, 1}});
  a.Sub(b);
  EXPECT_EQ(a.zero_count, 0);
  EXPECT_EQ(a.positive, (std::vector<model::HistogramBucket>{{0, 3}, {1, -1}}));
  a.Scale(2);
  EXPECT_EQ(a.positive[0].count, 6);
  a.Divide(4);
  EXPECT_EQ(a.positive[0].count, 1.5);
}

TEST(FloatHistogramTest, DetectReset) {
  model::FloatHistogram previous = Float(0, 0.001, 1, {{0, 2}, {1, 3}});
  model::FloatHistogram same = previous;
  EXPECT_FALSE(same.DetectReset(previous));
  model::FloatHistogram grown = Float(0, 0.001, 2, {{0, 3}, {1, 3}, {2, 1}});
  EXPECT_FALSE(grown.DetectReset(previous));
  model::FloatHistogram bucket_dropped = Float(0, 0.001, 1, {{0, 1}, {1, 9}});
  EXPECT_TRUE(bucket_dropped.DetectReset(previous));
  model::FloatHistogram bucket_gone = Float(0, 0.001, 1, {{1, 10}});
  EXPECT_TRUE(bucket_gone.DetectReset(previous));
  model::FloatHistogram finer = Float(1, 0.001, 1, {{0, 9}});
  EXPECT_TRUE(finer.DetectReset(previous));
  model::FloatHistogram hinted = grown;
  hinted.reset_hint = model::CounterResetHint::kCounterReset;
  EXPECT_TRUE(hinted.DetectReset(previous));
  model::FloatHistogram not_reset = bucket_dropped;
  not_reset.reset_hint = model::CounterResetHint::kNotCounterReset;
  EXPECT_FALSE(not_reset.DetectReset(previous));
}

TEST(FloatHistogramTest, QuantileAndFraction) {
  model::FloatHistogram h;
  ASSERT_TRUE(model::ToFloatHistogram(Stored(0, 1), &h));
  EXPECT_DOUBLE_EQ(model::HistogramQuantile(0.5, h), 1.0);
  EXPECT_DOUBLE_EQ(model::HistogramQuantile(0.25, h), 0.625);
  EXPECT_DOUBLE_EQ(model::HistogramQuantile(0.1, h), 0.0006);
  EXPECT_DOUBLE_EQ(model::HistogramQuantile(1, h), 2);
  EXPECT_TRUE(std::isnan(model::HistogramQuantile(NAN, h)));
  EXPECT_EQ(model::HistogramQuantile(-1, h), -INFINITY);
  EXPECT_EQ(model::HistogramQuantile(2, h), INFINITY);
  EXPECT_DOUBLE_EQ(model::HistogramFraction(0, 1, h), 0.5);
  EXPECT_DOUBLE_EQ(model::HistogramFraction(0.75, 1.5, h), 2.5 / 6);
  EXPECT_EQ(model::HistogramFraction(2, 1, h), 0);
  EXPECT_DOUBLE_EQ(model::HistogramFraction(-INFINITY, INFINITY, h), 1);
  model::FloatHistogram empty;
  EXPECT_TRUE(std::isnan(model::HistogramQuantile(0.5, empty)));
}

class EngineHistogramTest : public QueryDBTest {
 protected:
  void SetUp() override {
    storage::WriteInput input;
    for (const char* a : {"1", "2"}) {
      storage::SeriesWrite w;
      w.labels = {{"__name__", "h"}, {"a", a}};
      w.histograms = {Stored(0, 1), Stored(60'000, 2), Stored(120'000, 3)};
      input.series.push_back(w);
    }
    storage::SeriesWrite mixed;
    mixed.labels = {{"__name__", "mixed"}};
    mixed.samples = {{0, 5}};
    mixed.histograms = {Stored(60'000, 1)};
    input.series.push_back(mixed);
    storage::SeriesWrite stale;
    stale.labels = {{"__name__", "stale_h"}};
    storage::Histogram marker = Stored(60'000, 1);
    marker.sum = std::bit_cast<double>(storage::kStaleNaNBits);
    stale.histograms = {Stored(0, 1), marker};
    input.series.push_back(stale);
    storage::SeriesWrite custom;
    custom.labels = {{"__name__", "custom_h"}};
    storage::Histogram custom_buckets = Stored(60'000, 1);
    custom_buckets.schema = -53;
    custom_buckets.custom_values = {0.1, 1, 10};
    custom.histograms = {custom_buckets};
    input.series.push_back(custom);
    ASSERT_NO_FATAL_FAILURE(OpenDBWith(input));
    engine_ = std::make_unique<Engine>(db_.get(), EngineOptions());
  }

  QueryResult Query(const std::string& q, int64_t t) {
    QueryResult r;
    Status s = engine_->InstantQuery(q, t, &r);
    EXPECT_TRUE(s.ok()) << q << ": " << s.ToString();
    return r;
  }

  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineHistogramTest, SelectorReturnsHistograms) {
  QueryResult r = Query("h{a=\"1\"}", 90'000);
  ASSERT_EQ(r.vector.size(), 1u);
  ASSERT_TRUE(r.vector[0].histogram.has_value());
  EXPECT_EQ(r.vector[0].histogram->count, 12);
  EXPECT_EQ(r.vector[0].timestamp_ms, 90'000);
}

TEST_F(EngineHistogramTest, CustomBucketHistogramsAreLeftOutWithAWarning) {
  for (const char* query : {"custom_h", "custom_h[5m]", "rate(custom_h[5m])"}) {
    QueryResult r = Query(query, 90'000);
    EXPECT_TRUE(r.vector.empty() && r.matrix.empty()) << query;
    ASSERT_EQ(r.warnings.size(), 1u) << query;
    EXPECT_NE(r.warnings[0].find("custom-bucket native histograms (schema -53) were left out"), std::string::npos);
  }
  EXPECT_TRUE(Query("h", 90'000).warnings.empty());
}

TEST_F(EngineHistogramTest, StaleMarkerEndsHistogramSeries) {
  EXPECT_EQ(Query("stale_h", 30'000).vector.size(), 1u);
  EXPECT_EQ(Query("stale_h", 90'000).vector.size(), 0u);
}

TEST_F(EngineHistogramTest, RateAndIncrease) {
  QueryResult increase = Query("increase(h{a=\"1\"}[1m])", 60'000);
  ASSERT_EQ(increase.vector.size(), 1u);
  ASSERT_TRUE(increase.vector[0].histogram.has_value());
  const model::FloatHistogram& inc = *increase.vector[0].histogram;
  EXPECT_DOUBLE_EQ(inc.count, 6);
  EXPECT_DOUBLE_EQ(inc.sum, 10.5);
  EXPECT_DOUBLE_EQ(inc.zero_count, 1);
  ASSERT_EQ(inc.positive.size(), 2u);
  EXPECT_DOUBLE_EQ(inc.positive[1].count, 3);
  EXPECT_EQ(increase.vector[0].labels, (Labels{{"a", "1"}}));

  QueryResult rate = Query("rate(h{a=\"1\"}[1m])", 60'000);
  ASSERT_TRUE(rate.vector[0].histogram.has_value());
  EXPECT_DOUBLE_EQ(rate.vector[0].histogram->count, 0.1);
  EXPECT_DOUBLE_EQ(rate.vector[0].histogram->sum, 0.175);

  QueryResult count = Query("histogram_count(increase(h{a=\"1\"}[2m]))", 120'000);
  ASSERT_EQ(count.vector.size(), 1u);
  EXPECT_DOUBLE_EQ(count.vector[0].value, 12);
  // A range mixing floats and histograms has no rate.
  EXPECT_EQ(Query("rate(mixed[2m])", 60'000).vector.size(), 0u);
}

TEST_F(EngineHistogramTest, OperatorsAndAggregations) {
  QueryResult sum = Query("sum(h)", 60'000);
  ASSERT_EQ(sum.vector.size(), 1u);
  ASSERT_TRUE(sum.vector[0].histogram.has_value());
  EXPECT_EQ(sum.vector[0].histogram->count, 24);
  QueryResult avg = Query("avg(h)", 60'000);
  ASSERT_TRUE(avg.vector[0].histogram.has_value());
  EXPECT_EQ(avg.vector[0].histogram->count, 12);
  EXPECT_EQ(Query("count(h)", 60'000).vector[0].value, 2);
  QueryResult doubled = Query("h * 2", 0);
  ASSERT_EQ(doubled.vector.size(), 2u);
  EXPECT_EQ(doubled.vector[0].histogram->count, 12);
  EXPECT_TRUE(MetricName(doubled.vector[0].labels).empty());
  EXPECT_EQ(Query("2 * h", 0).vector[0].histogram->count, 12);
  EXPECT_EQ(Query("h / 2", 0).vector[0].histogram->count, 3);
  EXPECT_EQ(Query("h + h", 0).vector[0].histogram->count, 12);
  EXPECT_EQ(Query("h - h", 0).vector[0].histogram->count, 0);
  EXPECT_EQ(Query("h > 1", 0).vector.size(), 0u);
  EXPECT_EQ(Query("h + 1", 0).vector.size(), 0u);
  EXPECT_EQ(Query("max(h)", 0).vector.size(), 0u);
  EXPECT_EQ(Query("abs(h)", 0).vector.size(), 0u);
  EXPECT_EQ(Query("sum(h) + on() group_left sum(mixed)", 0).vector.size(), 0u);
}

TEST_F(EngineHistogramTest, HistogramFunctions) {
  QueryResult q = Query("histogram_quantile(0.5, h)", 0);
  ASSERT_EQ(q.vector.size(), 2u);
  EXPECT_DOUBLE_EQ(q.vector[0].value, 1.0);
  EXPECT_TRUE(MetricName(q.vector[0].labels).empty());
  QueryResult f = Query("histogram_fraction(0, 1, h{a=\"2\"})", 0);
  ASSERT_EQ(f.vector.size(), 1u);
  EXPECT_DOUBLE_EQ(f.vector[0].value, 0.5);
  EXPECT_DOUBLE_EQ(Query("histogram_sum(h{a=\"2\"})", 60'000).vector[0].value, 21);
  EXPECT_DOUBLE_EQ(Query("histogram_count(sum(h))", 0).vector[0].value, 12);
  EXPECT_EQ(Query("histogram_count(mixed)", 0).vector.size(), 0u);
  QueryResult over_time = Query("sum_over_time(h{a=\"1\"}[2m])", 120'000);
  ASSERT_TRUE(over_time.vector[0].histogram.has_value());
  EXPECT_EQ(over_time.vector[0].histogram->count, 36);
  QueryResult last = Query("last_over_time(h{a=\"1\"}[2m])", 120'000);
  EXPECT_EQ(last.vector[0].histogram->count, 18);
  EXPECT_EQ(MetricName(last.vector[0].labels), "h");
  EXPECT_EQ(Query("count_over_time(h{a=\"1\"}[2m])", 120'000).vector[0].value, 3);
  EXPECT_EQ(Query("max_over_time(h{a=\"1\"}[2m])", 120'000).vector.size(), 0u);
}

TEST_F(EngineHistogramTest, RangeQueryKeepsHistogramPoints) {
  QueryResult r;
  ASSERT_TRUE(engine_->RangeQuery("h{a=\"1\"}", 0, 120'000, 60'000, &r).ok());
  ASSERT_EQ(r.matrix.size(), 1u);
  EXPECT_TRUE(r.matrix[0].floats.empty());
  ASSERT_EQ(r.matrix[0].histograms.size(), 3u);
  EXPECT_EQ(r.matrix[0].histograms[2].histogram.count, 18);
}

}  // namespace
}  // namespace tsvault::query
