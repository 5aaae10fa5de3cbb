// Receiver::Handle from several threads at once: the in-flight budget bounds
// concurrent work, every request gets 204 or 429, and the budget is fully
// returned afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "remote_write/receiver.h"
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

}  // namespace
}  // namespace tsvault::remote_write
