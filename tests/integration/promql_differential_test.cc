// The differential test of the PromQL engine: the same data goes to a real
// Prometheus 2.42 (remote-write receiver) and to tsvault, then every query of
// the pack (tests/support/promql_query_pack.cc) runs against both as instant
// queries at three times and as range queries with two steps. Every answer
// must match: same status and error type, same label sets, same timestamps,
// values within 1e-9 relative (NaN equals NaN).
//
// The data: one hour of the seed workload from `tsvault loadgen` (scale 0.1:
// ~900 series of every family, counters with resets, gauges, classic
// histograms, churn with staleness markers) plus hand-made edge series (NaN,
// ±Inf, a stale series, a gap longer than the lookback, counter resets).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "remote_write/encoder.h"
#include "tests/support/ports.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/promql_query_pack.h"
#include "tests/support/promql_result_compare.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

constexpr int64_t kIntervalSeconds = 15;

// Runs `tsvault loadgen --backfill` against `url` and returns its JSON
// summary (the last line of its output).
Status RunLoadgen(const std::string& url, int64_t from_seconds, int64_t to_seconds, const std::string& log_path,
                  nlohmann::json* summary) {
  testing::Process loadgen;
  Status s = loadgen.Start({{testing::TsvaultBinaryPath(), "loadgen", "--url", url, "--protocol", "v1", "--scale",
                             "0.1", "--seed", "11", "--churn", "0.003", "--interval",
                             std::to_string(kIntervalSeconds) + "s", "--backfill", "--from",
                             std::to_string(from_seconds), "--to", std::to_string(to_seconds), "--concurrency", "2",
                             "--max-retries", "3"},
                            {},
                            log_path});
  if (!s.ok()) return s;
  if (!loadgen.WaitForExit(std::chrono::minutes(3))) {
    loadgen.Kill();
    return Status::IOError("loadgen did not finish: " + testing::ReadLogTail(log_path, 2000));
  }
  std::ifstream log(log_path);
  std::string line, last_summary;
  while (std::getline(log, line)) {
    if (line.rfind("{\"series\"", 0) == 0) last_summary = line;
  }
  *summary = nlohmann::json::parse(last_summary, nullptr, false);
  if (summary->is_discarded()) return Status::IOError("no loadgen summary in " + testing::ReadLogTail(log_path, 2000));
  return Status::OK();
}

Status PostWrite(http::Client* client, const storage::WriteInput& input) {
  std::string body;
  Status s = remote_write::EncodeWriteRequest(input, remote_write::Protocol::kV1, &body);
  if (!s.ok()) return s;
  http::Response response;
  s = client->Do("POST", "/api/v1/write",
                 {{"Content-Type", remote_write::ContentType(remote_write::Protocol::kV1)},
                  {"Content-Encoding", "snappy"},
                  {"X-Prometheus-Remote-Write-Version", "0.1.0"}},
                 body, &response);
  if (!s.ok()) return s;
  if (response.status != 204 && response.status != 200) {
    return Status::IOError("write answered " + std::to_string(response.status) + ": " + response.body);
  }
  return Status::OK();
}

std::string FormatSeconds(double seconds) {
  std::ostringstream out;
  out.precision(15);
  out << seconds;
  return out.str();
}

struct Evaluation {
  std::string description;  // "instant at T" or "range [a, b] step s"
  std::string target_suffix;
  bool range;
};

TEST(PromqlDifferentialTest, TsvaultAnswersLikePrometheus) {
  testing::TempDir dir;

  testing::TsvaultServerOptions tsvault_options;
  tsvault_options.binary = testing::TsvaultBinaryPath();
  tsvault_options.data_dir = dir.path() + "/tsvault-data";
  tsvault_options.log_path = dir.path() + "/tsvault.log";
  tsvault_options.extra_args = {"--storage.wal-sync=none"};
  testing::TsvaultServer tsvault(tsvault_options);
  Status s = tsvault.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();

  testing::PrometheusServerOptions prometheus_options;
  prometheus_options.work_dir = dir.path();
  prometheus_options.enable_remote_write_receiver = true;
  prometheus_options.extra_args = {"--enable-feature=promql-negative-offset"};
  testing::PrometheusServer prometheus(prometheus_options);
  s = prometheus.Start("global:\n  scrape_interval: 15s\n");
  ASSERT_TRUE(s.ok()) << s.ToString();

  // One hour ending at the last whole interval before now: Prometheus'
  // receiver only takes samples near its head, so the data must be recent.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const int64_t end = std::chrono::duration_cast<std::chrono::seconds>(now).count() / kIntervalSeconds *
                      kIntervalSeconds;
  const int64_t start = end - 3600;

  nlohmann::json prometheus_summary, tsvault_summary;
  s = RunLoadgen(prometheus.base_url() + "/api/v1/write", start, end, dir.path() + "/loadgen-prometheus.log",
                 &prometheus_summary);
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = RunLoadgen(tsvault.base_url() + "/api/v1/write", start, end, dir.path() + "/loadgen-tsvault.log",
                 &tsvault_summary);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const int64_t samples = prometheus_summary.value("samples_sent", int64_t{0});
  ASSERT_GT(samples, 100'000);
  EXPECT_EQ(prometheus_summary.value("samples_acknowledged", int64_t{-1}), samples) << prometheus_summary.dump();
  EXPECT_EQ(tsvault_summary.value("samples_sent", int64_t{-1}), samples) << tsvault_summary.dump();
  EXPECT_EQ(tsvault_summary.value("samples_acknowledged", int64_t{-1}), samples) << tsvault_summary.dump();

  std::unique_ptr<http::Client> prometheus_client, tsvault_client;
  ASSERT_TRUE(http::Client::Create(prometheus.base_url(), &prometheus_client).ok());
  ASSERT_TRUE(http::Client::Create(tsvault.base_url(), &tsvault_client).ok());
  const storage::WriteInput edges = testing::DifferentialEdgeSeries((start + 300) * 1000, end * 1000, 15'000);
  s = PostWrite(prometheus_client.get(), edges);
  ASSERT_TRUE(s.ok()) << "Prometheus: " << s.ToString();
  s = PostWrite(tsvault_client.get(), edges);
  ASSERT_TRUE(s.ok()) << "tsvault: " << s.ToString();

  // Instant queries inside the data (off the scrape grid), at its end, and
  // in the lookback tail after it; range queries on and off the grid.
  const std::vector<double> instants = {start + 2400 + 7.5, static_cast<double>(end), end + 240.0};
  struct Range {
    double from, to, step;
  };
  const std::vector<Range> ranges = {{start + 600.0, static_cast<double>(end), 60},
                                     {start + 123.0, end + 300.0, 37}};
  std::vector<Evaluation> evaluations;
  for (double t : instants) {
    evaluations.push_back({"instant at " + FormatSeconds(t), "&time=" + FormatSeconds(t), false});
  }
  for (const Range& r : ranges) {
    evaluations.push_back({"range [" + FormatSeconds(r.from) + ", " + FormatSeconds(r.to) + "] step " +
                               FormatSeconds(r.step),
                           "&start=" + FormatSeconds(r.from) + "&end=" + FormatSeconds(r.to) +
                               "&step=" + FormatSeconds(r.step),
                           true});
  }

  const std::vector<std::string> pack = testing::DifferentialQueryPack();
  ASSERT_GE(pack.size(), 300u);
  size_t compared = 0, matched = 0, with_data = 0, errors_alike = 0;
  std::vector<std::string> mismatches;
  for (const std::string& query : pack) {
    testing::CompareOptions options;
    options.ordered = query.rfind("sort(", 0) == 0 || query.rfind("sort_desc(", 0) == 0;
    for (const Evaluation& evaluation : evaluations) {
      const std::string target = std::string(evaluation.range ? "/api/v1/query_range" : "/api/v1/query") +
                                 "?query=" + testing::QueryEscape(query) + evaluation.target_suffix;
      http::Response expected, actual;
      s = prometheus_client->Get(target, &expected);
      ASSERT_TRUE(s.ok()) << "Prometheus: " << s.ToString() << "\n" << prometheus.LogTail();
      s = tsvault_client->Get(target, &actual);
      ASSERT_TRUE(s.ok()) << "tsvault: " << s.ToString() << "\n" << tsvault.LogTail();
      ++compared;
      testing::CompareResult result = testing::CompareQueryResponses(expected.body, actual.body, options);
      if (expected.status != actual.status) {
        result.equal = false;
        result.difference = "HTTP " + std::to_string(actual.status) + ", expected " +
                            std::to_string(expected.status) + "; " + result.difference;
      }
      if (result.equal) {
        ++matched;
        if (result.expected_has_data) ++with_data;
        if (expected.status != 200) ++errors_alike;
      } else {
        mismatches.push_back(query + "  [" + evaluation.description + "]\n    " + result.difference);
      }
    }
  }

  std::cout << "PromQL differential: " << pack.size() << " queries, " << compared << " evaluations, " << matched
            << " matched (" << with_data << " with data, " << errors_alike << " alike errors), "
            << mismatches.size() << " differ; " << samples << " samples per server\n";
  for (size_t i = 0; i < mismatches.size() && i < 40; ++i) std::cout << "  DIFF " << mismatches[i] << "\n";
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " evaluations differ (listed above)";
  // The comparison is only meaningful if most answers carry data.
  EXPECT_GE(with_data * 10, compared * 8) << "too many empty answers: the data set does not fit the pack";
}

}  // namespace
}  // namespace tsvault
