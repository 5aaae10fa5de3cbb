// Forwarding (issue 11) against a real Prometheus 2.42 receiver: everything
// tsvault acknowledged arrives, also across a receiver outage and a
// `kill -9` of tsvault in the middle of it; write_relabel_configs apply;
// a refused batch is dropped and counted, not retried forever.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <snappy.h>

#include "http/client.h"
#include "http/server.h"
#include "proto/remote_write_v1.pb.h"
#include "tests/support/histogram_series.h"
#include "tests/support/ports.h"
#include "tests/support/process.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_db.h"
#include "tests/support/tsvault_server.h"
#include "tests/support/victoria_metrics.h"

namespace tsvault {
namespace {

constexpr int kSeries = 40;
constexpr int64_t kStep = 15'000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `count` samples per float series (fwd_requests_total{instance="i<n>"}) and
// as many native histograms of fwd_latency_seconds, from `first` on.
storage::WriteInput Data(int64_t start_ms, int first, int count) {
  storage::WriteInput input;
  for (int s = 0; s < kSeries; ++s) {
    storage::SeriesWrite write;
    std::string instance = "i";  // (not "i" + ...: GCC 12 warns falsely of -Wrestrict once inlined)
    instance += std::to_string(s);
    write.labels = {{"__name__", "fwd_requests_total"}, {"instance", instance}, {"job", "app"}};
    for (int i = first; i < first + count; ++i) {
      write.samples.push_back({start_ms + i * kStep, static_cast<double>(i * (s + 1))});
    }
    input.series.push_back(write);
  }
  storage::SeriesWrite histograms;
  histograms.labels = {{"__name__", "fwd_latency_seconds"}, {"job", "app"}};
  testing::HistogramSeriesOptions options;
  options.stale_marker = false;
  options.reset_probability = 0;
  options.schema_changes = false;
  options.hints = false;
  std::vector<storage::Histogram> all =
      testing::RandomHistogramSeries(3, start_ms, start_ms + 1000 * kStep, kStep, options);
  for (const storage::Histogram& h : all) {
    if (h.timestamp_ms >= start_ms + first * kStep && h.timestamp_ms < start_ms + (first + count) * kStep) {
      histograms.histograms.push_back(h);
    }
  }
  input.series.push_back(histograms);
  // Dropped by write_relabel_configs: never reaches the receiver.
  storage::SeriesWrite internal;
  internal.labels = {{"__name__", "fwd_internal_total"}, {"job", "app"}};
  internal.samples.push_back({start_ms + first * kStep, 1});
  input.series.push_back(internal);
  return input;
}

class ForwardTest : public ::testing::Test {
 protected:
  // tsvault in dir_/tsvault, logging to dir_/tsvault.log.
  testing::TsvaultServerOptions TsvaultOptions() {
    testing::TsvaultServerOptions options;
    options.binary = testing::TsvaultBinaryPath();
    options.data_dir = dir_.path() + "/tsvault";
    options.log_path = dir_.path() + "/tsvault.log";
    return options;
  }
  nlohmann::json ForwardStatus() {
    std::unique_ptr<http::Client> client;
    EXPECT_TRUE(http::Client::Create(tsvault_->base_url(), &client).ok());
    http::Response response;
    EXPECT_TRUE(client->Get("/api/v1/status/forward", &response).ok());
    return nlohmann::json::parse(response.body, nullptr, false);
  }
  // Waits until the target has nothing pending and has sent at least
  // `samples` samples and `histograms` histograms since tsvault started.
  void WaitDelivered(uint64_t samples, uint64_t histograms) {
    nlohmann::json target;
    for (int i = 0; i < 600; ++i) {
      const nlohmann::json status = ForwardStatus();
      if (status.is_object()) {
        target = status["data"]["targets"][0];
        if (target["pendingRecords"] == 0 && target["samplesSent"].get<uint64_t>() >= samples &&
            target["histogramsSent"].get<uint64_t>() >= histograms) {
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "not delivered: " << target.dump() << "\n" << tsvault_->LogTail()
           << (prometheus_ ? "\nreceiving Prometheus:\n" + prometheus_->LogTail() : std::string());
  }
  // count_over_time per series on both servers.
  std::map<std::string, double> Counts(const std::string& base_url, const std::string& metric,
                                       const http::TlsOptions& tls = {}) {
    std::unique_ptr<http::Client> client;
    EXPECT_TRUE(http::Client::Create(base_url, tls, &client).ok());
    std::vector<testing::VectorElement> result;
    Status s = testing::ApiInstantQuery(client.get(), "count_over_time(" + metric + "[6h])", &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::map<std::string, double> out;
    for (const auto& element : result) out[LabelsToString(element.labels)] = element.value;
    return out;
  }

  // A Prometheus that receives Remote Write, in <dir>/prometheus.
  testing::PrometheusServerOptions ReceiverOptions() {
    testing::PrometheusServerOptions options;
    options.work_dir = dir_.path() + "/prometheus";
    std::filesystem::create_directories(options.work_dir);
    options.enable_remote_write_receiver = true;
    return options;
  }
  // Starts prometheus_ with `options` and kReceiverConfig.
  void StartReceiver(const testing::PrometheusServerOptions& options) {
    prometheus_ = std::make_unique<testing::PrometheusServer>(options);
    ASSERT_TRUE(prometheus_->Start(kReceiverConfig).ok()) << prometheus_->LogTail();
  }
  static constexpr const char* kReceiverConfig = "global:\n  scrape_interval: 1h\n";

  // Starts tsvault_ forwarding to http://127.0.0.1:<port>/receive (a fake
  // receiver of the test) with `fields` (YAML lines of the remote_write
  // entry, indented four spaces), and connects *client to it.
  void StartForwardingTo(int port, const std::string& fields, std::unique_ptr<http::Client>* client) {
    testing::TsvaultServerOptions options = TsvaultOptions();
    const std::string forward_config = dir_.path() + "/forward.yml";
    std::ofstream(forward_config) << "remote_write:\n"
                                  << "  - url: http://127.0.0.1:" << port << "/receive\n"
                                  << fields;
    options.extra_args = {"--forward.config-file=" + forward_config};
    tsvault_ = std::make_unique<testing::TsvaultServer>(options);
    ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
    ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), client).ok());
  }

  testing::TempDir dir_;
  int64_t start_ = 0;
  std::unique_ptr<testing::PrometheusServer> prometheus_;
  std::unique_ptr<testing::TsvaultServer> tsvault_;
};

TEST_F(ForwardTest, EverythingAcknowledgedReachesARealPrometheusAcrossAnOutageAndAKill) {
  testing::PrometheusServerOptions prometheus_options = ReceiverOptions();
  prometheus_options.extra_args = {"--enable-feature=native-histograms"};
  ASSERT_NO_FATAL_FAILURE(StartReceiver(prometheus_options));
  const int prometheus_port = prometheus_->port();

  const std::string forward_config = dir_.path() + "/forward.yml";
  std::ofstream(forward_config) << "remote_write:\n"
                                << "  - url: " << prometheus_->base_url() << "/api/v1/write\n"
                                << "    name: prometheus\n"
                                << "    remote_timeout: 5s\n"
                                << "    write_relabel_configs:\n"
                                << "      - source_labels: [__name__]\n"
                                << "        regex: fwd_internal_.*\n"
                                << "        action: drop\n"
                                << "    queue_config:\n"
                                << "      max_samples_per_send: 700\n"
                                << "      batch_send_deadline: 100ms\n"
                                << "      min_backoff: 50ms\n"
                                << "      max_backoff: 400ms\n";
  testing::TsvaultServerOptions options = TsvaultOptions();
  options.extra_args = {"--forward.config-file=" + forward_config, "--storage.checkpoint-interval=2s"};
  tsvault_ = std::make_unique<testing::TsvaultServer>(options);
  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), &client).ok());

  // Two hours of data ending now, in requests of 20 scrapes.
  const int64_t start = NowMs() / 1000 * 1000 - 480 * kStep;
  int written = 0;
  for (; written < 200; written += 20) ASSERT_TRUE(testing::PostRemoteWrite(client.get(), Data(start, written, 20)).ok());
  WaitDelivered(kSeries * 200, 0);
  std::map<std::string, double> on_prometheus = Counts(prometheus_->base_url(), "{job=\"app\"}");
  EXPECT_EQ(on_prometheus, Counts(tsvault_->base_url(), "{job=\"app\",__name__!=\"fwd_internal_total\"}"));
  ASSERT_EQ(on_prometheus.size(), static_cast<size_t>(kSeries + 1));
  for (const auto& [series, count] : on_prometheus) {
    if (series.find("fwd_requests_total") != std::string::npos) {
      EXPECT_EQ(count, 200) << series;
    }
  }

  // The receiver goes away; tsvault keeps accepting, is killed with
  // everything still queued, and comes back.
  ASSERT_TRUE(prometheus_->Stop().ok());
  for (; written < 400; written += 20) ASSERT_TRUE(testing::PostRemoteWrite(client.get(), Data(start, written, 20)).ok());
  std::this_thread::sleep_for(std::chrono::seconds(3));  // retries against the dead receiver; a checkpoint
  nlohmann::json status = ForwardStatus();
  EXPECT_GT(status["data"]["targets"][0]["pendingRecords"].get<uint64_t>(), 0u) << status.dump();
  EXPECT_GT(status["data"]["queueBytes"].get<uint64_t>(), 0u) << status.dump();
  tsvault_->Kill();
  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  // The backlog shows from the first status on (a waiter polling for
  // "nothing pending" must not stop before the target read anything).
  status = ForwardStatus();
  EXPECT_GT(status["data"]["targets"][0]["pendingRecords"].get<uint64_t>(), 0u) << status.dump();
  ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), &client).ok());
  for (; written < 480; written += 20) ASSERT_TRUE(testing::PostRemoteWrite(client.get(), Data(start, written, 20)).ok());
  // The receiver comes back on the same port with its data.
  prometheus_options.port = prometheus_port;
  ASSERT_NO_FATAL_FAILURE(StartReceiver(prometheus_options));
  WaitDelivered(kSeries * 280, 0);
  on_prometheus = Counts(prometheus_->base_url(), "{job=\"app\"}");
  EXPECT_EQ(on_prometheus, Counts(tsvault_->base_url(), "{job=\"app\",__name__!=\"fwd_internal_total\"}"));
  for (const auto& [series, count] : on_prometheus) {
    if (series.find("fwd_requests_total") != std::string::npos) {
      EXPECT_EQ(count, 480) << series;
    }
  }
  status = ForwardStatus();
  const nlohmann::json& target = status["data"]["targets"][0];
  std::cout << "Forwarded to Prometheus: " << on_prometheus.size() << " series, "
            << on_prometheus.begin()->second << " samples in the first; after the restart: "
            << target.dump() << "\n";
  EXPECT_TRUE(target["dropped"].empty()) << status.dump();
  EXPECT_GT(target["relabelDropped"].get<uint64_t>(), 0u) << status.dump();
  EXPECT_GT(target["retriedRequests"].get<uint64_t>(), 0u) << status.dump();  // while the receiver was down
}

// After a crash tsvault resends the segment it was sending, alone and as
// the same batches, so a batch the receiver already has is refused as a
// whole (400 out of order, counted as resent_http_400, not as a loss) and
// is never mixed with newer samples, which Prometheus would refuse with it.
// The crash is made by restoring a copy of tsvault's data directory taken
// while that segment was pending; the samples written after the restore
// must all arrive.
TEST_F(ForwardTest, AResentSegmentNeverCostsNewSamples) {
  testing::PrometheusServerOptions prometheus_options = ReceiverOptions();
  ASSERT_NO_FATAL_FAILURE(StartReceiver(prometheus_options));
  prometheus_options.port = prometheus_->port();
  const std::string forward_config = dir_.path() + "/forward.yml";
  std::ofstream(forward_config) << "remote_write:\n"
                                << "  - url: " << prometheus_->base_url() << "/api/v1/write\n"
                                << "    name: prometheus\n"
                                << "    queue_config: {max_samples_per_send: 300, batch_send_deadline: 50ms,\n"
                                << "                   min_backoff: 20ms, max_backoff: 100ms}\n";
  testing::TsvaultServerOptions options = TsvaultOptions();
  options.extra_args = {"--forward.config-file=" + forward_config};
  tsvault_ = std::make_unique<testing::TsvaultServer>(options);
  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  std::unique_ptr<http::Client> client;
  auto write = [&](int first) {
    ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), &client).ok());
    storage::WriteInput input = Data(start_, first, 100);
    input.series.resize(kSeries);  // floats only
    ASSERT_TRUE(testing::PostRemoteWrite(client.get(), input).ok());
  };
  start_ = NowMs() / 1000 * 1000 - 400 * kStep;
  write(0);  // A
  WaitDelivered(kSeries * 100, 0);
  ASSERT_TRUE(prometheus_->Stop().ok());
  write(100);  // B: pending, its segment marked while the receiver is down
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(tsvault_->Stop().ok());
  const std::string backup = dir_.path() + "/backup";
  std::filesystem::copy(options.data_dir, backup, std::filesystem::copy_options::recursive);
  ASSERT_NO_FATAL_FAILURE(StartReceiver(prometheus_options));
  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  WaitDelivered(kSeries * 100, 0);  // B
  write(200);  // C
  WaitDelivered(kSeries * 200, 0);
  ASSERT_TRUE(tsvault_->Stop().ok());

  // Back to the copy: B is pending again; D arrives before the receiver is
  // reachable, so without the marked segment B and D would share batches.
  ASSERT_TRUE(prometheus_->Stop().ok());
  std::filesystem::remove_all(options.data_dir);
  std::filesystem::rename(backup, options.data_dir);
  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  write(300);  // D
  ASSERT_NO_FATAL_FAILURE(StartReceiver(prometheus_options));
  WaitDelivered(kSeries * 100, 0);  // D (B is refused)
  std::map<std::string, double> on_prometheus = Counts(prometheus_->base_url(), "fwd_requests_total");
  ASSERT_EQ(on_prometheus.size(), static_cast<size_t>(kSeries));
  for (const auto& [series, count] : on_prometheus) EXPECT_EQ(count, 400) << series;
  const nlohmann::json target = ForwardStatus()["data"]["targets"][0];
  std::cout << "After restoring the copy: " << target.dump() << "\n";
  EXPECT_EQ(target["dropped"].value("resent_http_400", 0u), kSeries * 100u) << target.dump();
  EXPECT_FALSE(target["dropped"].contains("http_400")) << target.dump();
}

// kill -9 at arbitrary moments while forwarding, again and again: the
// receiver ends up with every acknowledged sample.
TEST_F(ForwardTest, RepeatedKillsLoseNothing) {
  testing::PrometheusServerOptions prometheus_options = ReceiverOptions();
  ASSERT_NO_FATAL_FAILURE(StartReceiver(prometheus_options));
  const std::string forward_config = dir_.path() + "/forward.yml";
  std::ofstream(forward_config) << "remote_write:\n"
                                << "  - url: " << prometheus_->base_url() << "/api/v1/write\n"
                                << "    name: prometheus\n"
                                << "    queue_config: {max_samples_per_send: 150, batch_send_deadline: 20ms}\n";
  testing::TsvaultServerOptions options = TsvaultOptions();
  options.extra_args = {"--forward.config-file=" + forward_config, "--storage.checkpoint-interval=1s"};
  tsvault_ = std::make_unique<testing::TsvaultServer>(options);
  const int kRounds = 6, kPerRound = 60;
  const int64_t start = NowMs() / 1000 * 1000 - kRounds * kPerRound * kStep;
  std::mt19937 rng(7);
  uint64_t resent = 0;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
    std::unique_ptr<http::Client> client;
    ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), &client).ok());
    for (int part = 0; part < kPerRound; part += 20) {
      storage::WriteInput input = Data(start, round * kPerRound + part, 20);
      input.series.resize(kSeries);
      ASSERT_TRUE(testing::PostRemoteWrite(client.get(), input).ok());  // acknowledged
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 30));
    const nlohmann::json status = ForwardStatus();
    resent += status["data"]["targets"][0]["dropped"].value("resent_http_400", 0u);
    tsvault_->Kill();
  }
  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  WaitDelivered(0, 0);
  const std::map<std::string, double> on_prometheus = Counts(prometheus_->base_url(), "fwd_requests_total");
  ASSERT_EQ(on_prometheus.size(), static_cast<size_t>(kSeries));
  for (const auto& [series, count] : on_prometheus) EXPECT_EQ(count, kRounds * kPerRound) << series;
  std::cout << "Killed " << kRounds << " times while forwarding: every one of " << kSeries * kRounds * kPerRound
            << " samples arrived; batches refused as sent before a kill: at least " << resent << " samples\n";
}

// A receiver that refuses some batches for good (409, as Thanos Receive
// answers conflicts) and fails others twice with 503 before taking them:
// the first are dropped and counted, the second delivered, and each batch
// costs exactly the requests that implies (no retry storm).
TEST_F(ForwardTest, RefusedBatchesAreDroppedAndFailedOnesRetriedWithoutAStorm) {
  std::mutex mutex;
  std::map<size_t, int> attempts;  // by body hash
  int requests = 0;
  http::ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  http::Server receiver(server_options);
  receiver.Route("POST", "/receive", [&](const http::Request& request, http::Response* response) {
    const size_t hash = std::hash<std::string>()(request.body);
    std::lock_guard<std::mutex> lock(mutex);
    ++requests;
    const int attempt = ++attempts[hash];
    if (hash % 4 == 0) {
      response->status = 409;
      response->body = "conflict";
    } else if (hash % 4 == 1 && attempt <= 2) {
      response->status = 503;
    } else {
      response->status = 204;
    }
  });
  ASSERT_TRUE(receiver.Start().ok());

  std::unique_ptr<http::Client> client;
  ASSERT_NO_FATAL_FAILURE(StartForwardingTo(receiver.port(),
                                            "    headers: {THANOS-TENANT: seed}\n"
                                            "    queue_config: {max_samples_per_send: 100, batch_send_deadline: 50ms,\n"
                                            "                   min_backoff: 20ms, max_backoff: 100ms}\n",
                                            &client));
  const int64_t start = NowMs() - 100 * kStep;
  for (int written = 0; written < 100; written += 10) {
    ASSERT_TRUE(testing::PostRemoteWrite(client.get(), Data(start, written, 10)).ok());
  }
  // Every sample and histogram is either delivered or dropped as refused:
  // 100 per float series, 100 histograms, 10 of fwd_internal_total.
  const uint64_t total = kSeries * 100 + 100 + 10;
  nlohmann::json target;
  for (int i = 0; i < 300; ++i) {
    target = ForwardStatus()["data"]["targets"][0];
    const uint64_t refused = target["dropped"].contains("http_409") ? target["dropped"]["http_409"].get<uint64_t>() : 0;
    if (target["pendingRecords"] == 0 && target["samplesSent"].get<uint64_t>() + target["histogramsSent"].get<uint64_t>() +
                                                 refused >= total) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::lock_guard<std::mutex> lock(mutex);
  size_t refused_batches = 0, failing_batches = 0;
  for (const auto& [hash, count] : attempts) {
    if (hash % 4 == 0) {
      ++refused_batches;
      EXPECT_EQ(count, 1) << "a refused batch was retried";
    } else if (hash % 4 == 1) {
      ++failing_batches;
      EXPECT_EQ(count, 3) << "a batch failing twice took other than three requests";
    } else {
      EXPECT_EQ(count, 1);
    }
  }
  std::cout << "Fault receiver: " << attempts.size() << " batches, " << refused_batches << " refused (409), "
            << failing_batches << " failed twice (503), " << requests << " requests; status " << target.dump() << "\n";
  EXPECT_EQ(static_cast<size_t>(requests), attempts.size() + 2 * failing_batches);
  ASSERT_GT(refused_batches, 0u);
  ASSERT_GT(failing_batches, 0u);
  EXPECT_GT(target["dropped"]["http_409"].get<uint64_t>(), 0u);
  EXPECT_EQ(target["samplesSent"].get<uint64_t>() + target["histogramsSent"].get<uint64_t>() +
                target["dropped"]["http_409"].get<uint64_t>(),
            total)
      << target.dump();
  EXPECT_EQ(target["retriedRequests"].get<uint64_t>(), 2 * failing_batches);
  tsvault_->Kill();
  receiver.Stop();
}

// A backlog longer than an hour goes out oldest first, in rounds a TSDB
// receiver accepts. The receiver here applies Prometheus' rule to every
// request, one at a time: a sample more than an hour older than the newest
// it holds is "out of bounds" and the request is refused with 400. With
// shards sending a whole two-hour backlog at once, the first batch in
// would move the newest time two hours on and every other batch would be
// refused.
TEST_F(ForwardTest, ABacklogGoesOutWithinAReceiversOutOfBoundsWindow) {
  constexpr int64_t kWindowMs = 3600 * 1000;  // Prometheus: half its 2h block range
  std::mutex mutex;
  bool down = true;  // answers 503 until the backlog is written
  int64_t newest_ms = INT64_MIN;
  uint64_t samples_received = 0;
  std::string first_refusal;
  int refused = 0;
  http::ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  http::Server receiver(server_options);
  receiver.Route("POST", "/receive", [&](const http::Request& request, http::Response* response) {
    std::lock_guard<std::mutex> lock(mutex);
    response->status = 503;
    if (down) return;
    std::string protobuf;
    prometheus::WriteRequest write_request;
    if (!snappy::Uncompress(request.body.data(), request.body.size(), &protobuf) ||
        !write_request.ParseFromString(protobuf)) {
      response->status = 400;
      return;
    }
    int64_t oldest = INT64_MAX, newest = INT64_MIN;
    uint64_t samples = 0;
    for (const prometheus::TimeSeries& series : write_request.timeseries()) {
      for (const prometheus::Sample& sample : series.samples()) {
        oldest = std::min(oldest, sample.timestamp());
        newest = std::max(newest, sample.timestamp());
        ++samples;
      }
      for (const prometheus::Histogram& histogram : series.histograms()) {
        oldest = std::min(oldest, histogram.timestamp());
        newest = std::max(newest, histogram.timestamp());
        ++samples;
      }
    }
    if (newest_ms != INT64_MIN && oldest < newest_ms - kWindowMs) {
      if (refused++ == 0) {
        std::ostringstream refusal;
        refusal << "sample at " << oldest << " more than an hour before " << newest_ms;
        first_refusal = refusal.str();
      }
      response->status = 400;
      response->body = "out of bounds";
      return;
    }
    newest_ms = std::max(newest_ms, newest);
    samples_received += samples;
    response->status = 204;
  });
  ASSERT_TRUE(receiver.Start().ok());

  std::unique_ptr<http::Client> client;
  ASSERT_NO_FATAL_FAILURE(StartForwardingTo(receiver.port(),
                                            "    queue_config: {max_samples_per_send: 500, batch_send_deadline: 50ms,\n"
                                            "                   min_backoff: 20ms, max_backoff: 100ms}\n",
                                            &client));
  // Two hours of data for 40 float series and a histogram series, written
  // while the receiver is down: 480 scrapes, in requests of 20.
  const int64_t start = NowMs() / 1000 * 1000 - 480 * kStep;
  uint64_t total = 0;  // samples and histograms written
  for (int written = 0; written < 480; written += 20) {
    const storage::WriteInput input = Data(start, written, 20);
    for (const storage::SeriesWrite& write : input.series) total += write.samples.size() + write.histograms.size();
    ASSERT_TRUE(testing::PostRemoteWrite(client.get(), input).ok());
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    down = false;
  }
  nlohmann::json target;
  for (int i = 0; i < 600; ++i) {
    target = ForwardStatus()["data"]["targets"][0];
    if (target["pendingRecords"] == 0 &&
        (!target["dropped"].empty() ||
         target["samplesSent"].get<uint64_t>() + target["histogramsSent"].get<uint64_t>() >= total)) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(refused, 0) << first_refusal << "; status " << target.dump();
  EXPECT_TRUE(target["dropped"].empty()) << target.dump();
  EXPECT_EQ(samples_received, total) << target.dump();
  tsvault_->Kill();
  receiver.Stop();
}

// HTTPS: a real Prometheus serving TLS with a self-signed certificate. The
// target that trusts it (tls_config.ca_file) gets everything; one that does
// not verify it never sends a byte of data (the handshake fails, retried).
TEST_F(ForwardTest, HttpsTargetsAreVerified) {
  const std::string cert = dir_.path() + "/cert.pem", key = dir_.path() + "/key.pem";
  const std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                              " -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost" +
                              " > " + dir_.path() + "/openssl.log 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << testing::ReadLogTail(dir_.path() + "/openssl.log");
  testing::PrometheusServerOptions prometheus_options = ReceiverOptions();
  prometheus_options.web_config_yaml = "tls_server_config:\n  cert_file: " + cert + "\n  key_file: " + key + "\n";
  ASSERT_NO_FATAL_FAILURE(StartReceiver(prometheus_options));
  ASSERT_EQ(prometheus_->base_url().rfind("https://", 0), 0u);

  const std::string forward_config = dir_.path() + "/forward.yml";
  std::ofstream(forward_config) << "remote_write:\n"
                                << "  - url: " << prometheus_->base_url() << "/api/v1/write\n"
                                << "    name: trusted\n"
                                << "    tls_config: {ca_file: " << cert << "}\n"
                                << "    queue_config: {batch_send_deadline: 50ms}\n"
                                << "  - url: " << prometheus_->base_url() << "/api/v1/write\n"
                                << "    name: untrusted\n"
                                << "    queue_config: {batch_send_deadline: 50ms, min_backoff: 50ms, max_backoff: 200ms}\n";
  testing::TsvaultServerOptions options = TsvaultOptions();
  options.extra_args = {"--forward.config-file=" + forward_config};
  tsvault_ = std::make_unique<testing::TsvaultServer>(options);
  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), &client).ok());
  const int64_t start = NowMs() / 1000 * 1000 - 100 * kStep;
  storage::WriteInput input = Data(start, 0, 100);
  input.series.resize(kSeries);
  ASSERT_TRUE(testing::PostRemoteWrite(client.get(), input).ok());
  WaitDelivered(kSeries * 100, 0);
  http::TlsOptions trust;
  trust.ca_file = cert;
  const std::map<std::string, double> on_prometheus = Counts(prometheus_->base_url(), "fwd_requests_total", trust);
  ASSERT_EQ(on_prometheus.size(), static_cast<size_t>(kSeries));
  for (const auto& [series, count] : on_prometheus) EXPECT_EQ(count, 100) << series;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const nlohmann::json untrusted = ForwardStatus()["data"]["targets"][1];
  EXPECT_EQ(untrusted["name"], "untrusted");
  EXPECT_EQ(untrusted["samplesSent"], 0) << untrusted.dump();
  EXPECT_GT(untrusted["pendingRecords"].get<uint64_t>(), 0u) << untrusted.dump();
  EXPECT_NE(untrusted["lastError"].get<std::string>().find("certificate"), std::string::npos) << untrusted.dump();
  tsvault_->Kill();
}

// VictoriaMetrics 1.79 as the target (its /api/v1/write; native histograms
// are left out: 1.79 does not take them). Counts per series match.
TEST_F(ForwardTest, EverythingReachesARealVictoriaMetrics) {
  testing::Process vm;
  std::string vm_url;
  ASSERT_TRUE(testing::StartVictoriaMetrics(dir_.path(), &vm, &vm_url).ok());

  testing::TsvaultServerOptions options = TsvaultOptions();
  options.extra_args = {"--forward.url=" + vm_url + "/api/v1/write"};
  tsvault_ = std::make_unique<testing::TsvaultServer>(options);
  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();
  std::unique_ptr<http::Client> client;
  ASSERT_TRUE(http::Client::Create(tsvault_->base_url(), &client).ok());
  const int64_t start = NowMs() / 1000 * 1000 - 300 * kStep;
  for (int written = 0; written < 300; written += 50) {
    storage::WriteInput input = Data(start, written, 50);
    input.series.erase(input.series.begin() + kSeries);  // the histogram series
    ASSERT_TRUE(testing::PostRemoteWrite(client.get(), input).ok());
  }
  WaitDelivered(kSeries * 300 + 6, 0);
  std::unique_ptr<http::Client> vm_client;
  ASSERT_TRUE(http::Client::Create(vm_url, &vm_client).ok());
  http::Response flushed;
  ASSERT_TRUE(vm_client->Get("/internal/force_flush", &flushed).ok());
  const std::map<std::string, double> on_vm = Counts(vm_url, "{job=\"app\"}");
  EXPECT_EQ(on_vm, Counts(tsvault_->base_url(), "{job=\"app\"}"));
  ASSERT_EQ(on_vm.size(), static_cast<size_t>(kSeries + 1));
  std::cout << "Forwarded to VictoriaMetrics: " << on_vm.size() << " series, " << on_vm.begin()->second
            << " samples in the first\n";
  tsvault_->Kill();
}

// The seed workload sent live (`tsvault loadgen --live`) while the receiver
// is down for a while (90 s here; `make test-long` sets
// TSVAULT_FORWARD_OUTAGE_SECONDS=1200): afterwards the receiver holds every
// acknowledged sample, the same count and sum per series as tsvault.
TEST_F(ForwardTest, ALiveSeedWorkloadSurvivesALongReceiverOutage) {
  const char* configured = std::getenv("TSVAULT_FORWARD_OUTAGE_SECONDS");
  const int outage_seconds = configured != nullptr ? std::atoi(configured) : 90;
  ASSERT_GT(outage_seconds, 0);
  testing::PrometheusServerOptions prometheus_options = ReceiverOptions();
  ASSERT_NO_FATAL_FAILURE(StartReceiver(prometheus_options));
  testing::TsvaultServerOptions options = TsvaultOptions();
  options.extra_args = {"--forward.url=" + prometheus_->base_url() + "/api/v1/write"};
  tsvault_ = std::make_unique<testing::TsvaultServer>(options);
  ASSERT_TRUE(tsvault_->Start().ok()) << tsvault_->LogTail();

  const int before = 20, after = 30;
  const std::string loadgen_log = dir_.path() + "/loadgen.log";
  testing::Process loadgen;
  ASSERT_TRUE(loadgen
                  .Start({{testing::TsvaultBinaryPath(), "loadgen", "--url", tsvault_->base_url() + "/api/v1/write",
                           "--live", "--duration", std::to_string(before + outage_seconds + after) + "s",
                           "--interval", "5s", "--scale", "0.05", "--seed", "5", "--max-retries", "3"},
                          {},
                          loadgen_log})
                  .ok());
  std::this_thread::sleep_for(std::chrono::seconds(before));
  const int prometheus_port = prometheus_->port();
  ASSERT_TRUE(prometheus_->Stop().ok());
  std::this_thread::sleep_for(std::chrono::seconds(outage_seconds));
  const nlohmann::json during = ForwardStatus();
  EXPECT_GT(during["data"]["targets"][0]["pendingRecords"].get<uint64_t>(), 0u) << during.dump();
  prometheus_options.port = prometheus_port;
  ASSERT_NO_FATAL_FAILURE(StartReceiver(prometheus_options));
  ASSERT_TRUE(loadgen.WaitForExit(std::chrono::seconds(after + 120))) << testing::ReadLogTail(loadgen_log);
  ASSERT_EQ(loadgen.last_wait_status(), 0) << testing::ReadLogTail(loadgen_log);
  std::ifstream log(loadgen_log);
  std::string line, summary_line;
  while (std::getline(log, line)) {
    if (line.rfind("{\"series\"", 0) == 0) summary_line = line;
  }
  const nlohmann::json summary = nlohmann::json::parse(summary_line, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << testing::ReadLogTail(loadgen_log);
  const uint64_t acknowledged = summary.value("samples_acknowledged", uint64_t{0});
  ASSERT_EQ(acknowledged, summary.value("samples_sent", uint64_t{1}));
  WaitDelivered(acknowledged, 0);

  // Every sample of every series, read back raw from both (a range
  // vector selector at now), must be the same.
  auto raw = [](const std::string& base_url) {
    std::unique_ptr<http::Client> client;
    EXPECT_TRUE(http::Client::Create(base_url, &client).ok());
    http::Response response;
    EXPECT_TRUE(client->Get("/api/v1/query?query=" + testing::QueryEscape("{__name__=~\".+\"}[6h]"), &response).ok());
    const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    std::map<std::string, std::vector<std::pair<double, std::string>>> out;
    EXPECT_EQ(body.value("status", ""), "success") << response.body.substr(0, 300);
    if (body.value("status", "") != "success") return out;
    for (const auto& series : body["data"]["result"]) {
      auto& samples = out[series["metric"].dump()];
      for (const auto& value : series["values"]) samples.emplace_back(value[0].get<double>(), value[1].get<std::string>());
    }
    return out;
  };
  const auto on_prometheus = raw(prometheus_->base_url());
  const auto on_tsvault = raw(tsvault_->base_url());
  size_t total = 0;
  for (const auto& [series, samples] : on_tsvault) total += samples.size();
  EXPECT_EQ(total, acknowledged);
  EXPECT_EQ(on_prometheus.size(), on_tsvault.size());
  size_t differing = 0;
  for (const auto& [series, samples] : on_tsvault) {
    const auto found = on_prometheus.find(series);
    if (found == on_prometheus.end() || found->second != samples) {
      if (++differing <= 3) ADD_FAILURE() << "differs at the receiver: " << series;
    }
  }
  EXPECT_EQ(differing, 0u);
  const nlohmann::json status = ForwardStatus();
  std::cout << "Live seed workload through a " << outage_seconds << " s receiver outage: " << on_tsvault.size()
            << " series, " << acknowledged << " samples acknowledged, all at the receiver; target "
            << status["data"]["targets"][0].dump() << "\n";
  EXPECT_TRUE(status["data"]["targets"][0]["dropped"].empty()) << status.dump();
}

}  // namespace
}  // namespace tsvault
