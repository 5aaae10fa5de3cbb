// `tsvault compact` on a stopped node's directory: the data answers the same
// afterwards, the directory does not grow, and a directory a running server
// holds is refused.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include <cstdio>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/client.h"
#include "tests/support/ports.h"
#include "tests/support/test_db.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

// Runs `tsvault <args>` to completion; returns its wait status.
// The exit code of `tsvault args...`; -1 when it could not start, -2 when
// it ran past two minutes, -3 when a signal ended it.
int RunTsvault(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> argv = {testing::TsvaultBinaryPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunProgram(argv, log_path, std::chrono::seconds(120));
}

// The answer of an instant query at a fixed `time` (Unix seconds).
std::string Query(const std::string& base_url, const std::string& promql, int64_t time) {
  std::unique_ptr<http::Client> client;
  if (!http::Client::Create(base_url, &client).ok()) return "no client";
  http::Response response;
  if (!client->Get("/api/v1/query?query=" + testing::QueryEscape(promql) + "&time=" + std::to_string(time),
                   &response).ok()) return "no answer";
  return response.body;
}

TEST(CompactCommandTest, CompactsAStoppedNodeAndRefusesARunningOne) {
  testing::TempDir dir;
  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir.path() + "/data";
  options.log_path = dir.path() + "/tsvault.log";
  testing::TsvaultServer server(options);
  ASSERT_TRUE(server.Start().ok()) << server.LogTail();

  const std::string log = dir.path() + "/commands.log";
  ASSERT_EQ(RunTsvault({"loadgen", "--url", server.base_url() + "/api/v1/write", "--scale", "0.2", "--backfill",
                        "--from", "-30m", "--to", "now", "--concurrency", "2"},
                       log),
            0)
      << testing::ReadLogTail(log);
  const std::string promql =
      "count({__name__=~\".+\"}) + on() group_left sum(sum_over_time(node_cpu_seconds_total[1h]))";
  const int64_t time =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string before = Query(server.base_url(), promql, time);
  ASSERT_NE(before.find("\"success\""), std::string::npos) << before;

  // Refused while the server holds the directory.
  EXPECT_EQ(RunTsvault({"compact", "--storage.path=" + options.data_dir}, log), 1) << testing::ReadLogTail(log);
  EXPECT_NE(testing::ReadLogTail(log).find("compact: cannot open"), std::string::npos) << testing::ReadLogTail(log);

  ASSERT_TRUE(server.Stop().ok()) << server.LogTail();
  const uint64_t bytes_before = DirectoryBytes(options.data_dir);
  ASSERT_EQ(RunTsvault({"compact", "--storage.path=" + options.data_dir}, log), 0) << testing::ReadLogTail(log);
  const uint64_t bytes_after = DirectoryBytes(options.data_dir);
  EXPECT_LE(bytes_after, bytes_before);

  // With no grace, compact seals every window of the half hour as rollups.
  EXPECT_EQ(RunTsvault({"compact", "--storage.path=" + options.data_dir, "--downsample.grace=7x"}, log), 2);
  EXPECT_NE(testing::ReadLogTail(log).find("invalid --downsample.grace"), std::string::npos);
  std::remove(log.c_str());
  ASSERT_EQ(RunTsvault({"compact", "--storage.path=" + options.data_dir, "--downsample.grace=0s"}, log), 0)
      << testing::ReadLogTail(log);
  const std::string compact_log = testing::ReadLogTail(log);
  EXPECT_NE(compact_log.find("compact: downsampled"), std::string::npos) << compact_log;
  // Progress: plain lines when stderr is not a terminal.
  EXPECT_NE(compact_log.find("downsample 5m"), std::string::npos) << compact_log;
  EXPECT_NE(compact_log.find("full compaction          [##############################] 100%"), std::string::npos)
      << compact_log;
  EXPECT_EQ(compact_log.find(" 0 windows"), std::string::npos) << compact_log;

  ASSERT_TRUE(server.Start().ok()) << server.LogTail();
  EXPECT_EQ(Query(server.base_url(), promql, time), before);

  // tsvault inspect, read-only on the directory the server holds.
  const std::string report_path = dir.path() + "/inspect.json";
  ASSERT_EQ(RunTsvault({"inspect", "--storage.path=" + options.data_dir, "--format=json", "--limit=3"}, report_path), 0)
      << testing::ReadLogTail(report_path);
  std::ifstream report_file(report_path);
  const nlohmann::json report = nlohmann::json::parse(report_file, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << testing::ReadLogTail(report_path);
  ASSERT_EQ(report["resolutions"].size(), 4u);
  EXPECT_EQ(report["resolutions"][0]["resolution"], "raw");
  EXPECT_GT(report["resolutions"][0]["samples"].get<uint64_t>(), 10'000u);
  EXPECT_EQ(report["resolutions"][1]["resolution"], "5m");
  EXPECT_GT(report["resolutions"][1]["windows"].get<uint64_t>(), 1'000u);
  EXPECT_EQ(report["top_metric_names"].size(), 3u);
  EXPECT_EQ(RunTsvault({"inspect", "--storage.path=" + dir.path() + "/nothing-here"}, report_path), 1);

  // The same figures in /api/v1/status/tsdb.
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(server.base_url(), &client).ok());
  http::Response status;
  ASSERT_TRUE(client->Get("/api/v1/status/tsdb", &status).ok());
  const nlohmann::json tsdb = nlohmann::json::parse(status.body, nullptr, false);
  ASSERT_FALSE(tsdb.is_discarded()) << status.body;
  const nlohmann::json& resolutions = tsdb["data"]["resolutions"];
  ASSERT_EQ(resolutions.size(), 4u) << status.body;
  EXPECT_EQ(resolutions[1]["resolution"], "5m");
  EXPECT_EQ(resolutions[1]["numWindows"], report["resolutions"][1]["windows"]);
  EXPECT_TRUE(resolutions[1].contains("sealedUntil")) << status.body;
}

// `tsvault delete` and the retention flags of `tsvault compact` on a
// stopped node; the restarted server then refuses samples older than the
// raw retention and says so.
TEST(CompactCommandTest, DeleteAndRetentionOnAStoppedNode) {
  testing::TempDir dir;
  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir.path() + "/data";
  options.log_path = dir.path() + "/tsvault.log";
  options.extra_args = {"--downsample.grace=2400h"};
  testing::TsvaultServer server(options);
  ASSERT_TRUE(server.Start().ok()) << server.LogTail();
  const std::string log = dir.path() + "/commands.log";
  ASSERT_EQ(RunTsvault({"loadgen", "--url", server.base_url() + "/api/v1/write", "--scale", "0.2", "--backfill",
                        "--from", "-4d", "--to", "now", "--interval", "5m", "--metric-filter", "reengagement_.*",
                        "--concurrency", "2"},
                       log),
            0)
      << testing::ReadLogTail(log);
  ASSERT_TRUE(server.Stop().ok()) << server.LogTail();

  // Bad input: a clear error and exit code 2; nothing changes.
  EXPECT_EQ(RunTsvault({"delete", "--storage.path=" + options.data_dir, "--match", "{job="}, log), 2);
  EXPECT_NE(testing::ReadLogTail(log).find("parse error"), std::string::npos) << testing::ReadLogTail(log);
  EXPECT_EQ(RunTsvault({"delete", "--storage.path=" + dir.path() + "/nothing", "--match", "up"}, log), 1);
  EXPECT_EQ(RunTsvault({"compact", "--storage.path=" + options.data_dir, "--retention.resolution-raw=2 days"}, log), 2);
  EXPECT_NE(testing::ReadLogTail(log).find("--retention.resolution-raw"), std::string::npos);

  std::remove(log.c_str());
  ASSERT_EQ(RunTsvault({"delete", "--storage.path=" + options.data_dir, "--match",
                        "{__name__=\"reengagement_campaigns_active\"}"},
                       log),
            0)
      << testing::ReadLogTail(log);
  EXPECT_NE(testing::ReadLogTail(log).find("removed entirely"), std::string::npos) << testing::ReadLogTail(log);
  ASSERT_EQ(RunTsvault({"compact", "--storage.path=" + options.data_dir, "--downsample.grace=0s",
                        "--retention.resolution-raw=1d"},
                       log),
            0)
      << testing::ReadLogTail(log);
  EXPECT_NE(testing::ReadLogTail(log).find("retention: raw data before"), std::string::npos)
      << testing::ReadLogTail(log);

  options.extra_args = {"--retention.resolution-raw=1d"};
  ASSERT_TRUE(server.Start().ok()) << server.LogTail();
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(server.base_url(), &client).ok());
  http::Response response;
  ASSERT_TRUE(client->Get("/api/v1/series?match[]=%7B__name__%3D~%22reengagement_.*%22%7D", &response).ok());
  EXPECT_EQ(response.body.find("reengagement_campaigns_active"), std::string::npos);
  EXPECT_NE(response.body.find("reengagement_notifications_sent_total"), std::string::npos) << response.body;
  ASSERT_TRUE(client->Get("/api/v1/status/tsdb", &response).ok());
  const nlohmann::json tsdb = nlohmann::json::parse(response.body, nullptr, false);
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const int64_t cutoff = tsdb["data"]["resolutions"][0]["droppedBefore"];
  EXPECT_EQ(cutoff, (now_ms - 86'400'000) / 86'400'000 * 86'400'000) << response.body;
  EXPECT_GE(tsdb["data"]["resolutions"][0]["minTime"].get<int64_t>(), cutoff) << response.body;

  // A sample older than the raw retention goes into its rollup window; one
  // that falls between two samples of a window is refused, naming why.
  storage::WriteInput late;
  late.series.push_back({{{"__name__", "reengagement_notifications_sent_total"}, {"level", "late"}},
                         {{cutoff - 3'600'000, 1}, {now_ms - 1000, 2}},
                         {},
                         {}});
  ASSERT_TRUE(testing::PostRemoteWrite(client.get(), late).ok());
  late.series[0].samples = {{cutoff - 3'600'000 - 3, 1}};
  ASSERT_TRUE(testing::PostRemoteWrite(client.get(), late).ok());  // before the window's first sample
  late.series[0].samples = {{cutoff - 3'600'000 - 2, 1}};
  const Status written = testing::PostRemoteWrite(client.get(), late);
  EXPECT_NE(written.message().find("write answered 400"), std::string::npos) << written.message();
  EXPECT_NE(written.message().find("too_old: sample at timestamp " + std::to_string(cutoff - 3'600'000 - 2) +
                                   " falls between the samples of its 5m rollup window"),
            std::string::npos)
      << written.message();
}

}  // namespace
}  // namespace tsvault
