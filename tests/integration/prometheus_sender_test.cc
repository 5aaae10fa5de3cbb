// The real sender: Prometheus 2.42 scrapes node-exporter and itself every
// second and remote-writes everything to tsvault. Checks that Prometheus
// reports successful sends and no failures, that every series Prometheus
// had at a time T0 reached tsvault with the identical label set, that
// tsvault holds no series Prometheus never had, and that tsvault's own
// ingestion counter moved.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <iostream>
#include <set>
#include <thread>

#include "http/client.h"
#include "tests/support/ports.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

using Clock = std::chrono::steady_clock;

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct LabelsLess {
  bool operator()(const Labels& a, const Labels& b) const { return CompareLabels(a, b) < 0; }
};
using LabelSetSet = std::set<Labels, LabelsLess>;

// Sum of an instant query's result; NotFound when the vector is empty (the
// metric does not exist yet, or under another name).
Status QuerySum(http::Client* client, const std::string& promql, double* value) {
  std::vector<testing::VectorElement> result;
  Status s = testing::ApiInstantQuery(client, promql, &result);
  if (!s.ok()) return s;
  if (result.empty()) return Status::NotFound("empty result for " + promql);
  *value = 0;
  for (const auto& element : result) *value += element.value;
  return Status::OK();
}

std::string Describe(const std::vector<Labels>& series, size_t limit = 20) {
  std::string out;
  for (size_t i = 0; i < series.size() && i < limit; ++i) out += "  " + LabelsToString(series[i]) + "\n";
  if (series.size() > limit) out += "  ... and " + std::to_string(series.size() - limit) + " more\n";
  return out;
}

TEST(PrometheusSenderTest, PrometheusRemoteWritesEverySeriesToTsvault) {
  testing::TempDir dir;
  const auto test_started = Clock::now();
  const double run_start_seconds = NowSeconds() - 60;

  // node-exporter: defaults, minus the systemd collector (no D-Bus here).
  int node_port = 0;
  ASSERT_TRUE(testing::PickFreePort(&node_port).ok());
  testing::Process node_exporter;
  const std::string node_log = dir.path() + "/node-exporter.log";
  ASSERT_TRUE(node_exporter
                  .Start({{"/usr/bin/prometheus-node-exporter",
                           "--web.listen-address=127.0.0.1:" + std::to_string(node_port),
                           "--no-collector.systemd"},
                          {},
                          node_log})
                  .ok());
  const std::string node_url = "http://127.0.0.1:" + std::to_string(node_port);
  Status s = testing::WaitForHttpOk(node_url, "/", &node_exporter, std::chrono::seconds(20), node_log);
  ASSERT_TRUE(s.ok()) << s.ToString();

  testing::TsvaultServerOptions tsvault_options;
  tsvault_options.binary = testing::TsvaultBinaryPath();
  tsvault_options.data_dir = dir.path() + "/tsvault-data";
  tsvault_options.log_path = dir.path() + "/tsvault.log";
  testing::TsvaultServer tsvault(tsvault_options);
  s = tsvault.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();

  testing::PrometheusServerOptions prometheus_options;
  prometheus_options.work_dir = dir.path();
  testing::PrometheusServer prometheus(prometheus_options);
  const std::string config =
      "global:\n"
      "  scrape_interval: 1s\n"
      "  scrape_timeout: 1s\n"
      "  evaluation_interval: 1s\n"
      "scrape_configs:\n"
      "  - job_name: prometheus\n"
      "    static_configs: [{targets: ['127.0.0.1:" + std::to_string(prometheus.port()) + "']}]\n"
      "  - job_name: node\n"
      "    static_configs: [{targets: ['127.0.0.1:" + std::to_string(node_port) + "']}]\n"
      "remote_write:\n"
      "  - url: " + tsvault.base_url() + "/api/v1/write\n"
      "    queue_config: {batch_send_deadline: 1s}\n";
  s = prometheus.Start(config);
  ASSERT_TRUE(s.ok()) << s.ToString();

  std::unique_ptr<http::Client> prometheus_client, tsvault_client;
  ASSERT_TRUE(http::Client::Create(prometheus.base_url(), &prometheus_client).ok());
  ASSERT_TRUE(http::Client::Create(tsvault.base_url(), &tsvault_client).ok());

  // 1. Prometheus reports samples sent (2.42 names the counter
  //    prometheus_remote_storage_samples_total; the older
  //    ..._succeeded_samples_total no longer exists).
  double samples_sent = 0;
  std::string last_error;
  const auto sent_deadline = Clock::now() + std::chrono::seconds(30);
  while (true) {
    s = QuerySum(prometheus_client.get(), "sum(prometheus_remote_storage_samples_total)", &samples_sent);
    if (s.ok() && samples_sent > 0) break;
    last_error = s.ok() ? "value " + std::to_string(samples_sent) : s.ToString();
    ASSERT_LT(Clock::now(), sent_deadline) << "Prometheus sent nothing: " << last_error << "\nPrometheus log:\n"
                                           << prometheus.LogTail() << "\ntsvault log:\n" << tsvault.LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  // 2. Let a few more scrapes happen, then pick T0 in the past. (Prometheus
  //    2.42 applies scrape targets only ~5 s after start, so the timeline is
  //    anchored at the first send, not at readiness.)
  const auto first_sent = Clock::now();
  while (Clock::now() < first_sent + std::chrono::seconds(5)) {
    ASSERT_TRUE(prometheus.IsRunning()) << prometheus.LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double t0 = NowSeconds() - 2;
  std::vector<Labels> prometheus_at_t0;
  s = testing::ApiSeries(prometheus_client.get(), "{job=~\".+\"}", t0 - 3, t0, &prometheus_at_t0);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // Both scrape jobs must be in the picture, or the check means little.
  size_t node_series = 0, prometheus_series = 0;
  for (const Labels& labels : prometheus_at_t0) {
    node_series += GetLabelValue(labels, "job") == "node";
    prometheus_series += GetLabelValue(labels, "job") == "prometheus";
  }
  ASSERT_GT(node_series, 50u) << "node-exporter was not scraped; Prometheus log:\n" << prometheus.LogTail();
  ASSERT_GT(prometheus_series, 50u) << "Prometheus did not scrape itself; log:\n" << prometheus.LogTail();

  // 3. Every one of them must reach tsvault with the identical label set
  //    (poll: the remote-write queue sends at most a second or two later).
  std::vector<Labels> missing;
  std::vector<Labels> in_tsvault;
  const auto converge_deadline = Clock::now() + std::chrono::seconds(25);
  while (true) {
    s = testing::ApiSeries(tsvault_client.get(), "{job=~\".+\"}", run_start_seconds, t0 + 1, &in_tsvault);
    ASSERT_TRUE(s.ok()) << s.ToString();
    LabelSetSet have(in_tsvault.begin(), in_tsvault.end());
    missing.clear();
    for (const Labels& labels : prometheus_at_t0) {
      if (!have.count(labels)) missing.push_back(labels);
    }
    if (missing.empty() || Clock::now() >= converge_deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << prometheus_at_t0.size()
                               << " Prometheus series are not in tsvault, e.g.:\n" << Describe(missing)
                               << "tsvault log:\n" << tsvault.LogTail();

  // 4. The other direction: tsvault holds no series Prometheus never had
  //    (a mangled label name or value would show up here).
  std::vector<Labels> tsvault_all, prometheus_all;
  s = testing::ApiSeries(tsvault_client.get(), "{job=~\".+\"}", std::nullopt, std::nullopt, &tsvault_all);
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = testing::ApiSeries(prometheus_client.get(), "{job=~\".+\"}", run_start_seconds, NowSeconds() + 60,
                         &prometheus_all);
  ASSERT_TRUE(s.ok()) << s.ToString();
  LabelSetSet prometheus_set(prometheus_all.begin(), prometheus_all.end());
  std::vector<Labels> unknown;
  for (const Labels& labels : tsvault_all) {
    if (!prometheus_set.count(labels)) unknown.push_back(labels);
  }
  EXPECT_TRUE(unknown.empty()) << unknown.size() << " tsvault series unknown to Prometheus, e.g.:\n"
                               << Describe(unknown);

  // 5. Prometheus saw no failed sends and tsvault counted what it ingested.
  double failed = -1, retried = -1, dropped = -1;
  s = QuerySum(prometheus_client.get(), "sum(prometheus_remote_storage_samples_failed_total)", &failed);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(failed, 0) << "Prometheus log:\n" << prometheus.LogTail();
  s = QuerySum(prometheus_client.get(), "sum(prometheus_remote_storage_samples_retried_total)", &retried);
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = QuerySum(prometheus_client.get(), "sum(prometheus_remote_storage_samples_dropped_total)", &dropped);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(dropped, 0) << "Prometheus dropped samples; its log:\n" << prometheus.LogTail();
  s = QuerySum(prometheus_client.get(), "sum(prometheus_remote_storage_samples_total)", &samples_sent);
  ASSERT_TRUE(s.ok()) << s.ToString();

  // A send counted by Prometheus at its last self-scrape may still have been
  // in flight then; give it time to land before reading tsvault's counter.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  http::Response metrics;
  s = tsvault_client->Get("/metrics", &metrics);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(metrics.status, 200);
  double ingested = 0;
  s = testing::SumExposedMetric(metrics.body, "tsvault_remote_write_samples_ingested_total", &ingested);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GT(ingested, 0);
  // Prometheus' counter (from its last self-scrape, earlier than our read of
  // tsvault) counts send attempts. Every attempt that was not retried was
  // ingested, so tsvault cannot have counted fewer than that; a retried
  // attempt may or may not have reached it.
  EXPECT_GE(ingested, samples_sent - retried) << "retried=" << retried;

  std::cout << "prometheus_sender: series at T0=" << prometheus_at_t0.size() << " (node=" << node_series
            << ", prometheus=" << prometheus_series << ")"
            << " tsvault series=" << tsvault_all.size() << " prometheus series (run)=" << prometheus_all.size()
            << " prometheus samples sent=" << samples_sent << " failed=" << failed << " retried=" << retried
            << " dropped=" << dropped << " tsvault samples ingested=" << ingested << " elapsed="
            << std::chrono::duration<double>(Clock::now() - test_started).count() << "s\n";

  // 6. Shut everything down cleanly (destructors SIGKILL on early failure).
  EXPECT_TRUE(prometheus.Stop().ok());
  EXPECT_TRUE(tsvault.Stop().ok()) << tsvault.LogTail();
  // node-exporter has no SIGTERM handler: it dies of the signal.
  EXPECT_TRUE(node_exporter.Signal(SIGTERM).ok());
  EXPECT_TRUE(node_exporter.WaitForExit(std::chrono::seconds(10)));
}

}  // namespace
}  // namespace tsvault
