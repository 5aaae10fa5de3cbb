// Queries over a range that retention dropped: exact rollups keep answering
// it unchanged; where the exact resolution is gone a coarser one answers
// approximately, and functions that need raw samples return nothing there;
// either way the response says so in Prometheus' "warnings".
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "model/rollup.h"
#include "query/engine/engine.h"
#include "tests/support/histogram_series.h"
#include "tests/support/promql_result_compare.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

constexpr int64_t kDay = model::kResolution1d;
constexpr int64_t kStart = 1'700'000'000'000 / (120 * kDay) * (120 * kDay);
constexpr int64_t kDays = 40;

class RetentionQueryTest : public QueryApiTest {
 protected:
  void SetUp() override {
    storage::WriteInput input;
    storage::SeriesWrite counter, gauge;
    counter.labels = {{"__name__", "reengagement_notifications_sent_total"}};
    gauge.labels = {{"__name__", "reengagement_campaigns_active"}};
    double value = 0;
    for (int64_t t = kStart; t < kStart + kDays * kDay; t += 60'000) {
      value += 2;
      counter.samples.push_back({t, value});
      gauge.samples.push_back({t, static_cast<double>(t / 60'000 % 7)});
    }
    input.series = {counter, gauge};
    ASSERT_NO_FATAL_FAILURE(StartApiWith(input, ApiOptions{"test", "test", "today"}));
    storage::DownsampleStats stats;
    ASSERT_TRUE(db_->Downsample(kStart + kDays * kDay, &stats).ok());
  }

  void DropRawBefore(int64_t cutoff) {
    storage::RetentionRequest request;
    request.drop_before_ms[0] = cutoff;
    storage::RetentionStats stats;
    ASSERT_TRUE(db_->ApplyRetention(request, &stats).ok());
    ASSERT_EQ(stats.cutoff_ms[0], cutoff);
  }

  nlohmann::json Range(const std::string& query, int64_t start, int64_t end, const std::string& step,
                       const std::string& extra = "") {
    return Get("/api/v1/query_range?query=" + query + "&start=" + std::to_string(start / 1000) +
               "&end=" + std::to_string(end / 1000) + "&step=" + step + extra);
  }
};

TEST_F(RetentionQueryTest, ExactRollupsAnswerTheDroppedRangeUnchanged) {
  const std::string query = "sum(increase(reengagement_notifications_sent_total[1d]))";
  const nlohmann::json before = Range(query, kStart + 2 * kDay, kStart + 25 * kDay, "1d");
  ASSERT_EQ(before["data"]["result"].size(), 1u);
  DropRawBefore(kStart + 30 * kDay);
  const nlohmann::json after = Range(query, kStart + 2 * kDay, kStart + 25 * kDay, "1d");
  EXPECT_EQ(after["data"], before["data"]);
  EXPECT_FALSE(after.contains("warnings")) << after.dump();
}

TEST_F(RetentionQueryTest, ACoarserResolutionAnswersApproximatelyAndSaysSo) {
  DropRawBefore(kStart + 30 * kDay);
  // rate over 5m at a 1m step: exact only on raw, which is gone; 5m
  // rollups answer (one window per step range), with a warning.
  const nlohmann::json body =
      Range("rate(reengagement_notifications_sent_total[5m])", kStart + 10 * kDay, kStart + 10 * kDay + 3600'000, "60");
  ASSERT_TRUE(body.contains("warnings")) << body.dump();
  const std::string warning = body["warnings"][0];
  EXPECT_NE(warning.find("raw samples before"), std::string::npos) << warning;
  EXPECT_NE(warning.find("5m rollups, approximately"), std::string::npos) << warning;
  ASSERT_EQ(body["data"]["result"].size(), 1u);
  const auto& values = body["data"]["result"][0]["values"];
  EXPECT_GE(values.size(), 55u);
  for (const auto& point : values) {
    const double rate = std::stod(point[1].get<std::string>());
    EXPECT_NEAR(rate, 2.0 / 60, 0.1 * 2.0 / 60) << point.dump();
  }
}

TEST_F(RetentionQueryTest, FunctionsThatNeedRawSamplesReturnNothingThereWithAWarning) {
  DropRawBefore(kStart + 30 * kDay);
  nlohmann::json body = Range("quantile_over_time(0.5,reengagement_campaigns_active[1h])", kStart + 10 * kDay,
                              kStart + 11 * kDay, "1h");
  EXPECT_TRUE(body["data"]["result"].empty()) << body.dump();
  ASSERT_TRUE(body.contains("warnings")) << body.dump();
  EXPECT_NE(body["warnings"][0].get<std::string>().find("needs raw samples"), std::string::npos) << body.dump();

  // max_source_resolution=raw asks for raw samples only: the same.
  body = Range("increase(reengagement_notifications_sent_total[1d])", kStart + 10 * kDay, kStart + 12 * kDay, "1d",
               "&max_source_resolution=raw");
  EXPECT_TRUE(body["data"]["result"].empty()) << body.dump();
  EXPECT_TRUE(body.contains("warnings")) << body.dump();

  // Ranges the cutoff does not touch carry no warning.
  body = Range("quantile_over_time(0.5,reengagement_campaigns_active[1h])", kStart + 35 * kDay,
               kStart + 36 * kDay, "1h");
  EXPECT_FALSE(body["data"]["result"].empty());
  EXPECT_FALSE(body.contains("warnings")) << body.dump();
}

TEST_F(RetentionQueryTest, PlainSelectorsAnswerFromTheLastSampleOfEachWindow) {
  // A gauge with a gap (no samples for 20 minutes) and a stale marker.
  storage::WriteInput input;
  storage::SeriesWrite gauge;
  gauge.labels = {{"__name__", "courses_users_total"}};
  double stale;
  std::memcpy(&stale, &model::kStaleNaNBits, sizeof(stale));
  for (int64_t t = kStart + 10 * kDay + 7'000; t < kStart + 11 * kDay; t += 60'000) {
    const int64_t minute = (t - kStart - 10 * kDay) / 60'000;
    if (minute >= 100 && minute < 120) continue;
    gauge.samples.push_back({t, minute == 300 ? stale : static_cast<double>(minute % 13)});
  }
  input.series = {gauge};
  storage::WriteResult written;
  ASSERT_TRUE(db_->Append(input, &written).ok());
  storage::DownsampleStats stats;
  ASSERT_TRUE(db_->Downsample(kStart + kDays * kDay, &stats).ok());
  const std::string query = "courses_users_total";
  const int64_t from = kStart + 10 * kDay, to = kStart + 10 * kDay + 8 * 3600'000;
  const nlohmann::json before = Range(query, from, to, "300");
  ASSERT_EQ(before["data"]["result"].size(), 1u);
  const nlohmann::json timestamps = Range("timestamp(" + query + ")", from, to, "300");
  DropRawBefore(kStart + 30 * kDay);

  // At window ends (a 5m step from a multiple of 5m) the answer is exact,
  // gap and staleness included, and says where it came from.
  nlohmann::json after = Range(query, from, to, "300");
  EXPECT_EQ(after["data"], before["data"]);
  ASSERT_TRUE(after.contains("warnings")) << after.dump();
  EXPECT_NE(after["warnings"][0].get<std::string>().find("last sample of each 5m rollup window"), std::string::npos);
  EXPECT_EQ(Range("timestamp(" + query + ")", from, to, "300")["data"], timestamps["data"]);
  // Elsewhere it is approximate, and says so.
  after = Range(query, from, to, "60");
  EXPECT_FALSE(after["data"]["result"].empty());
  EXPECT_NE(after["warnings"][0].get<std::string>().find("approximately"), std::string::npos) << after.dump();
  // max_source_resolution=raw: nothing there.
  after = Range(query, from, to, "300", "&max_source_resolution=raw");
  EXPECT_TRUE(after["data"]["result"].empty()) << after.dump();
}

TEST_F(RetentionQueryTest, NativeHistogramHistoryOutlivesRawRetention) {
  storage::WriteInput input;
  storage::SeriesWrite native;
  native.labels = {{"__name__", "http_request_duration_seconds"}};
  testing::HistogramSeriesOptions options;
  options.reset_probability = 0.005;
  native.histograms = testing::RandomHistogramSeries(6, kStart + 5 * kDay + 3'000, kStart + 15 * kDay, 60'000, options);
  input.series = {native};
  storage::WriteResult written;
  ASSERT_TRUE(db_->Append(input, &written).ok());
  ASSERT_GT(written.histograms_written, 10'000u);
  storage::DownsampleStats stats;
  ASSERT_TRUE(db_->Downsample(kStart + kDays * kDay, &stats).ok());

  struct Query {
    std::string promql, step;
  };
  const std::vector<Query> queries = {
      {"histogram_quantile(0.9,rate(http_request_duration_seconds[1d]))", "1d"},
      {"histogram_count(increase(http_request_duration_seconds[1h]))", "1h"},
      {"increase(http_request_duration_seconds[1h])", "1h"},
      {"sum(rate(http_request_duration_seconds[1d]))", "1d"},
      {"delta(http_request_duration_seconds[1h])", "1h"},
      {"count_over_time(http_request_duration_seconds[1d])", "1d"},
      {"last_over_time(http_request_duration_seconds[1h])", "1h"},
      {"http_request_duration_seconds", "1h"},
  };
  const int64_t from = kStart + 6 * kDay, to = kStart + 15 * kDay;
  std::vector<std::string> raw;
  for (const Query& q : queries) {
    const nlohmann::json body = Range(q.promql, from, to, q.step, "&max_source_resolution=raw");
    ASSERT_EQ(body["status"], "success") << body.dump();
    ASSERT_FALSE(body["data"]["result"].empty()) << q.promql;
    raw.push_back(body.dump());
  }
  EXPECT_NE(raw[2].find("\"histograms\""), std::string::npos);
  DropRawBefore(kStart + 30 * kDay);
  for (size_t i = 0; i < queries.size(); ++i) {
    const nlohmann::json after = Range(queries[i].promql, from, to, queries[i].step);
    const testing::CompareResult result = testing::CompareQueryResponses(raw[i], after.dump(), {});
    EXPECT_TRUE(result.equal) << queries[i].promql << ": " << result.difference;
  }
  // sum_over_time of histograms needs raw samples (windows keep no
  // histogram sum): no data there, and a warning that says why.
  const nlohmann::json sum = Range("sum_over_time(http_request_duration_seconds[1h])", from, to, "1h");
  EXPECT_TRUE(sum["data"]["result"].empty()) << sum.dump();
  ASSERT_TRUE(sum.contains("warnings")) << sum.dump();
  EXPECT_NE(sum["warnings"][0].get<std::string>().find("rollup windows cannot answer it"), std::string::npos)
      << sum.dump();
}

}  // namespace
}  // namespace tsvault::query
