// POST /api/v1/read against a real Prometheus 2.42 that has no data of its
// own and `remote_read:` pointing at tsvault (read_recent: true): its
// answers to a pack of queries equal tsvault's own. Bad requests get 400.
#include <gtest/gtest.h>

#include <snappy.h>

#include <chrono>
#include <filesystem>

#include "http/client.h"
#include "proto/remote_read.pb.h"
#include "tests/support/ports.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/promql_result_compare.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_db.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(RemoteReadTest, APrometheusReadingTsvaultAnswersAsTsvault) {
  testing::TempDir dir;
  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir.path() + "/tsvault";
  options.log_path = dir.path() + "/tsvault.log";
  testing::TsvaultServer tsvault(options);
  ASSERT_TRUE(tsvault.Start().ok()) << tsvault.LogTail();
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(tsvault.base_url(), &client).ok());
  // Two hours of counters and gauges ending now, a series that goes stale.
  const int64_t end = NowSeconds() / 60 * 60;
  const int64_t start = end - 2 * 3600;
  storage::WriteInput input;
  for (int s = 0; s < 12; ++s) {
    storage::SeriesWrite counter, gauge;
    counter.labels = {{"__name__", "rr_requests_total"}, {"instance", "i" + std::to_string(s)}, {"job", s % 2 ? "a" : "b"}};
    gauge.labels = {{"__name__", "rr_queue_length"}, {"instance", "i" + std::to_string(s)}, {"job", s % 2 ? "a" : "b"}};
    double value = 0;
    for (int64_t t = start * 1000 + 700; t <= end * 1000; t += 15'000) {
      value += (t / 15'000 + s) % 7 == 0 ? -value : static_cast<double>((t / 1000 + s) % 5);  // resets
      counter.samples.push_back({t, value});
      gauge.samples.push_back({t, static_cast<double>((t / 15'000 * (s + 3)) % 11)});
    }
    input.series.push_back(counter);
    input.series.push_back(gauge);
  }
  storage::SeriesWrite ended = input.series[0];
  ended.labels = {{"__name__", "rr_ended"}, {"job", "a"}};
  ended.samples.resize(ended.samples.size() / 2);
  double stale;
  std::memcpy(&stale, &storage::kStaleNaNBits, sizeof(stale));
  ended.samples.push_back({ended.samples.back().timestamp_ms + 15'000, stale});
  input.series.push_back(ended);
  ASSERT_TRUE(testing::PostRemoteWrite(client.get(), input).ok());

  testing::PrometheusServerOptions prometheus_options;
  prometheus_options.work_dir = dir.path() + "/prometheus";
  std::filesystem::create_directories(prometheus_options.work_dir);
  testing::PrometheusServer prometheus(prometheus_options);
  ASSERT_TRUE(prometheus
                  .Start("global:\n  scrape_interval: 1h\nremote_read:\n  - url: " + tsvault.base_url() +
                         "/api/v1/read\n    read_recent: true\n")
                  .ok())
      << prometheus.LogTail();
  std::unique_ptr<http::Client> prometheus_client;
  ASSERT_TRUE(http::Client::Create(prometheus.base_url(), &prometheus_client).ok());
  const std::vector<std::string> queries = {
      "rr_requests_total",
      "rate(rr_requests_total[5m])",
      "sum by (job) (increase(rr_requests_total[10m]))",
      "max_over_time(rr_queue_length[7m])",
      "avg(rr_queue_length)",
      "rr_ended",
      "count_over_time({__name__=~\"rr_q.*\"}[15m])",
      "topk(3, rr_queue_length)",
  };
  int with_data = 0;
  for (const std::string& query : queries) {
    const std::string target = "/api/v1/query_range?query=" + testing::QueryEscape(query) + "&start=" +
                               std::to_string(start + 600) + "&end=" + std::to_string(end) + "&step=60";
    http::Response expected, actual;
    ASSERT_TRUE(client->Get(target, &expected).ok());
    ASSERT_TRUE(prometheus_client->Get(target, &actual).ok());
    const testing::CompareResult result = testing::CompareQueryResponses(expected.body, actual.body, {});
    EXPECT_TRUE(result.equal) << query << ": " << result.difference << "\n" << actual.body.substr(0, 300);
    with_data += result.expected_has_data;
    if (!result.expected_has_data) std::cout << "no data: " << query << " " << expected.body.substr(0, 200) << "\n";
  }
  EXPECT_EQ(with_data, static_cast<int>(queries.size()));

  // The usual long-term set-up: Prometheus holds the last hour itself
  // (received by remote write) and reads older data from tsvault
  // (read_recent: false). Its answers over both hours merge both, without
  // duplicates.
  ASSERT_TRUE(prometheus.Stop().ok());
  testing::PrometheusServerOptions local_options;
  local_options.work_dir = dir.path() + "/prometheus-local";
  std::filesystem::create_directories(local_options.work_dir);
  local_options.enable_remote_write_receiver = true;
  testing::PrometheusServer local(local_options);
  ASSERT_TRUE(local
                  .Start("global:\n  scrape_interval: 1h\nremote_read:\n  - url: " + tsvault.base_url() +
                         "/api/v1/read\n    read_recent: false\n")
                  .ok())
      << local.LogTail();
  storage::WriteInput recent = input;
  for (storage::SeriesWrite& series : recent.series) {
    std::erase_if(series.samples, [&](const storage::Sample& sample) { return sample.timestamp_ms < (end - 3600) * 1000; });
  }
  std::erase_if(recent.series, [](const storage::SeriesWrite& series) { return series.samples.empty(); });
  std::unique_ptr<http::Client> local_client;
  ASSERT_TRUE(http::Client::Create(local.base_url(), &local_client).ok());
  ASSERT_TRUE(testing::PostRemoteWrite(local_client.get(), recent).ok());
  for (const std::string& query : queries) {
    const std::string target = "/api/v1/query_range?query=" + testing::QueryEscape(query) + "&start=" +
                               std::to_string(start + 600) + "&end=" + std::to_string(end) + "&step=60";
    http::Response expected, actual;
    ASSERT_TRUE(client->Get(target, &expected).ok());
    ASSERT_TRUE(local_client->Get(target, &actual).ok());
    const testing::CompareResult result = testing::CompareQueryResponses(expected.body, actual.body, {});
    EXPECT_TRUE(result.equal) << "read_recent: false, " << query << ": " << result.difference;
  }

  // Bad requests: 400 with a message.
  http::Response response;
  ASSERT_TRUE(client->Do("POST", "/api/v1/read", {{"Content-Type", "application/x-protobuf"}}, "not snappy", &response)
                  .ok());
  EXPECT_EQ(response.status, 400) << response.body;
  prometheus::ReadRequest streamed;
  streamed.add_accepted_response_types(static_cast<prometheus::ReadRequest::ResponseType>(5));  // unknown
  std::string body, compressed;
  streamed.SerializeToString(&body);
  snappy::Compress(body.data(), body.size(), &compressed);
  ASSERT_TRUE(client->Do("POST", "/api/v1/read", {{"Content-Type", "application/x-protobuf"}}, compressed, &response)
                  .ok());
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_NE(response.body.find("response types"), std::string::npos) << response.body;
}

}  // namespace
}  // namespace tsvault
