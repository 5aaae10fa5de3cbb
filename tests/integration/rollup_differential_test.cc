// The rollup contract (docs/downsampling.md): over the same data, with
// start, end, step and range multiples of the resolution, every function
// listed as exact answers the same with max_source_resolution=auto (rollups)
// as with raw, within 1e-9 relative. Checked on a real server holding three
// days of the seed's trend families (tsvault loadgen: counters with resets,
// gauges, churned series ending in staleness markers) plus hand-made edge
// series (NaN, ±Inf, a stale series, a long gap, counter resets) and native
// histogram series (resets, reset hints, a schema change, float counts, a
// stale marker, a zero-threshold change, a float series turning into
// histograms), in each
// state rollups live in: computed on the fly (nothing sealed yet), sealed by
// the background downsampler, made stale by a late backfill, and redone.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>
#include <tuple>

#include "http/client.h"
#include "tests/support/histogram_series.h"
#include "tests/support/ports.h"
#include "tests/support/promql_query_pack.h"
#include "tests/support/promql_result_compare.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_db.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

constexpr int64_t kHour = 3600, kDay = 24 * kHour;

Status RunLoadgen(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> argv = {testing::TsvaultBinaryPath(), "loadgen"};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Process loadgen;
  Status s = loadgen.Start({argv, {}, log_path});
  if (!s.ok()) return s;
  if (!loadgen.WaitForExit(std::chrono::minutes(5))) {
    loadgen.Kill();
    return Status::IOError("loadgen did not finish: " + testing::ReadLogTail(log_path, 2000));
  }
  if (loadgen.last_wait_status() != 0) return Status::IOError("loadgen failed: " + testing::ReadLogTail(log_path, 2000));
  return Status::OK();
}


// Native histogram series for two days before end_ms: "a" with every
// irregularity the generator has (a zero-threshold change among them, so
// its counter rates with resets are read raw), "b" regular without counter
// resets (its rates come from rollups), "c" regular with resets (ranges
// holding two or more are read raw: docs/downsampling.md), and "mixed", a
// float counter that turns into histograms halfway.
storage::WriteInput DifferentialNativeHistogramSeries(int64_t start_ms, int64_t end_ms, uint64_t seed) {
  storage::WriteInput input;
  testing::HistogramSeriesOptions irregular;
  irregular.zero_threshold_change = true;
  irregular.custom_buckets = false;  // remote write 1.0 carries no custom buckets
  testing::HistogramSeriesOptions regular;
  regular.stale_marker = false;
  regular.schema_changes = false;
  testing::HistogramSeriesOptions without_resets = regular;
  without_resets.reset_probability = 0;
  without_resets.hints = false;  // a "reset" hint counts as a reset too
  storage::SeriesWrite a, b, c, mixed;
  a.labels = {{"__name__", "native_latency_seconds"}, {"route", "a"}};
  a.histograms = testing::RandomHistogramSeries(seed, start_ms, end_ms, 30'000, irregular);
  b.labels = {{"__name__", "native_latency_seconds"}, {"route", "b"}};
  b.histograms = testing::RandomHistogramSeries(seed + 1, start_ms + 1'000, end_ms, 30'000, without_resets);
  c.labels = {{"__name__", "native_latency_seconds"}, {"route", "c"}};
  c.histograms = testing::RandomHistogramSeries(seed + 3, start_ms + 1'500, end_ms, 30'000, regular);
  mixed.labels = {{"__name__", "native_mixed"}};
  const int64_t middle = start_ms + (end_ms - start_ms) / 2;
  double value = 0;
  for (int64_t t = start_ms + 2'000; t < middle; t += 30'000) mixed.samples.push_back({t, value += 3});
  // A series carries floats or histograms in one remote-write entry, so the
  // histograms come in a second entry with the same labels.
  storage::SeriesWrite mixed_histograms;
  mixed_histograms.labels = mixed.labels;
  mixed_histograms.histograms = testing::RandomHistogramSeries(seed + 2, middle + 2'000, end_ms, 30'000, regular);
  input.series = {a, b, c, mixed, mixed_histograms};
  return input;
}

// A range query of the pack.
struct RollupQuery {
  std::string promql;
  int64_t step_seconds;
};

std::vector<RollupQuery> QueryPack() {
  std::vector<RollupQuery> pack = {
      // The seed's trend questions.
      {"sum by (level, type) (increase(reengagement_notifications_sent_total[1d]))", kDay},
      {"sum by (level) (increase(reengagement_users_returned_total[1d])) / sum by (level) "
       "(increase(reengagement_notifications_sent_total[1d]))", kDay},
      {"sum by (campaign) (increase(reengagement_clicks_total[1h]))", kHour},
      {"sum(increase(courses_completions_total[1d]))", kDay},
      {"max_over_time(reengagement_campaigns_active[1d])", kDay},
      {"avg_over_time(courses_users_total[1h])", kHour},  // raw only: must still match
  };
  for (const char* function : {"rate", "increase", "delta", "resets", "changes", "count_over_time",
                               "sum_over_time", "min_over_time", "max_over_time", "last_over_time",
                               "present_over_time"}) {
    const std::string f = function;
    pack.push_back({f + "(reengagement_notifications_sent_total[1h])", kHour});
    pack.push_back({f + "(reengagement_notifications_sent_total[5m])", 300});
    pack.push_back({f + "(courses_users_total[2h] offset 1h)", kHour});
    pack.push_back({f + "(edge_counter[15m])", 300});
    pack.push_back({f + "(edge_gauge[1h])", kHour});
    pack.push_back({f + "({__name__=~\"edge_.*\"}[5m])", 300});
    pack.push_back({f + "(edge_gauge[1d])", kDay});
  }
  // Native histograms (min/max_over_time have no value for them).
  for (const char* function : {"rate", "increase", "delta", "resets", "changes", "count_over_time", "sum_over_time",
                               "last_over_time", "present_over_time"}) {
    const std::string f = function;
    pack.push_back({f + "(native_latency_seconds[5m])", 300});
    pack.push_back({f + "(native_latency_seconds[1h])", kHour});
    pack.push_back({f + "({__name__=~\"native_.*\"}[1d])", kDay});
    pack.push_back({f + "(native_mixed[1h])", kHour});
  }
  for (const char* query : {"histogram_quantile(0.9, rate(native_latency_seconds[1h]))",
                            "histogram_count(increase(native_latency_seconds[1d]))",
                            "histogram_sum(sum(rate(native_latency_seconds[1h])))",
                            "histogram_fraction(0, 4, sum by (route) (increase(native_latency_seconds[1h])))"}) {
    pack.push_back({query, kHour});
  }
  return pack;
}

class RollupDifferentialTest : public ::testing::Test {
 protected:
  // Runs every query of the pack with auto and with raw; returns how many
  // answers were served by rollups.
  void CompareAutoWithRaw(const std::string& state, int64_t start, int64_t end, int* rollup_answers) {
    std::unique_ptr<http::Client> client;
    ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
    size_t compared = 0, with_data = 0;
    std::vector<std::string> differences;
    *rollup_answers = 0;
    for (const RollupQuery& query : QueryPack()) {
      const int64_t first = (start + query.step_seconds - 1) / query.step_seconds * query.step_seconds;
      const std::string base = "/api/v1/query_range?query=" + testing::QueryEscape(query.promql) + "&start=" +
                               std::to_string(first) + "&end=" + std::to_string(end) + "&step=" +
                               std::to_string(query.step_seconds);
      http::Response raw, rollups;
      ASSERT_TRUE(client->Get(base + "&max_source_resolution=raw", &raw).ok());
      ASSERT_TRUE(client->Get(base, &rollups).ok());
      ASSERT_EQ(raw.status, 200) << query.promql << ": " << raw.body;
      const std::string resolutions(rollups.Header("X-Tsvault-Resolutions"));
      EXPECT_EQ(std::string(raw.Header("X-Tsvault-Resolutions")), "raw") << query.promql;
      if (resolutions.find('m') != std::string::npos || resolutions.find('h') != std::string::npos ||
          resolutions.find('d') != std::string::npos) {
        ++*rollup_answers;
      }
      ++compared;
      testing::CompareResult result = testing::CompareQueryResponses(raw.body, rollups.body, {});
      if (result.expected_has_data) ++with_data;
      if (!result.equal || rollups.status != raw.status) {
        differences.push_back(query.promql + " [step " + std::to_string(query.step_seconds) + ", served by " +
                              resolutions + "]\n    " + result.difference);
      }
    }
    std::cout << "Rollup differential (" << state << "): " << compared << " range queries, " << with_data
              << " with data, " << *rollup_answers << " served by rollups, " << differences.size() << " differ\n";
    for (size_t i = 0; i < differences.size() && i < 30; ++i) std::cout << "  DIFF " << differences[i] << "\n";
    EXPECT_TRUE(differences.empty()) << differences.size() << " queries differ in state " << state;
    EXPECT_GE(with_data * 10, compared * 9) << "too many empty answers";
  }

  // Polls /metrics until the downsampler sealed 1d windows up to `until`.
  void WaitForSealed(int64_t until_seconds) {
    std::unique_ptr<http::Client> client;
    ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
    const std::string want = "tsvault_downsample_sealed_until_seconds{resolution=\"1d\"} ";
    for (int i = 0; i < 600; ++i) {
      http::Response metrics;
      ASSERT_TRUE(client->Get("/metrics", &metrics).ok());
      const size_t at = metrics.body.find(want);
      if (at != std::string::npos && std::stoll(metrics.body.substr(at + want.size())) >= until_seconds) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the downsampler did not seal up to " << until_seconds << "\n" << server_->LogTail();
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TsvaultServer> server_;
};

TEST_F(RollupDifferentialTest, AutoAnswersLikeRawInEveryState) {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t end = now / kDay * kDay;  // the last midnight
  const int64_t start = end - 3 * kDay;

  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir_.path() + "/data";
  options.log_path = dir_.path() + "/tsvault.log";
  // The downsampler waits until told to seal (a grace of 100 days).
  options.extra_args = {"--storage.wal-sync=none", "--downsample.grace=2400h", "--downsample.interval=1s"};
  server_ = std::make_unique<testing::TsvaultServer>(options);
  ASSERT_TRUE(server_->Start().ok()) << server_->LogTail();

  const std::string log = dir_.path() + "/loadgen.log";
  ASSERT_TRUE(RunLoadgen({"--url", server_->base_url() + "/api/v1/write", "--scale", "0.3", "--seed", "5",
                          "--churn", "0.0005", "--interval", "60s", "--backfill", "--from",
                          std::to_string(start - kHour), "--to", std::to_string(end + kHour), "--metric-filter",
                          "reengagement_.*|courses_.*", "--concurrency", "2"},
                         log)
                  .ok())
      << testing::ReadLogTail(log);
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
  ASSERT_TRUE(testing::PostRemoteWrite(client.get(), testing::DifferentialEdgeSeries((end - kDay) * 1000, end * 1000, 15'000)).ok());
  Status written = testing::PostRemoteWrite(client.get(),
                                            DifferentialNativeHistogramSeries((end - 2 * kDay) * 1000, end * 1000, 21));
  ASSERT_TRUE(written.ok()) << written.ToString();

  int rollup_answers = 0;
  CompareAutoWithRaw("windows computed from raw", start, end, &rollup_answers);
  EXPECT_GE(rollup_answers, 60);

  // Seal everything: restart with no grace; the downsampler's first run is immediate.
  ASSERT_TRUE(server_->Stop().ok());
  server_ = nullptr;
  options.extra_args = {"--storage.wal-sync=none", "--downsample.grace=0s", "--downsample.interval=1s"};
  server_ = std::make_unique<testing::TsvaultServer>(options);
  ASSERT_TRUE(server_->Start().ok()) << server_->LogTail();
  WaitForSealed(end);
  CompareAutoWithRaw("sealed rollups", start, end, &rollup_answers);
  EXPECT_GE(rollup_answers, 60);
  // The regular histogram series is answered from rollups alone, with
  // histograms (not a silent fallback to raw).
  ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
  for (const auto& [query, step, resolution] :
       std::vector<std::tuple<std::string, int64_t, std::string>>{
           {"rate(native_latency_seconds{route=\"b\"}[1h])", kHour, "1h"},
           {"histogram_quantile(0.9, increase(native_latency_seconds{route=\"b\"}[1d]))", kDay, "1d"}}) {
    http::Response response;
    ASSERT_TRUE(client->Get("/api/v1/query_range?query=" + testing::QueryEscape(query) + "&start=" +
                                std::to_string(end - 2 * kDay) + "&end=" + std::to_string(end) + "&step=" +
                                std::to_string(step),
                            &response)
                    .ok());
    EXPECT_EQ(std::string(response.Header("X-Tsvault-Resolutions")), resolution) << query;
    EXPECT_NE(response.body.find(step == kHour ? "\"histograms\"" : "\"values\""), std::string::npos) << query;
  }

  // A late backfill into sealed windows: the edge series once more, shifted
  // by half a scrape, two days back.
  ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
  ASSERT_TRUE(
      testing::PostRemoteWrite(client.get(), testing::DifferentialEdgeSeries((end - 2 * kDay) * 1000 + 7'500, (end - kDay) * 1000, 15'000))
          .ok());
  // Late histograms too, between the stored ones, a day and a half back.
  storage::WriteInput late = DifferentialNativeHistogramSeries((end - 2 * kDay) * 1000 + 15'000 + 500,
                                                               (end - kDay - 12 * kHour) * 1000, 77);
  late.series.resize(2);  // "mixed" would put floats beside its histograms
  ASSERT_TRUE(testing::PostRemoteWrite(client.get(), late).ok());
  CompareAutoWithRaw("late samples in sealed windows", start, end, &rollup_answers);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the downsampler redoes the stale spans
  EXPECT_NE(server_->LogTail(100000).find("stale spans redone"), std::string::npos);
  CompareAutoWithRaw("stale spans redone", start, end, &rollup_answers);

  // /metrics counts queries by the resolutions that served them.
  http::Response metrics;
  ASSERT_TRUE(client->Get("/metrics", &metrics).ok());
  for (const char* resolution : {"raw", "5m", "1h", "1d"}) {
    const std::string series = std::string("tsvault_query_resolutions_total{resolution=\"") + resolution + "\"} ";
    const size_t at = metrics.body.find(series);
    ASSERT_NE(at, std::string::npos) << series;
    EXPECT_GT(std::stod(metrics.body.substr(at + series.size())), 0) << series;
  }
}

TEST_F(RollupDifferentialTest, BadResolutionIsABadDataError) {
  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir_.path() + "/data";
  options.log_path = dir_.path() + "/tsvault.log";
  server_ = std::make_unique<testing::TsvaultServer>(options);
  ASSERT_TRUE(server_->Start().ok()) << server_->LogTail();
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(server_->base_url(), &client).ok());
  http::Response response;
  ASSERT_TRUE(client->Get("/api/v1/query?query=up&max_source_resolution=7m", &response).ok());
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("\"errorType\":\"bad_data\""), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("invalid parameter \\\"max_source_resolution\\\""), std::string::npos) << response.body;
  for (const char* good : {"auto", "raw", "0s", "5m", "1h", "1d"}) {
    ASSERT_TRUE(client->Get(std::string("/api/v1/query?query=up&max_source_resolution=") + good, &response).ok());
    EXPECT_EQ(response.status, 200) << good << ": " << response.body;
  }
}

}  // namespace
}  // namespace tsvault
