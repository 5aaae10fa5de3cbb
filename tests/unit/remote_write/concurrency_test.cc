// Receiver::Handle from several threads at once: the in-flight budget bounds
// concurrent work, every request gets 204 or 429, and the budget is fully
// returned afterwards; the series-reference cache, shared by all threads and
// emptied shard by shard when small, never sends a sample to another series.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "remote_write/receiver.h"
#include "storage/db.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

using testing::FakeDB;
using testing::MakeRequest;
using testing::MakeSeries;

TEST(ReceiverConcurrencyTest, InflightBudgetUnderContention) {
  storage::WriteInput input;
  for (int i = 0; i < 200; ++i) {
    input.series.push_back(MakeSeries({{"__name__", "m"}, {"i", std::to_string(i)}}, {{1000, 1}}));
  }
  std::string protobuf;
  ASSERT_TRUE(SerializeWriteRequest(input, Protocol::kV2, &protobuf).ok());
  const std::string body = SnappyCompress(protobuf);

  FakeDB db;
  db.StopRecording();
  ReceiverOptions options;
  options.max_inflight_bytes = 2 * protobuf.size();  // two requests at a time
  Receiver receiver(&db, options, nullptr);

  constexpr int kThreads = 4;
  constexpr int kRequestsPerThread = 150;
  std::atomic<int> accepted{0}, throttled{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRequestsPerThread; ++i) {
        http::Response response;
        receiver.Handle(MakeRequest(body, ContentType(Protocol::kV2)), &response);
        if (response.status == 204) {
          ++accepted;
        } else if (response.status == 429) {
          ++throttled;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(accepted + throttled, kThreads * kRequestsPerThread);
  EXPECT_GT(accepted.load(), 0);
  EXPECT_EQ(db.append_calls(), accepted.load());

  // All reservations were released: two requests still fit side by side.
  http::Response response;
  receiver.Handle(MakeRequest(body, ContentType(Protocol::kV2)), &response);
  EXPECT_EQ(response.status, 204);
}

class CacheConcurrencyTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(CacheConcurrencyTest, HitsAndMissesFromManyThreadsLandInTheRightSeries) {
  tsvault::testing::TempDir dir;
  storage::Options options;
  options.data_dir = dir.path();
  options.wal_sync = storage::WalSyncMode::kNone;
  options.background_checkpoints = false;
  std::unique_ptr<storage::DB> db;
  ASSERT_TRUE(storage::DB::Open(options, &db).ok());
  ReceiverOptions receiver_options;
  receiver_options.max_cached_series = GetParam();
  Receiver receiver(db.get(), receiver_options, nullptr);

  constexpr int kThreads = 4;
  constexpr int kRequests = 25;
  constexpr int kShared = 60;  // sent by every thread: hits after the first time
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRequests; ++r) {
        const int64_t timestamp = (int64_t{r} * kThreads + t + 1) * 1000;
        storage::WriteInput input;
        // A sample's value is the id in its series' labels.
        for (int id = 0; id < kShared; ++id) {
          Labels labels = {{"__name__", "shared"}, {"id", std::to_string(id)}, {"job", "j"}};
          if ((id + t) % 4 == 0) std::swap(labels[0], labels[2]);  // other wire order, same series
          input.series.push_back(MakeSeries(labels, {{timestamp, static_cast<double>(id)}}));
        }
        for (int k = 0; k < 5; ++k) {  // new series: misses
          const int id = 100000 + (t * kRequests + r) * 5 + k;
          input.series.push_back(MakeSeries({{"__name__", "fresh"}, {"id", std::to_string(id)}},
                                            {{timestamp, static_cast<double>(id)}}));
        }
        std::string body;
        const Protocol protocol = (r + t) % 2 == 0 ? Protocol::kV1 : Protocol::kV2;
        if (!EncodeWriteRequest(input, protocol, &body).ok()) ++failures;
        http::Response response;
        receiver.Handle(MakeRequest(body, ContentType(protocol)), &response);
        if (response.status != 204) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(receiver.CachedSeries(), GetParam());

  storage::LabelMatcher any_name;
  ASSERT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kRegexMatch, "__name__", ".+", &any_name).ok());
  std::unique_ptr<storage::SeriesSet> set;
  ASSERT_TRUE(db->Select({INT64_MIN, INT64_MAX}, {any_name}, &set).ok());
  size_t series = 0, samples = 0, wrong = 0;
  while (set->Next()) {
    ++series;
    const double id = std::stod(std::string(GetLabelValue(set->labels(), "id")));
    std::unique_ptr<storage::SampleIterator> it = set->Samples();
    while (it->Next()) {
      ++samples;
      if (it->value() != id) ++wrong;
    }
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(series, static_cast<size_t>(kShared + kThreads * kRequests * 5));
  EXPECT_EQ(samples, static_cast<size_t>(kThreads * kRequests * (kShared + 5)));
}

// A roomy cache, and one so small that shards are emptied all the time.
INSTANTIATE_TEST_SUITE_P(CacheSizes, CacheConcurrencyTest, ::testing::Values(1'000'000u, 40u));

}  // namespace
}  // namespace tsvault::remote_write
