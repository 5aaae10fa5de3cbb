// Imports against real peers: VictoriaMetrics 1.79's /api/v1/export/csv
// imported by tsvault's /api/v1/import/csv with the same format= holds the
// same samples (and a second import adds nothing); the same OpenMetrics
// file read by `promtool tsdb create-blocks-from openmetrics` (served by a
// Prometheus 2.42) and by `tsvault import openmetrics` gives the same
// samples; bad input is named by line and column and what came before it
// is kept; `tsvault import csv` into a stopped data directory.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "tests/support/differential.h"
#include "tests/support/ports.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/sample_map.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"
#include "tests/support/victoria_metrics.h"

namespace tsvault {
namespace {

namespace fs = std::filesystem;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class ImportTest : public ::testing::Test {
 protected:
  void StartTsvault(std::vector<std::string> extra_args = {}) {
    testing::TsvaultServerOptions options;
    options.binary = testing::TsvaultBinaryPath();
    options.data_dir = dir_.path() + "/tsvault";
    options.log_path = dir_.path() + "/tsvault.log";
    options.extra_args = {"--storage.wal-sync=none"};
    options.extra_args.insert(options.extra_args.end(), extra_args.begin(), extra_args.end());
    tsvault_ = std::make_unique<testing::TsvaultServer>(options);
    ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
    ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), &client_).ok());
  }

  http::Response Post(const std::string& target, const std::string& body,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Response response;
    EXPECT_TRUE(client_->Do("POST", target, headers, body, &response).ok());
    return response;
  }

  testing::SampleMap Held(const std::string& selector, int64_t at_seconds, const std::string& range = "6h") {
    testing::SampleMap out;
    EXPECT_TRUE(testing::ReadQueryApiSamples(tsvault_->base_url(), selector, range, at_seconds, &out).ok());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TsvaultServer> tsvault_;
  std::unique_ptr<http::Client> client_;
};

TEST_F(ImportTest, VictoriaMetricsCsvExportImportsWithTheSameSamples) {
  // The data ends before the current hour: VictoriaMetrics 1.79 may not
  // find freshly written samples of the current hour for a while.
  const int64_t end = NowSeconds() / 3600 * 3600 - 15;
  testing::Process vm;
  std::string vm_url;
  ASSERT_TRUE(testing::StartVictoriaMetrics(dir_.path(), &vm, &vm_url).ok());
  nlohmann::json summary;
  ASSERT_TRUE(testing::RunLoadgenBackfill(testing::TsvaultBinaryPath(), vm_url + "/api/v1/write", end - 3600, end,
                                          dir_.path() + "/loadgen.log", &summary)
                  .ok());
  StartTsvault();
  std::unique_ptr<http::Client> vm_client;
  ASSERT_TRUE(http::Client::Create(vm_url, &vm_client).ok());

  const std::vector<std::string> metrics = {"node_cpu_seconds_total", "http_requests_total", "bullmq_queue_size",
                                            "reengagement_notifications_sent_total"};
  std::map<std::string, testing::SampleMap> in_vm;
  std::map<std::string, std::pair<std::string, std::string>> csv_by_metric;  // metric -> (format, body)
  for (int attempt = 0; attempt < 60; ++attempt) {  // until VictoriaMetrics shows every metric
    bool all = true;
    for (const std::string& metric : metrics) {
      ASSERT_TRUE(testing::ReadVictoriaMetrics(vm_url, "{__name__=\"" + metric + "\"}", &in_vm[metric]).ok());
      all = all && !in_vm[metric].empty();
    }
    if (all) break;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  size_t rows = 0;
  for (const std::string& metric : metrics) {
    ASSERT_FALSE(in_vm[metric].empty()) << metric << " never showed in VictoriaMetrics";
    const std::string selector = "{__name__=\"" + metric + "\"}";
    // The label names, from the series VictoriaMetrics holds.
    std::set<std::string> names;
    for (const auto& [series, samples] : in_vm[metric]) {
      for (size_t at = series.find(", "); at != std::string::npos; at = series.find(", ", at + 1)) {
        names.insert(series.substr(at + 2, series.find('=', at) - at - 2));
      }
      names.insert(series.substr(1, series.find('=') - 1));
    }
    names.erase("__name__");
    std::string theirs = "__value__,__timestamp__:unix_ms", ours = "1:metric:" + metric + ",2:time:unix_ms";
    int column = 3;
    for (const std::string& name : names) {
      theirs += "," + name;
      ours += "," + std::to_string(column++) + ":label:" + name;
    }
    http::Response csv;
    ASSERT_TRUE(vm_client->Get("/api/v1/export/csv?match[]=" + testing::QueryEscape(selector) + "&format=" +
                                   testing::QueryEscape(theirs),
                               &csv)
                    .ok());
    ASSERT_EQ(csv.status, 200) << csv.body.substr(0, 300);
    rows += static_cast<size_t>(std::count(csv.body.begin(), csv.body.end(), '\n'));
    // As curl -d sends it (a form content type): the body is still the data.
    const http::Response imported = Post("/api/v1/import/csv?format=" + testing::QueryEscape(ours), csv.body,
                                         {{"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(imported.status, 204) << imported.body;
    csv_by_metric[metric] = {ours, csv.body};
  }
  for (const std::string& metric : metrics) {
    const testing::SampleMap held = Held("{__name__=\"" + metric + "\"}", end);
    EXPECT_EQ(testing::SampleMapDifference(in_vm[metric], held, /*ignore_nan=*/true), "") << metric;
  }
  // Importing the same file again stores nothing twice.
  const auto& [format, body] = csv_by_metric["http_requests_total"];
  ASSERT_EQ(Post("/api/v1/import/csv?format=" + testing::QueryEscape(format), body).status, 204);
  EXPECT_EQ(testing::SampleMapDifference(in_vm["http_requests_total"], Held("http_requests_total", end), true), "");
  std::cout << "VictoriaMetrics 1.79 CSV export of " << metrics.size() << " metrics, " << rows
            << " rows, imported by tsvault with the same samples (twice)\n";
}

// Writes an OpenMetrics file with every metric type, escaped label values,
// fractional timestamps and an exemplar, over the last two hours.
std::string OpenMetricsFile(int64_t end_seconds) {
  std::string text =
      "# HELP reengagement_notifications_sent Notifications sent.\n"
      "# TYPE reengagement_notifications_sent counter\n";
  auto at = [&](int i) { return std::to_string(end_seconds - 7200 + i * 60) + (i % 4 == 1 ? ".25" : ""); };
  for (int i = 0; i < 120; ++i) {
    for (const char* level : {"gold", "silver"}) {
      text += "reengagement_notifications_sent_total{level=\"" + std::string(level) + "\",type=\"email\"} " +
              std::to_string(i * (level[0] == 'g' ? 3 : 1)) + " " + at(i) +
              (i == 5 ? " # {trace_id=\"abc\"} 1.0 " + at(i) : "") + "\n";
    }
  }
  text += "# TYPE active_campaigns gauge\n# UNIT active_campaigns campaigns\n";
  for (int i = 0; i < 120; ++i) {
    text += "active_campaigns{campaign=\"spring \\\"sale\\\"\\\\x\"} " + std::to_string(std::sin(i) * 10) + " " + at(i) + "\n";
  }
  text += "# TYPE job_seconds histogram\n";
  for (int i = 0; i < 120; ++i) {
    for (const char* le : {"0.1", "1.0", "+Inf"}) {
      text += "job_seconds_bucket{le=\"" + std::string(le) + "\"} " + std::to_string(i * (le[0] == '0' ? 1 : 2)) + " " +
              at(i) + "\n";
    }
    text += "job_seconds_sum " + std::to_string(i * 0.7) + " " + at(i) + "\njob_seconds_count " + std::to_string(i * 2) +
            " " + at(i) + "\n";
  }
  text += "# TYPE rpc_seconds summary\n";
  for (int i = 0; i < 120; ++i) {
    text += "rpc_seconds{quantile=\"0.5\"} " + std::to_string(0.01 * i) + " " + at(i) + "\nrpc_seconds_sum " +
            std::to_string(i * 1.5) + " " + at(i) + "\nrpc_seconds_count " + std::to_string(i) + " " + at(i) + "\n";
  }
  return text + "# EOF\n";
}

TEST_F(ImportTest, OpenMetricsGivesWhatPromtoolBackfillGives) {
  const int64_t end = NowSeconds() - 60;
  const std::string file = dir_.path() + "/backfill.om.txt";
  std::ofstream(file) << OpenMetricsFile(end);

  testing::PrometheusServerOptions prometheus_options;
  prometheus_options.work_dir = dir_.path() + "/prometheus";
  fs::create_directories(prometheus_options.work_dir + "/data");
  const std::string promtool_log = dir_.path() + "/promtool.log";
  ASSERT_EQ(testing::RunProgram({"/usr/bin/promtool", "tsdb", "create-blocks-from", "openmetrics", file,
                                 prometheus_options.work_dir + "/data"},
                                promtool_log),
            0)
      << testing::ReadLogTail(promtool_log);
  prometheus_options.extra_args = {"--storage.tsdb.retention.time=10y"};
  testing::PrometheusServer prometheus(prometheus_options);
  ASSERT_TRUE(prometheus.Start("global:\n  scrape_interval: 15s\n").ok()) << prometheus.LogTail();

  StartTsvault();
  const std::string import_log = dir_.path() + "/import.log";
  ASSERT_EQ(testing::RunProgram({testing::TsvaultBinaryPath(), "import", "openmetrics", file, "--url",
                                 tsvault_->base_url()},
                                import_log),
            0)
      << testing::ReadLogTail(import_log);

  testing::SampleMap expected;
  ASSERT_TRUE(testing::ReadQueryApiSamples(prometheus.base_url(), "{__name__=~\".+\"}", "3h", end, &expected).ok());
  const testing::SampleMap held = Held("{__name__=~\".+\"}", end, "3h");
  EXPECT_EQ(testing::CountSamples(expected), 120u * (2 + 1 + 5 + 3));
  EXPECT_EQ(testing::SampleMapDifference(expected, held, /*ignore_nan=*/false), "");
  // The metadata came along.
  http::Response metadata;
  ASSERT_TRUE(client_->Get("/api/v1/metadata?metric=active_campaigns", &metadata).ok());
  EXPECT_NE(metadata.body.find("\"unit\":\"campaigns\""), std::string::npos) << metadata.body;
  std::cout << "OpenMetrics backfill: " << testing::CountSamples(held) << " samples in " << held.size()
            << " series, as promtool's blocks hold them\n";
}

std::string Gzip(const std::string& text) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, text.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

TEST_F(ImportTest, BadInputIsNamedAndWhatCameBeforeIsKept) {
  StartTsvault();
  const int64_t t = (NowSeconds() - 600) * 1000;
  const std::string format = "?format=" + testing::QueryEscape("1:label:level,2:metric:sent,3:time:unix_ms");
  const std::string good = "gold,1," + std::to_string(t) + "\nsilver,2," + std::to_string(t) + "\n";
  http::Response response = Post("/api/v1/import/csv" + format, good + "bronze,many," + std::to_string(t) + "\n");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            "line 3, column 2: \"many\" is not a number; before it: 3 lines, 2 samples: 2 accepted, 0 refused\n");
  EXPECT_EQ(Held("sent", t / 1000 + 1, "1m").size(), 2u) << "the two lines before the bad one are stored";

  EXPECT_EQ(Post("/api/v1/import/csv", good).status, 400);
  response = Post("/api/v1/import/csv?format=1:label:level", good);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, "format: format has no metric column (e.g. 2:metric:temperature)\n");
  response = Post("/api/v1/import/csv" + format, good, {{"Content-Encoding", "br"}});
  EXPECT_EQ(response.status, 415);

  // Prometheus text, gzip-compressed, with an extra label.
  response = Post("/api/v1/import/prometheus?extra_label=source=test",
                  Gzip("# TYPE clicks_total counter\nclicks_total{campaign=\"a\"} 5 " + std::to_string(t) + "\n"),
                  {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(response.status, 204) << response.body;
  EXPECT_EQ(Held("clicks_total{source=\"test\"}", t / 1000 + 1, "1m").size(), 1u);
  response = Post("/api/v1/import/prometheus", "clicks_total{campaign=\"a\" 5\n");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body.substr(0, 60), "line 1, column 27: expected ',' or '}' after the label value");

  // A sample with another value at a stored timestamp is refused and said so.
  response = Post("/api/v1/import/csv" + format, "gold,7," + std::to_string(t) + "\n");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("some samples were refused: 1 lines, 1 samples: 0 accepted, 1 refused"),
            std::string::npos)
      << response.body;
}

// An import body is read in pieces as it is stored: far larger than the
// request size bound, plain and gzip, also when the sender gives it in
// chunks.
TEST_F(ImportTest, ALargeBodyStreamsPastTheRequestBound) {
  StartTsvault({"--remote-write.max-request-bytes=65536"});
  const int64_t t = (NowSeconds() - 3000) * 1000;
  std::string body;
  for (int i = 0; i < 100'000; ++i) {
    body += "gold,tier" + std::to_string(i % 50) + "," + std::to_string(i) + "," + std::to_string(t + i * 20) + "\n";
  }
  ASSERT_GT(body.size(), 3'000'000u);
  const std::string format = "?format=" + testing::QueryEscape("1:label:level,2:label:tier,3:metric:big,4:time:unix_ms");
  http::Response response = Post("/api/v1/import/csv" + format, body);
  EXPECT_EQ(response.status, 204) << response.body;
  response = Post("/api/v1/import/csv" + format + "&extra_label=copy=gzip", Gzip(body), {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(response.status, 204) << response.body;
  for (const char* selector : {"big{copy=\"\"}", "big{copy=\"gzip\"}"}) {
    const testing::SampleMap held = Held(selector, t / 1000 + 2100, "1h");
    EXPECT_EQ(held.size(), 50u) << selector;
    EXPECT_EQ(testing::CountSamples(held), 100'000u) << selector;
  }
  // Too large for an ordinary route still.
  EXPECT_EQ(Post("/api/v1/write", std::string(100'000, 'x')).status, 413);
}

TEST_F(ImportTest, CliImportsIntoAStoppedDataDirectory) {
  StartTsvault();
  ASSERT_TRUE(tsvault_->Stop().ok());
  const int64_t t = NowSeconds() - 600;
  const std::string file = dir_.path() + "/rows.csv";
  std::ofstream(file) << "level,day,sent\n"
                      << "gold," << t << ",10\n"
                      << "gold,yesterday,11\n"
                      << "silver," << t << ",3\n";
  const std::string log = dir_.path() + "/import.log";
  const std::vector<std::string> command = {testing::TsvaultBinaryPath(), "import", "csv", file, "--storage.path",
                                            dir_.path() + "/tsvault", "--format", "1:label:level,2:time:unix_s,3:metric:sent",
                                            "--header"};
  // Stops at the bad line (exit 1), having stored the line before it.
  EXPECT_EQ(testing::RunProgram(command, log), 1);
  EXPECT_NE(testing::ReadLogTail(log).find("line 3, column 2: \"yesterday\" is not a timestamp"), std::string::npos)
      << testing::ReadLogTail(log);
  std::vector<std::string> skipping = command;
  skipping.push_back("--on-error=skip");
  EXPECT_EQ(testing::RunProgram(skipping, log), 1) << "a skipped line still makes the exit code 1";
  EXPECT_NE(testing::ReadLogTail(log).find("4 lines, 2 samples: 2 accepted, 0 refused, 1 bad lines skipped"),
            std::string::npos)
      << testing::ReadLogTail(log);
  EXPECT_EQ(testing::RunProgram({testing::TsvaultBinaryPath(), "import", "csv", file, "--format", "1:metric:x"}, log), 2)
      << "neither --url nor --storage.path";

  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  const testing::SampleMap held = Held("sent", t + 1, "1m");
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held.at("{__name__=\"sent\", level=\"gold\"}"), (std::vector<std::pair<int64_t, double>>{{t * 1000, 10}}));
}

}  // namespace
}  // namespace tsvault
