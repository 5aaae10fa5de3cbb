// GET /api/v1/export/csv against a real VictoriaMetrics 1.79: each metric's
// long-format CSV, with VictoriaMetrics' column convention, is imported by
// VictoriaMetrics' own /api/v1/import/csv with the matching format=, after
// which it holds exactly the samples tsvault holds (NaN apart, which it
// drops).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "tests/support/differential.h"
#include "tests/support/ports.h"
#include "tests/support/promql_query_pack.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_db.h"
#include "tests/support/tsvault_server.h"
#include "tests/support/victoria_metrics.h"

namespace tsvault {
namespace {

TEST(CsvExportTest, VictoriaMetricsImportsTheCsvWithTheSameSamples) {
  testing::TempDir dir;
  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir.path() + "/tsvault";
  options.log_path = dir.path() + "/tsvault.log";
  options.extra_args = {"--storage.wal-sync=none"};
  testing::TsvaultServer tsvault(options);
  ASSERT_TRUE(tsvault.Start().ok()) << tsvault.LogTail();
  // The data ends before the current hour: VictoriaMetrics 1.79 may not
  // find freshly imported samples of the current hour for a while.
  const int64_t end = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count() / 3600 * 3600 - 15;
  nlohmann::json summary;
  ASSERT_TRUE(testing::RunLoadgenBackfill(testing::TsvaultBinaryPath(), tsvault.base_url() + "/api/v1/write",
                                          end - 3600, end, dir.path() + "/loadgen.log", &summary)
                  .ok());
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(tsvault.base_url(), &client).ok());
  ASSERT_TRUE(testing::PostRemoteWrite(client.get(), testing::DifferentialEdgeSeries((end - 3000) * 1000, end * 1000, 15'000))
                  .ok());

  testing::Process vm;
  std::string vm_url;
  ASSERT_TRUE(testing::StartVictoriaMetrics(dir.path(), &vm, &vm_url).ok());
  std::unique_ptr<http::Client> vm_client;
  ASSERT_TRUE(http::Client::Create(vm_url, &vm_client).ok());

  const std::vector<std::string> metrics = {"node_cpu_seconds_total", "http_requests_total", "bullmq_queue_size", "edge_gauge",
                                            "edge_counter"};
  size_t rows = 0;
  for (const std::string& metric : metrics) {
    const std::string selector = "{__name__=\"" + metric + "\"}";
    http::Response labels_response;
    ASSERT_TRUE(client->Get("/api/v1/labels?match[]=" + testing::QueryEscape(selector), &labels_response).ok());
    std::vector<std::string> labels;
    const nlohmann::json names = nlohmann::json::parse(labels_response.body);
    for (const auto& name : names["data"]) {
      if (name != "__name__") labels.push_back(name.get<std::string>());
    }
    ASSERT_FALSE(labels.empty()) << metric << ": " << labels_response.body.substr(0, 300);
    std::string ours, theirs;
    for (size_t i = 0; i < labels.size(); ++i) {
      ours += labels[i] + ",";
      theirs += std::to_string(i + 1) + ":label:" + labels[i] + ",";
    }
    ours += "__value__,__timestamp__:unix_ms";
    theirs += std::to_string(labels.size() + 1) + ":metric:" + metric + "," + std::to_string(labels.size() + 2) +
              ":time:unix_ms";
    http::Response csv;
    ASSERT_TRUE(client->Get("/api/v1/export/csv?match[]=" + testing::QueryEscape(selector) + "&start=" +
                                std::to_string(end - 4 * 3600) + "&format=" + testing::QueryEscape(ours),
                            &csv)
                    .ok());
    ASSERT_EQ(csv.status, 200) << csv.body.substr(0, 300);
    ASSERT_FALSE(csv.body.empty()) << metric;
    rows += static_cast<size_t>(std::count(csv.body.begin(), csv.body.end(), '\n'));
    http::Response imported;
    ASSERT_TRUE(vm_client->Do("POST", "/api/v1/import/csv?format=" + testing::QueryEscape(theirs),
                              {{"Content-Type", "text/csv"}}, csv.body, &imported)
                    .ok());
    ASSERT_EQ(imported.status / 100, 2) << imported.body;
  }

  // Poll for up to 2 minutes while VictoriaMetrics makes the import searchable.
  std::string difference = "not compared";
  for (int attempt = 0; attempt < 60 && !difference.empty(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::seconds(2));
    difference.clear();
    for (const std::string& metric : metrics) {
      const std::string selector = "{__name__=\"" + metric + "\"}";
      testing::SampleMap in_vm;
      ASSERT_TRUE(testing::ReadVictoriaMetrics(vm_url, selector, &in_vm).ok());
      testing::SampleMap held;
      ASSERT_TRUE(testing::ReadQueryApiSamples(tsvault.base_url(), selector, "3h", end, &held).ok());
      ASSERT_FALSE(held.empty()) << metric;
      difference = testing::SampleMapDifference(held, in_vm, /*ignore_nan=*/true, 1e-11);
      if (!difference.empty()) break;
    }
  }
  EXPECT_EQ(difference, "");
  std::cout << "CSV export of " << metrics.size() << " metrics, " << rows
            << " rows, imported by VictoriaMetrics 1.79 with the same samples\n";
  vm.Kill();
}

}  // namespace
}  // namespace tsvault
