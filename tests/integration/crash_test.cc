// "Every acknowledged sample is there after kill -9": a writer streams
// Remote Write 1.0 requests into the real tsvault binary while the test
// SIGKILLs and restarts it at seeded random moments. Afterwards the data
// directory is opened directly with storage::DB and every sample that got a
// 204 must be there with the exact value bits; samples that were sent but
// not acknowledged may be missing, but if present must carry the sent value;
// nothing else may exist.
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <fstream>
#include <set>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

#include "http/client.h"
#include "remote_write/encoder.h"
#include "storage/db.h"
#include "tests/support/ports.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

using testing::TsvaultServer;
using testing::TsvaultServerOptions;
using Clock = std::chrono::steady_clock;

constexpr char kMetric[] = "http_requests_total";
constexpr int kSamplesPerSeriesPerRequest = 3;
constexpr int64_t kStepMs = 10;

// The seed workload: 50 series http_requests_total{app,method,route,status}.
std::vector<Labels> SeedSeries() {
  const char* apps[] = {"web", "api", "admin", "worker", "auth"};
  const char* methods[] = {"GET", "POST"};
  const char* routes[] = {"/", "/login", "/items", "/orders", "/health"};
  const char* statuses[] = {"200", "404", "500"};
  std::vector<Labels> out;
  for (const char* app : apps) {
    for (const char* method : methods) {
      for (const char* route : routes) {
        Labels labels = {{"__name__", kMetric}, {"app", app}, {"method", method}, {"route", route},
                         {"status", statuses[out.size() % 3]}};
        SortLabels(&labels);
        out.push_back(std::move(labels));
      }
    }
  }
  return out;
}

// One sample the writer sent, and whether its request got a 204.
struct SentSample {
  int64_t timestamp_ms;
  uint64_t value_bits;
  bool acknowledged;
};

// Streams requests until stopped; records exactly what was acknowledged.
// Connection errors (the server is being killed or restarted) are expected:
// the writer moves on to new timestamps and tries again.
class Writer {
 public:
  Writer(std::string base_url, uint64_t seed) : base_url_(std::move(base_url)), rng_(seed) {
    series_ = SeedSeries();
    sent_.resize(series_.size());
    counters_.assign(series_.size(), 0.0);
    // Start an hour back, on a whole second; every request moves forward.
    next_timestamp_ms_ = (std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count() / 1000 -
                          3600) * 1000;
  }

  void Start() { thread_ = std::thread([this] { Run(); }); }
  void StopAndJoin() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  ~Writer() { StopAndJoin(); }

  uint64_t acknowledged_requests() const { return acknowledged_requests_; }
  uint64_t failed_requests() const { return failed_requests_; }
  uint64_t rejected_requests() const { return rejected_requests_; }
  std::string first_rejection() {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_rejection_;
  }
  const std::vector<Labels>& series() const { return series_; }
  // Valid after StopAndJoin.
  const std::vector<std::vector<SentSample>>& sent() const { return sent_; }

 private:
  void Run() {
    std::unique_ptr<http::Client> client;
    if (!http::Client::Create(base_url_, &client).ok()) {
      std::lock_guard<std::mutex> lock(mutex_);
      first_rejection_ = "cannot create client for " + base_url_;
      ++rejected_requests_;
      return;
    }
    std::uniform_real_distribution<double> increment(0.0, 10.0);
    while (!stop_) {
      storage::WriteInput input;
      const size_t first_index = sent_[0].size();
      for (size_t i = 0; i < series_.size(); ++i) {
        storage::SeriesWrite write;
        write.labels = series_[i];
        for (int k = 0; k < kSamplesPerSeriesPerRequest; ++k) {
          counters_[i] += increment(rng_);  // random mantissa bits: checks exact values
          const int64_t t = next_timestamp_ms_ + k * kStepMs;
          write.samples.push_back({t, counters_[i]});
          sent_[i].push_back({t, std::bit_cast<uint64_t>(counters_[i]), false});
        }
        input.series.push_back(std::move(write));
      }
      next_timestamp_ms_ += kSamplesPerSeriesPerRequest * kStepMs;

      std::string body;
      Status s = remote_write::EncodeWriteRequest(input, remote_write::Protocol::kV1, &body);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (first_rejection_.empty()) first_rejection_ = "encode: " + s.ToString();
        ++rejected_requests_;
        return;
      }
      http::Response response;
      s = client->Do("POST", "/api/v1/write", remote_write::WriteRequestHeaders(remote_write::Protocol::kV1), body,
                     &response, std::chrono::seconds(10));
      if (s.ok() && response.status == 204) {
        for (auto& samples : sent_) {
          for (size_t j = first_index; j < samples.size(); ++j) samples[j].acknowledged = true;
        }
        ++acknowledged_requests_;
      } else if (s.ok() && response.status >= 400 && response.status < 500) {
        // Our requests are valid: a 4xx is a bug, not a crash effect.
        std::lock_guard<std::mutex> lock(mutex_);
        if (first_rejection_.empty()) {
          first_rejection_ = "HTTP " + std::to_string(response.status) + ": " + response.body;
        }
        ++rejected_requests_;
      } else {
        ++failed_requests_;  // transport error or 5xx while the server dies
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }

  std::string base_url_;
  std::mt19937_64 rng_;
  std::vector<Labels> series_;
  std::vector<double> counters_;
  std::vector<std::vector<SentSample>> sent_;
  int64_t next_timestamp_ms_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acknowledged_requests_{0};
  std::atomic<uint64_t> failed_requests_{0};
  std::atomic<uint64_t> rejected_requests_{0};
  std::mutex mutex_;
  std::string first_rejection_;
  std::thread thread_;
};

// "storage opened at ... in 0.123s: 50 series, 1234 WAL records replayed"
// lines of the server log, one per start.
std::vector<std::string> StorageOpenLines(const std::string& log_path) {
  std::string log = testing::ReadLogTail(log_path, 1 << 24);
  std::vector<std::string> out;
  std::regex pattern("storage opened at [^\\n]*");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), pattern); it != std::sregex_iterator(); ++it) {
    out.push_back(it->str());
  }
  return out;
}

// What a soak adds to the kill loop: queries, a forward target, and the
// peak memory and restart times it reports.
struct SoakLoad {
  bool queries = false;           // a reader runs range queries all along
  bool forward = false;           // a second tsvault receives everything forwarded
};

// Reads every sample of kMetric from a stopped (or killed) data directory.
void ReadStored(const std::string& data_dir, std::map<Labels, std::vector<storage::Sample>>* stored) {
  storage::Options db_options;
  db_options.data_dir = data_dir;
  db_options.background_checkpoints = false;
  std::unique_ptr<storage::DB> db;
  Status s = storage::DB::Open(db_options, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  storage::LabelMatcher name_matcher;
  ASSERT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kEqual, "__name__", kMetric, &name_matcher).ok());
  std::unique_ptr<storage::SeriesSet> set;
  s = db->Select({INT64_MIN, INT64_MAX}, {name_matcher}, &set);
  ASSERT_TRUE(s.ok()) << s.ToString();
  while (set->Next()) {
    std::vector<storage::Sample>& samples = (*stored)[set->labels()];
    std::unique_ptr<storage::SampleIterator> it = set->Samples();
    while (it->Next()) samples.push_back({it->timestamp(), it->value()});
  }
  ASSERT_TRUE(set->status().ok()) << set->status().ToString();
}

uint64_t SeedFromEnvironment(uint64_t fallback) {
  const char* text = std::getenv("TSVAULT_CRASH_SEED");
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : fallback;
}

// Runs the writer against a server that is killed `kills` times, then checks
// the data directory. `extra_args` selects the WAL sync mode etc.
void RunCrashScenario(const std::string& name, std::vector<std::string> extra_args, int kills,
                      uint64_t default_seed, SoakLoad load = {}) {
  const uint64_t seed = SeedFromEnvironment(default_seed);
  SCOPED_TRACE(name + " seed=" + std::to_string(seed) + " (set TSVAULT_CRASH_SEED to replay)");
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir.path() + "/data";
  options.log_path = dir.path() + "/tsvault.log";
  options.extra_args = std::move(extra_args);
  // The forward target: a second tsvault that is never killed.
  std::unique_ptr<TsvaultServer> target;
  if (load.forward) {
    TsvaultServerOptions target_options;
    target_options.binary = options.binary;
    target_options.data_dir = dir.path() + "/target";
    target_options.log_path = dir.path() + "/target.log";
    target_options.extra_args = {"--storage.wal-sync=none"};
    target = std::make_unique<TsvaultServer>(target_options);
    ASSERT_TRUE(target->Start().ok()) << target->LogTail();
    options.extra_args.push_back("--forward.url=" + target->base_url() + "/api/v1/write");
  }
  TsvaultServer server(options);
  ASSERT_TRUE(server.Start().ok()) << server.LogTail();
  std::vector<long> start_ms = {static_cast<long>(server.last_start_duration().count())};
  uint64_t peak_rss = 0;

  Writer writer(server.base_url(), seed ^ 0x9e3779b97f4a7c15ULL);
  writer.Start();
  // Queries all along: answers while the server is up, never a 500.
  std::atomic<bool> stop_queries{false};
  std::atomic<uint64_t> queries_answered{0}, queries_failed_500{0};
  std::string first_500;
  std::thread reader;
  if (load.queries) {
    reader = std::thread([&] {
      std::unique_ptr<http::Client> client;
      if (!http::Client::Create(server.base_url(), &client).ok()) return;
      const std::string query = "/api/v1/query?query=" +
                                testing::QueryEscape(std::string("sum by (app) (rate(") + kMetric + "[1m]))");
      while (!stop_queries) {
        http::Response response;
        if (client->Do("GET", query, {}, "", &response, std::chrono::seconds(10)).ok()) {
          if (response.status == 200) ++queries_answered;
          if (response.status >= 500 && response.status != 503 && queries_failed_500++ == 0) first_500 = response.body;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  std::uniform_int_distribution<int> run_ms(300, 3000);
  for (int kill = 0; kill < kills; ++kill) {
    // Let traffic flow on this incarnation: some acknowledged requests, then
    // a random extra delay so the kill lands anywhere in the write path.
    const uint64_t acked_before = writer.acknowledged_requests();
    const auto wait_deadline = Clock::now() + std::chrono::seconds(15);
    while (writer.acknowledged_requests() < acked_before + 10 && Clock::now() < wait_deadline &&
           writer.rejected_requests() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(writer.rejected_requests(), 0u) << writer.first_rejection();
    ASSERT_GE(writer.acknowledged_requests(), acked_before + 10)
        << "the writer made no progress after start " << kill << "; log:\n" << server.LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
    peak_rss = std::max(peak_rss, testing::PeakResidentBytes(server.pid()));
    server.Kill();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
    Status s = server.Start();
    ASSERT_TRUE(s.ok()) << "restart " << kill + 1 << ": " << s.ToString();
    start_ms.push_back(static_cast<long>(server.last_start_duration().count()));
  }
  // A little traffic on the last incarnation, then stop writing.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  writer.StopAndJoin();
  stop_queries = true;
  if (reader.joinable()) reader.join();
  ASSERT_EQ(writer.rejected_requests(), 0u) << writer.first_rejection();
  if (load.queries) {
    EXPECT_GT(queries_answered.load(), 0u);
    EXPECT_EQ(queries_failed_500.load(), 0u) << first_500;
  }
  std::string forward_status;  // the last /api/v1/status/forward answer
  if (load.forward) {
    // Everything the target has not yet been sent goes out after the last
    // restart; wait until the queue is empty.
    std::unique_ptr<http::Client> client;
    ASSERT_TRUE(http::Client::Create(server.base_url(), &client).ok());
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (true) {
      http::Response response;
      ASSERT_TRUE(client->Get("/api/v1/status/forward", &response).ok());
      const std::string pending = "\"pendingRecords\":0";
      forward_status = response.body;
      if (response.body.find(pending) != std::string::npos) break;
      ASSERT_LT(Clock::now(), deadline) << "forwarding did not catch up: " << response.body;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // The series API of the running server lists every series.
  {
    std::unique_ptr<http::Client> client;
    ASSERT_TRUE(http::Client::Create(server.base_url(), &client).ok());
    std::vector<Labels> listed;
    Status s = testing::ApiSeries(client.get(), kMetric, std::nullopt, std::nullopt, &listed);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::vector<Labels> expected = writer.series();
    std::sort(expected.begin(), expected.end(), [](const Labels& a, const Labels& b) { return CompareLabels(a, b) < 0; });
    std::sort(listed.begin(), listed.end(), [](const Labels& a, const Labels& b) { return CompareLabels(a, b) < 0; });
    EXPECT_EQ(listed, expected);
  }

  // Crash once more (no final checkpoint) and read the directory directly.
  peak_rss = std::max(peak_rss, testing::PeakResidentBytes(server.pid()));
  server.Kill();
  storage::Options db_options;
  db_options.data_dir = options.data_dir;
  db_options.background_checkpoints = false;
  std::unique_ptr<storage::DB> db;
  const auto open_started = Clock::now();
  Status s = storage::DB::Open(db_options, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const double direct_open_seconds = std::chrono::duration<double>(Clock::now() - open_started).count();
  storage::LabelMatcher name_matcher;
  ASSERT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kEqual, "__name__", kMetric, &name_matcher).ok());
  std::unique_ptr<storage::SeriesSet> set;
  s = db->Select({INT64_MIN, INT64_MAX}, {name_matcher}, &set);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::map<Labels, std::vector<storage::Sample>> stored;
  while (set->Next()) {
    std::vector<storage::Sample>& samples = stored[set->labels()];
    std::unique_ptr<storage::SampleIterator> it = set->Samples();
    while (it->Next()) {
      ASSERT_FALSE(it->is_histogram()) << LabelsToString(set->labels());
      if (!samples.empty()) {
        ASSERT_GT(it->timestamp(), samples.back().timestamp_ms)
            << "timestamps not strictly increasing in " << LabelsToString(set->labels());
      }
      samples.push_back({it->timestamp(), it->value()});
    }
  }
  ASSERT_TRUE(set->status().ok()) << set->status().ToString();
  ASSERT_EQ(stored.size(), writer.series().size());

  uint64_t acknowledged = 0, sent_total = 0, unacknowledged_present = 0, mismatches = 0;
  for (size_t i = 0; i < writer.series().size(); ++i) {
    const Labels& labels = writer.series()[i];
    auto found = stored.find(labels);
    ASSERT_NE(found, stored.end()) << "missing series " << LabelsToString(labels);
    std::map<int64_t, uint64_t> sent_by_time;
    for (const SentSample& sample : writer.sent()[i]) sent_by_time[sample.timestamp_ms] = sample.value_bits;
    std::map<int64_t, uint64_t> stored_by_time;
    for (const storage::Sample& sample : found->second) {
      stored_by_time[sample.timestamp_ms] = std::bit_cast<uint64_t>(sample.value);
      auto sent = sent_by_time.find(sample.timestamp_ms);
      if (sent == sent_by_time.end()) {
        ADD_FAILURE() << "stored sample never sent: " << LabelsToString(labels) << " t=" << sample.timestamp_ms;
        if (++mismatches > 20) return;
      } else if (sent->second != std::bit_cast<uint64_t>(sample.value)) {
        ADD_FAILURE() << "stored value differs from the sent one: " << LabelsToString(labels)
                      << " t=" << sample.timestamp_ms;
        if (++mismatches > 20) return;
      }
    }
    for (const SentSample& sample : writer.sent()[i]) {
      ++sent_total;
      auto at = stored_by_time.find(sample.timestamp_ms);
      if (!sample.acknowledged) {
        if (at != stored_by_time.end()) ++unacknowledged_present;
        continue;
      }
      ++acknowledged;
      if (at == stored_by_time.end()) {
        ADD_FAILURE() << "acknowledged sample lost: " << LabelsToString(labels) << " t=" << sample.timestamp_ms;
        if (++mismatches > 20) return;
      }
    }
  }
  EXPECT_GT(acknowledged, 0u);

  // The forward target holds every acknowledged sample too.
  uint64_t forwarded_missing = 0;
  if (load.forward) {
    ASSERT_TRUE(target->Stop().ok()) << target->LogTail();
    std::map<Labels, std::vector<storage::Sample>> received;
    ASSERT_NO_FATAL_FAILURE(ReadStored(target->data_dir(), &received));
    for (size_t i = 0; i < writer.series().size(); ++i) {
      std::set<int64_t> times;
      for (const storage::Sample& sample : received[writer.series()[i]]) times.insert(sample.timestamp_ms);
      for (const SentSample& sample : writer.sent()[i]) {
        if (sample.acknowledged && times.count(sample.timestamp_ms) == 0) ++forwarded_missing;
      }
    }
    EXPECT_EQ(forwarded_missing, 0u) << "acknowledged samples the forward target never got; forward status: "
                                     << forward_status << "\nserver log:\n" << server.LogTail(6000);
  }

  std::ostringstream report;
  report << name << ": seed=" << seed << " kills=" << kills << " requests acknowledged="
         << writer.acknowledged_requests() << " failed=" << writer.failed_requests()
         << " samples sent=" << sent_total << " acknowledged=" << acknowledged
         << " unacknowledged-but-present=" << unacknowledged_present << "\n  start-to-ready ms:";
  for (long ms : start_ms) report << " " << ms;
  report << "\n  direct DB::Open after the last kill: " << direct_open_seconds << "s\n";
  report << "  peak RSS of the killed server: " << (peak_rss >> 20) << " MiB";
  if (load.queries) report << "; queries answered: " << queries_answered.load();
  report << "\n";
  for (const std::string& line : StorageOpenLines(options.log_path)) report << "  log: " << line << "\n";
  std::cout << report.str();
  ::testing::Test::RecordProperty("samples_acknowledged", std::to_string(acknowledged));
  ::testing::Test::RecordProperty("kills", std::to_string(kills));
  ::testing::Test::RecordProperty("peak_rss_mib", std::to_string(peak_rss >> 20));
}

TEST(CrashTest, BatchSyncKeepsEveryAcknowledgedSampleAcrossKills) {
  // A short checkpoint interval makes some kills land after a checkpoint
  // (chunk store + truncated WAL) and some before (pure WAL replay).
  RunCrashScenario("wal-sync=batch", {"--storage.wal-sync=batch", "--storage.checkpoint-interval=2s"},
                   /*kills=*/5, /*default_seed=*/20240611);
}

TEST(CrashTest, AlwaysSyncKeepsEveryAcknowledgedSampleAcrossKills) {
  RunCrashScenario("wal-sync=always", {"--storage.wal-sync=always"}, /*kills=*/2, /*default_seed=*/7);
}

// The soak (issue 13): kill -9 cycles under ingest, queries, background
// downsampling and checkpoints, and forwarding to a second tsvault; every
// acknowledged sample is stored, and forwarded. 10 cycles in `make test`;
// TSVAULT_SOAK_CYCLES (100 with `make soak`) sets the number.
TEST(CrashTest, SoakUnderMixedLoad) {
  const char* cycles_text = std::getenv("TSVAULT_SOAK_CYCLES");
  const bool full = cycles_text != nullptr && *cycles_text != '\0';
  const int cycles = full ? std::atoi(cycles_text) : 10;
  SoakLoad load;
  load.queries = true;
  load.forward = true;
  RunCrashScenario("soak", {"--storage.wal-sync=batch", "--storage.checkpoint-interval=2s", "--downsample.grace=1s",
                            "--downsample.interval=1s"},
                   cycles, /*default_seed=*/20261207, load);
}

}  // namespace
}  // namespace tsvault
