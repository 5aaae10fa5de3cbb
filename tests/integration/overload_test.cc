// Overload (issue 13): 24 senders offer about ten times what the server
// admits at once. Some get 429 with Retry-After; every request answered 204
// is stored in full; health probes and queries keep answering; and the
// server's memory stays under the bound docs/remote-write.md states
// (baseline + request bodies in flight + the requests being decoded).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "http/client.h"
#include "remote_write/encoder.h"
#include "remote_write/protocol.h"
#include "storage/db.h"
#include "tests/support/ports.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSenders = 24;
constexpr int kSeriesPerSender = 400;
constexpr int kSamplesPerSeries = 100;  // per request: 40,000 samples, about 0.5 MB of snappy
constexpr uint64_t kBodyBudget = 1536 << 10;  // --web.max-inflight-body-bytes: ~3 requests of 24

TEST(OverloadTest, TenTimesTheAdmittedLoadGets429sAndLosesNothing) {
  testing::TempDir dir;
  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir.path() + "/data";
  options.log_path = dir.path() + "/tsvault.log";
  options.extra_args = {"--threads=2", "--web.max-inflight-body-bytes=" + std::to_string(kBodyBudget)};
  testing::TsvaultServer server(options);
  ASSERT_TRUE(server.Start().ok()) << server.LogTail();
  const uint64_t baseline = testing::PeakResidentBytes(server.pid());

  const int64_t start_ms =
      (std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
           .count() / 1000 - 1800) * 1000;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> accepted{0}, throttled{0}, other{0};
  std::mutex mutex;
  std::string first_other;
  std::map<int, int> acknowledged_requests;  // sender -> requests answered 204 (in order)
  std::vector<std::thread> senders;
  for (int sender = 0; sender < kSenders; ++sender) {
    senders.emplace_back([&, sender] {
      std::unique_ptr<http::Client> client;
      ASSERT_TRUE(http::Client::Create(server.base_url(), &client).ok());
      std::mt19937_64 rng(sender);
      for (int request = 0; !stop; ++request) {
        storage::WriteInput input;
        for (int s = 0; s < kSeriesPerSender; ++s) {
          storage::SeriesWrite series;
          series.labels = {{"__name__", "overload_samples"}, {"sender", std::to_string(sender)},
                           {"series", std::to_string(s)}};
          for (int i = 0; i < kSamplesPerSeries; ++i) {
            const int64_t t = start_ms + (static_cast<int64_t>(request) * kSamplesPerSeries + i) * 10;
            series.samples.push_back({t, static_cast<double>(rng() % 1000000) / 7.0});
          }
          input.series.push_back(std::move(series));
        }
        std::string body;
        ASSERT_TRUE(remote_write::EncodeWriteRequest(input, remote_write::Protocol::kV1, &body).ok());
        // The same request again after a 429, as a sender retries it.
        while (!stop) {
          http::Response response;
          Status s = client->Do("POST", "/api/v1/write", remote_write::WriteRequestHeaders(remote_write::Protocol::kV1),
                                body, &response, std::chrono::seconds(30));
          if (s.ok() && response.status == 204) {
            ++accepted;
            std::lock_guard<std::mutex> lock(mutex);
            acknowledged_requests[sender] = request + 1;
            break;
          }
          if (s.ok() && response.status == 429) {
            ++throttled;
            EXPECT_FALSE(response.Header("Retry-After").empty());
            std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 30));
            continue;
          }
          std::lock_guard<std::mutex> lock(mutex);
          if (other++ == 0) first_other = s.ok() ? std::to_string(response.status) + " " + response.body : s.ToString();
          break;
        }
        if (other > 0) return;
      }
    });
  }

  // Health and queries keep answering meanwhile.
  std::unique_ptr<http::Client> probe;
  ASSERT_TRUE(http::Client::Create(server.base_url(), &probe).ok());
  int probes = 0, queries = 0;
  double slowest_probe = 0;
  const auto until = Clock::now() + std::chrono::seconds(6);
  while (Clock::now() < until) {
    const auto asked = Clock::now();
    http::Response health;
    ASSERT_TRUE(probe->Do("GET", "/-/healthy", {}, "", &health, std::chrono::seconds(10)).ok());
    EXPECT_EQ(health.status, 200);
    slowest_probe = std::max(slowest_probe, std::chrono::duration<double>(Clock::now() - asked).count());
    ++probes;
    http::Response answer;
    ASSERT_TRUE(probe->Do("GET", "/api/v1/query?query=" + testing::QueryEscape("count(overload_samples)"), {}, "",
                          &answer, std::chrono::seconds(30))
                    .ok());
    EXPECT_EQ(answer.status, 200) << answer.body;
    ++queries;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop = true;
  for (std::thread& sender : senders) sender.join();
  const uint64_t peak = testing::PeakResidentBytes(server.pid());
  EXPECT_EQ(other.load(), 0u) << first_other;
  EXPECT_GT(accepted.load(), 0u);
  EXPECT_GT(throttled.load(), 0u) << "no 429 under ten times the admitted load";
  // Bodies in flight (1.5 MiB), requests being decoded (2 I/O threads x
  // about 1 MiB, and the batches they become), and what the accepted data
  // itself takes: RocksDB's memtables (up to 2 x 64 MiB) and the head.
  // 384 MiB above the baseline is the bound docs/remote-write.md states
  // ("Overload"); measured: 226 MiB.
  EXPECT_LT(peak - baseline, uint64_t{384} << 20)
      << "baseline " << (baseline >> 20) << " MiB, peak " << (peak >> 20) << " MiB";
  ASSERT_TRUE(server.Stop().ok()) << server.LogTail();

  // Every acknowledged request is stored in full.
  storage::Options db_options;
  db_options.data_dir = options.data_dir;
  db_options.background_checkpoints = false;
  std::unique_ptr<storage::DB> db;
  ASSERT_TRUE(storage::DB::Open(db_options, &db).ok());
  uint64_t missing = 0, checked = 0;
  for (const auto& [sender, requests] : acknowledged_requests) {
    for (int s = 0; s < kSeriesPerSender; s += 37) {  // a spread of series of every sender
      storage::LabelMatcher by_sender, by_series;
      ASSERT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kEqual, "sender", std::to_string(sender), &by_sender).ok());
      ASSERT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kEqual, "series", std::to_string(s), &by_series).ok());
      std::unique_ptr<storage::SeriesSet> set;
      ASSERT_TRUE(db->Select({INT64_MIN, INT64_MAX}, {by_sender, by_series}, &set).ok());
      std::set<int64_t> times;
      while (set->Next()) {
        std::unique_ptr<storage::SampleIterator> it = set->Samples();
        while (it->Next()) times.insert(it->timestamp());
      }
      for (int64_t i = 0; i < static_cast<int64_t>(requests) * kSamplesPerSeries; ++i) {
        ++checked;
        if (times.count(start_ms + i * 10) == 0) ++missing;
      }
    }
  }
  EXPECT_GT(checked, 0u);
  EXPECT_EQ(missing, 0u) << "acknowledged samples lost under overload";
  std::cout << "overload: " << accepted << " requests accepted, " << throttled << " answered 429; " << probes
            << " health probes (slowest " << slowest_probe << " s), " << queries << " queries; RSS baseline "
            << (baseline >> 20) << " MiB, peak " << (peak >> 20) << " MiB\n";
  ::testing::Test::RecordProperty("peak_rss_mib", std::to_string(peak >> 20));
}

}  // namespace
}  // namespace tsvault
