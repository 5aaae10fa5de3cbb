// The rest of the API Grafana, promtool and other tooling call (issue 14):
// rules, alerts, targets, alertmanagers, status/config, /flags,
// /runtimeinfo and /walreplay answer in the same JSON shape as a real
// Prometheus 2.42 (same keys, same types), with tsvault's own values.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

nlohmann::json Get(const std::string& base_url, const std::string& target, int* status = nullptr) {
  std::unique_ptr<http::Client> client;
  EXPECT_TRUE(http::Client::Create(base_url, &client).ok());
  http::Response response;
  EXPECT_TRUE(client->Get(target, &response).ok()) << base_url << target;
  if (status != nullptr) *status = response.status;
  return nlohmann::json::parse(response.body, nullptr, false);
}

// Empty when `ours` has the shape of `theirs`: the same keys in every
// object, the same JSON type everywhere (numbers of any kind alike), and
// arrays' elements like theirs' first. Otherwise where they differ.
std::string ShapeDifference(const nlohmann::json& ours, const nlohmann::json& theirs, const std::string& path) {
  if (ours.is_number() && theirs.is_number()) return "";
  if (ours.type() != theirs.type()) {
    return path + ": " + ours.type_name() + " where Prometheus has " + theirs.type_name();
  }
  if (ours.is_object()) {
    for (const auto& [key, value] : theirs.items()) {
      if (!ours.contains(key)) return path + "." + key + ": missing";
      std::string difference = ShapeDifference(ours[key], value, path + "." + key);
      if (!difference.empty()) return difference;
    }
    for (const auto& [key, value] : ours.items()) {
      if (!theirs.contains(key)) return path + "." + key + ": Prometheus has no such key";
    }
  }
  if (ours.is_array() && !ours.empty() && !theirs.empty()) return ShapeDifference(ours[0], theirs[0], path + "[0]");
  return "";
}

class ToolingApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::PrometheusServerOptions prometheus_options;
    prometheus_options.work_dir = dir_.path() + "/prometheus";
    std::filesystem::create_directories(prometheus_options.work_dir);
    prometheus_ = std::make_unique<testing::PrometheusServer>(prometheus_options);
    ASSERT_TRUE(prometheus_->Start("global:\n  scrape_interval: 15s\n").ok()) << prometheus_->LogTail();
    testing::TsvaultServerOptions options;
    options.binary = testing::TsvaultBinaryPath();
    options.data_dir = dir_.path() + "/tsvault";
    options.log_path = dir_.path() + "/tsvault.log";
    const std::string forward_config = dir_.path() + "/forward.yml";
    std::ofstream(forward_config) << "remote_write:\n"
                                  << "  - url: http://127.0.0.1:1/api/v1/write\n"
                                  << "    name: thanos\n"
                                  << "    headers: {THANOS-TENANT: seed}\n"
                                  << "    basic_auth: {username: seed, password: hunter2}\n"
                                  << "    write_relabel_configs:\n"
                                  << "      - {source_labels: [__name__], regex: 'go_.*', action: drop}\n";
    options.extra_args = {"--query.timeout=17s", "--forward.config-file=" + forward_config};
    tsvault_ = std::make_unique<testing::TsvaultServer>(options);
    ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  }
  void TearDown() override {
    if (tsvault_) tsvault_->Kill();
    if (prometheus_) prometheus_->Stop();
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::PrometheusServer> prometheus_;
  std::unique_ptr<testing::TsvaultServer> tsvault_;
};

TEST_F(ToolingApiTest, AnswersInPrometheusShapes) {
  for (const char* endpoint : {"/api/v1/rules", "/api/v1/rules?type=alert", "/api/v1/rules?type=record",
                               "/api/v1/alerts", "/api/v1/targets", "/api/v1/targets/metadata",
                               "/api/v1/alertmanagers", "/api/v1/status/config", "/api/v1/status/runtimeinfo",
                               "/api/v1/status/walreplay", "/api/v1/status/buildinfo"}) {
    SCOPED_TRACE(endpoint);
    int ours_status = 0, theirs_status = 0;
    const nlohmann::json ours = Get(tsvault_->base_url(), endpoint, &ours_status);
    const nlohmann::json theirs = Get(prometheus_->base_url(), endpoint, &theirs_status);
    EXPECT_EQ(ours_status, theirs_status);
    ASSERT_TRUE(theirs.is_object());
    EXPECT_EQ(ShapeDifference(ours, theirs, "$"), "") << ours.dump() << "\nPrometheus: " << theirs.dump();
  }
  // A rule type Prometheus does not know is refused the same way.
  int ours_status = 0, theirs_status = 0;
  const nlohmann::json ours = Get(tsvault_->base_url(), "/api/v1/rules?type=bogus", &ours_status);
  const nlohmann::json theirs = Get(prometheus_->base_url(), "/api/v1/rules?type=bogus", &theirs_status);
  EXPECT_EQ(ours_status, theirs_status);
  EXPECT_EQ(ours, theirs);
}

TEST_F(ToolingApiTest, StatusShowsTheRunningServer) {
  // Flags: a map of strings, as Prometheus', with what was given and the defaults.
  const nlohmann::json flags = Get(tsvault_->base_url(), "/api/v1/status/flags");
  const nlohmann::json prometheus_flags = Get(prometheus_->base_url(), "/api/v1/status/flags");
  ASSERT_TRUE(flags["data"].is_object()) << flags.dump();
  for (const auto& [name, value] : flags["data"].items()) EXPECT_TRUE(value.is_string()) << name;
  EXPECT_TRUE(prometheus_flags["data"]["query.timeout"].is_string());
  EXPECT_EQ(flags["data"]["query.timeout"], "17s");
  EXPECT_EQ(flags["data"]["query.lookback-delta"], "5m");
  EXPECT_EQ(flags["data"]["web.enable-admin-api"], "false");
  EXPECT_EQ(flags["data"]["storage.path"], dir_.path() + "/tsvault");
  EXPECT_FALSE(flags["data"].contains("help"));

  // Config: the forwarding targets in effect, defaults filled in, the
  // password hidden as Prometheus hides secrets.
  const std::string yaml = Get(tsvault_->base_url(), "/api/v1/status/config")["data"]["yaml"].get<std::string>();
  EXPECT_NE(yaml.find("url: http://127.0.0.1:1/api/v1/write"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("THANOS-TENANT: seed"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("password: <secret>"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("hunter2"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("max_samples_per_send: 500"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("action: drop"), std::string::npos) << yaml;

  const nlohmann::json runtime = Get(tsvault_->base_url(), "/api/v1/status/runtimeinfo")["data"];
  EXPECT_EQ(runtime["storageRetention"], "raw 30d, 5m 180d, 1h 730d, 1d forever, no size bound") << runtime.dump();
  EXPECT_EQ(runtime["reloadConfigSuccess"], true);
  EXPECT_GT(runtime["goroutineCount"].get<int>(), 1);
  const std::string start = runtime["startTime"].get<std::string>();
  EXPECT_EQ(start.size() >= 20 ? start.substr(0, 2) : "", "20") << start;
  EXPECT_EQ(start.back(), 'Z') << start;
}

// /metrics carries the process figures every exporter has (the Grafana
// kit's tsvault dashboard charts them) and tsvault_build_info, and passes
// promtool's lint.
TEST_F(ToolingApiTest, MetricsHaveProcessFiguresAndPassPromtoolsLint) {
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), &client).ok());
  http::Response metrics;
  ASSERT_TRUE(client->Get("/metrics", &metrics).ok());
  ASSERT_EQ(metrics.status, 200);
  double resident = 0, fds = 0, max_fds = 0, start = 0, cpu = -1;
  ASSERT_TRUE(testing::SumExposedMetric(metrics.body, "process_resident_memory_bytes", &resident).ok());
  ASSERT_TRUE(testing::SumExposedMetric(metrics.body, "process_open_fds", &fds).ok());
  ASSERT_TRUE(testing::SumExposedMetric(metrics.body, "process_max_fds", &max_fds).ok());
  ASSERT_TRUE(testing::SumExposedMetric(metrics.body, "process_start_time_seconds", &start).ok());
  ASSERT_TRUE(testing::SumExposedMetric(metrics.body, "process_cpu_seconds_total", &cpu).ok());
  EXPECT_GT(resident, 1 << 20);
  EXPECT_LT(resident, 4.0 * (1 << 30));
  EXPECT_GT(fds, 3);
  EXPECT_GE(max_fds, fds);
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(start, now, 120);
  EXPECT_GE(cpu, 0);
  const std::string revision = Get(tsvault_->base_url(), "/api/v1/status/buildinfo")["data"]["revision"];
  EXPECT_NE(metrics.body.find("tsvault_build_info{revision=\"" + revision + "\""), std::string::npos);

  const std::string exposition = dir_.path() + "/metrics.txt";
  std::ofstream(exposition) << metrics.body;
  const std::string lint_path = dir_.path() + "/lint.txt";
  const int status = std::system(("/usr/bin/promtool check metrics < " + exposition + " > " + lint_path + " 2>&1").c_str());
  std::ifstream lint_file(lint_path);
  const std::string lint((std::istreambuf_iterator<char>(lint_file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(status, 0) << lint;
}

}  // namespace
}  // namespace tsvault
