// The differential test of the PromQL engine: the same data goes to a real
// Prometheus 2.42 (remote-write receiver) and to tsvault, then every query of
// the pack (tests/support/promql_query_pack.cc) runs against both as instant
// queries at three times and as range queries with two steps. Every answer
// must match: same status and error type, same label sets, same timestamps,
// values within 1e-9 relative (NaN equals NaN). A second test checks that
// `promtool query` prints the same for both servers.
//
// The comparison runs in every storage state a long-term store lives in: a
// first tsvault holds everything in its head (nothing ever reached a
// checkpoint); a second one holds the same data and is taken through the
// other states: chunk store plus head (half of the edge series written
// after a checkpoint), chunk store plus replayed WAL (after SIGKILL), and
// after `tsvault compact`.
//
// The data: one hour of the seed workload from `tsvault loadgen` (scale 0.1:
// ~900 series of every family, counters with resets, gauges, classic
// histograms, churn with staleness markers) plus hand-made edge series (NaN,
// ±Inf, a stale series, a gap longer than the lookback, counter resets).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "remote_write/encoder.h"
#include "tests/support/differential.h"
#include "tests/support/ports.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/promql_query_pack.h"
#include "tests/support/promql_result_compare.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_db.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

constexpr int64_t kIntervalSeconds = testing::kDifferentialIntervalSeconds;

// Runs `promtool query <args...>` and returns what it printed (stdout and
// stderr) and whether it exited 0.
Status RunPromtool(const std::vector<std::string>& args, const std::string& log_path, std::string* output) {
  std::remove(log_path.c_str());
  std::vector<std::string> argv = {"/usr/bin/promtool", "query"};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Process promtool;
  Status s = promtool.Start({argv, {}, log_path});
  if (!s.ok()) return s;
  if (!promtool.WaitForExit(std::chrono::seconds(60))) {
    promtool.Kill();
    return Status::IOError("promtool did not finish");
  }
  std::ifstream in(log_path);
  std::stringstream content;
  content << in.rdbuf();
  *output = content.str();
  if (promtool.last_wait_status() != 0) {
    return Status::IOError("promtool " + testing::DescribeWaitStatus(promtool.last_wait_status()) + ": " + *output);
  }
  return Status::OK();
}

// The lines of `text`, sorted: promtool prints an instant vector in the
// server's order, which PromQL leaves undefined for most queries.
std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

// Both servers with the same data, started once for the suite.
class PromqlDifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setup_status_ = new Status(LoadBothServers()); }
  static void TearDownTestSuite() {
    delete prometheus_;
    delete tsvault_;
    delete tsvault_stored_;
    delete dir_;
    delete setup_status_;
    prometheus_ = nullptr;
    tsvault_ = nullptr;
    tsvault_stored_ = nullptr;
    dir_ = nullptr;
    setup_status_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(setup_status_->ok()) << setup_status_->ToString(); }

  static Status LoadBothServers();

  static testing::TempDir* dir_;
  static testing::TsvaultServer* tsvault_;
  static testing::TsvaultServer* tsvault_stored_;  // taken through the storage states
  static testing::PrometheusServer* prometheus_;
  static Status* setup_status_;
  static int64_t start_, end_, samples_;
};

testing::TempDir* PromqlDifferentialTest::dir_ = nullptr;
testing::TsvaultServer* PromqlDifferentialTest::tsvault_ = nullptr;
testing::TsvaultServer* PromqlDifferentialTest::tsvault_stored_ = nullptr;
testing::PrometheusServer* PromqlDifferentialTest::prometheus_ = nullptr;
Status* PromqlDifferentialTest::setup_status_ = nullptr;
int64_t PromqlDifferentialTest::start_ = 0;
int64_t PromqlDifferentialTest::end_ = 0;
int64_t PromqlDifferentialTest::samples_ = 0;

Status PromqlDifferentialTest::LoadBothServers() {
  dir_ = new testing::TempDir();
  testing::TsvaultServerOptions tsvault_options;
  tsvault_options.binary = testing::TsvaultBinaryPath();
  tsvault_options.data_dir = dir_->path() + "/tsvault-data";
  tsvault_options.log_path = dir_->path() + "/tsvault.log";
  tsvault_options.extra_args = {"--storage.wal-sync=none"};
  tsvault_ = new testing::TsvaultServer(tsvault_options);
  Status s = tsvault_->Start();
  if (!s.ok()) return s;
  tsvault_options.data_dir = dir_->path() + "/tsvault-stored-data";
  tsvault_options.log_path = dir_->path() + "/tsvault-stored.log";
  tsvault_stored_ = new testing::TsvaultServer(tsvault_options);
  s = tsvault_stored_->Start();
  if (!s.ok()) return s;

  testing::PrometheusServerOptions prometheus_options;
  prometheus_options.work_dir = dir_->path();
  prometheus_options.enable_remote_write_receiver = true;
  prometheus_options.extra_args = {"--enable-feature=promql-negative-offset"};
  prometheus_ = new testing::PrometheusServer(prometheus_options);
  s = prometheus_->Start("global:\n  scrape_interval: 15s\n");
  if (!s.ok()) return s;

  // One hour ending at the last whole interval before now: Prometheus'
  // receiver only takes samples near its head, so the data must be recent.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  end_ = std::chrono::duration_cast<std::chrono::seconds>(now).count() / kIntervalSeconds * kIntervalSeconds;
  start_ = end_ - 3600;

  nlohmann::json prometheus_summary, tsvault_summary;
  s = testing::RunLoadgenBackfill(testing::TsvaultBinaryPath(), prometheus_->base_url() + "/api/v1/write", start_, end_, dir_->path() + "/loadgen-prometheus.log",
                 &prometheus_summary);
  if (!s.ok()) return s;
  s = testing::RunLoadgenBackfill(testing::TsvaultBinaryPath(), tsvault_->base_url() + "/api/v1/write", start_, end_, dir_->path() + "/loadgen-tsvault.log",
                 &tsvault_summary);
  if (!s.ok()) return s;
  nlohmann::json stored_summary;
  s = testing::RunLoadgenBackfill(testing::TsvaultBinaryPath(), tsvault_stored_->base_url() + "/api/v1/write", start_, end_,
                 dir_->path() + "/loadgen-tsvault-stored.log", &stored_summary);
  if (!s.ok()) return s;
  samples_ = prometheus_summary.value("samples_sent", int64_t{0});
  if (samples_ < 100'000) return Status::Corruption("loadgen sent too little: " + prometheus_summary.dump());
  for (const auto* summary : {&prometheus_summary, &tsvault_summary, &stored_summary}) {
    if (summary->value("samples_sent", int64_t{-1}) != samples_ ||
        summary->value("samples_acknowledged", int64_t{-1}) != samples_) {
      return Status::Corruption("not every sample was acknowledged: " + prometheus_summary.dump() + " / " +
                                tsvault_summary.dump());
    }
  }

  std::unique_ptr<http::Client> prometheus_client, tsvault_client;
  s = http::Client::Create(prometheus_->base_url(), &prometheus_client);
  if (s.ok()) s = http::Client::Create(tsvault_->base_url(), &tsvault_client);
  if (!s.ok()) return s;
  const storage::WriteInput edges = testing::DifferentialEdgeSeries((start_ + 300) * 1000, end_ * 1000, 15'000);
  s = testing::PostRemoteWrite(prometheus_client.get(), edges);
  if (!s.ok()) return Status::IOError("Prometheus: " + s.ToString());
  s = testing::PostRemoteWrite(tsvault_client.get(), edges);
  if (!s.ok()) return Status::IOError("tsvault: " + s.ToString());

  // The second server: the edge samples before the middle of the hour, a
  // clean restart (its final checkpoint moves everything into the chunk
  // store), then the rest, which stays in the head. Each edge series then
  // lives partly in chunks and partly in the head.
  const int64_t middle_ms = (start_ + 1800) * 1000;
  storage::WriteInput early = edges, late = edges;
  for (size_t i = 0; i < edges.series.size(); ++i) {
    auto& early_samples = early.series[i].samples;
    auto& late_samples = late.series[i].samples;
    early_samples.clear();
    late_samples.clear();
    for (const storage::Sample& sample : edges.series[i].samples) {
      (sample.timestamp_ms < middle_ms ? early_samples : late_samples).push_back(sample);
    }
  }
  std::unique_ptr<http::Client> stored_client;
  s = http::Client::Create(tsvault_stored_->base_url(), &stored_client);
  if (s.ok()) s = testing::PostRemoteWrite(stored_client.get(), early);
  if (s.ok()) s = tsvault_stored_->Restart();
  if (s.ok()) s = testing::PostRemoteWrite(stored_client.get(), late);
  if (!s.ok()) return Status::IOError("tsvault (stored): " + s.ToString() + "\n" + tsvault_stored_->LogTail());
  return Status::OK();
}

// Runs the whole pack against Prometheus and `tsvault_url`; prints a summary
// line naming `state` and fails the test on any difference.
void CompareWithPrometheus(const std::string& prometheus_url, const std::string& tsvault_url, const std::string& state,
                           int64_t start, int64_t end, int64_t samples) {
  const std::vector<std::string> pack = testing::DifferentialQueryPack();
  ASSERT_GE(pack.size(), 300u);
  testing::PackComparison comparison;
  Status s = testing::ComparePack(prometheus_url, tsvault_url, pack, testing::DifferentialEvaluations(start, end),
                                  &comparison);
  ASSERT_TRUE(s.ok()) << state << ": " << s.ToString();
  const size_t compared = comparison.compared, matched = comparison.matched, with_data = comparison.with_data,
               errors_alike = comparison.errors_alike, from_rollups = comparison.from_rollups;
  const std::vector<std::string>& mismatches = comparison.mismatches;
  std::cout << "PromQL differential (" << state << "): " << pack.size() << " queries, " << compared
            << " evaluations, " << matched << " matched (" << with_data << " with data, " << errors_alike
            << " alike errors), " << mismatches.size() << " differ, " << from_rollups
            << " served by 5m rollups; " << samples << " samples per server\n";
  for (size_t i = 0; i < mismatches.size() && i < 40; ++i) std::cout << "  DIFF " << mismatches[i] << "\n";
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " evaluations differ in state " << state
                                  << " (listed above)";
  // The comparison is only meaningful if most answers carry data.
  EXPECT_GE(with_data * 10, compared * 8) << "too many empty answers: the data set does not fit the pack";
  EXPECT_GE(from_rollups, 100u) << "the aligned range should read rollups";
}

TEST_F(PromqlDifferentialTest, TsvaultAnswersLikePrometheus) {
  CompareWithPrometheus(prometheus_->base_url(), tsvault_->base_url(), "head only", start_, end_, samples_);
}

TEST_F(PromqlDifferentialTest, TsvaultAnswersLikePrometheusInEveryStorageState) {
  testing::TsvaultServer& stored = *tsvault_stored_;
  CompareWithPrometheus(prometheus_->base_url(), stored.base_url(), "chunk store + head", start_, end_, samples_);

  // A crash: the head's half is only in the WAL, replayed at start-up.
  stored.Kill();
  ASSERT_TRUE(stored.Start().ok()) << stored.LogTail();
  // The start-up log line names how many WAL records were replayed.
  const std::string log_tail = stored.LogTail(100000);
  const size_t replayed = log_tail.rfind(" WAL records replayed");
  ASSERT_NE(replayed, std::string::npos) << log_tail;
  const size_t number = log_tail.rfind(' ', replayed - 1);
  EXPECT_GT(std::stoll(log_tail.substr(number + 1, replayed - number - 1)), 0) << log_tail.substr(number);
  CompareWithPrometheus(prometheus_->base_url(), stored.base_url(), "chunk store + replayed WAL", start_, end_,
                        samples_);

  // Offline full compaction of the stopped node.
  ASSERT_TRUE(stored.Stop().ok()) << stored.LogTail();
  const std::string log = dir_->path() + "/compact.log";
  testing::Process compact;
  ASSERT_TRUE(compact.Start({{testing::TsvaultBinaryPath(), "compact", "--storage.path=" + stored.data_dir()}, {}, log})
                  .ok());
  ASSERT_TRUE(compact.WaitForExit(std::chrono::minutes(2))) << testing::ReadLogTail(log);
  ASSERT_EQ(compact.last_wait_status(), 0) << testing::ReadLogTail(log);
  ASSERT_TRUE(stored.Start().ok()) << stored.LogTail();
  CompareWithPrometheus(prometheus_->base_url(), stored.base_url(), "after tsvault compact", start_, end_, samples_);
}

TEST_F(PromqlDifferentialTest, PromtoolPrintsTheSameForBothServers) {
  const std::string when = std::to_string(end_ - 600);
  const std::string from = std::to_string(end_ - 1800), to = std::to_string(end_);
  const std::vector<std::vector<std::string>> commands = {
      {"instant", "--time=" + when, "SERVER", "sum by (app, status) (rate(http_requests_total[5m]))"},
      {"instant", "--time=" + when, "SERVER",
       "histogram_quantile(0.95, sum by (le, app) (rate(http_request_duration_seconds_bucket[5m])))"},
      {"instant", "--time=" + when, "SERVER", "sort_desc(topk(5, bullmq_queue_size))"},
      {"instant", "--time=" + when, "SERVER", "edge_gauge"},
      {"range", "--start=" + from, "--end=" + to, "--step=1m", "SERVER",
       "sum by (mode) (rate(node_cpu_seconds_total[5m]))"},
      {"range", "--start=" + from, "--end=" + to, "--step=45s", "SERVER", "edge_gauge{case=~\"stale|gap\"}"},
      {"series", "--match=bullmq_queue_size", "--match=node_load1", "--start=" + from, "--end=" + to, "SERVER"},
      {"labels", "--start=" + from, "--end=" + to, "SERVER", "__name__"},
      {"labels", "SERVER", "queue"},
  };
  int index = 0;
  for (const auto& command : commands) {
    std::string outputs[2];
    const std::string servers[2] = {prometheus_->base_url(), tsvault_->base_url()};
    for (int i = 0; i < 2; ++i) {
      std::vector<std::string> args = command;
      for (auto& arg : args) {
        if (arg == "SERVER") arg = servers[i];
      }
      const std::string log = dir_->path() + "/promtool-" + std::to_string(index) + "-" + std::to_string(i) + ".log";
      Status s = RunPromtool(args, log, &outputs[i]);
      ASSERT_TRUE(s.ok()) << (i == 0 ? "Prometheus: " : "tsvault: ") << s.ToString();
    }
    ++index;
    ASSERT_FALSE(outputs[0].empty()) << command[0] << " " << command.back();
    // Instant vectors come in the server's order unless the query sorts.
    const bool ordered = command[0] != "instant" || command.back().rfind("sort", 0) == 0;
    if (ordered) {
      EXPECT_EQ(outputs[1], outputs[0]) << "promtool query " << command[0] << " " << command.back();
    } else {
      EXPECT_EQ(SortedLines(outputs[1]), SortedLines(outputs[0]))
          << "promtool query " << command[0] << " " << command.back() << "\nPrometheus:\n"
          << outputs[0] << "tsvault:\n" << outputs[1];
    }
  }
}

}  // namespace
}  // namespace tsvault
