// Mutated-input loops: random bytes, truncations and bit flips of valid
// bodies must never crash and must always get a well-formed answer; garbage
// must get 400.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "remote_write/receiver.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

using testing::FakeDB;
using testing::MakeRequest;
using testing::MakeSeries;

constexpr int kIterations = 20000;

storage::WriteInput ValidInput() {
  storage::WriteInput input;
  for (int i = 0; i < 8; ++i) {
    storage::SeriesWrite series = MakeSeries(
        {{"__name__", "http_requests_total"}, {"instance", "host" + std::to_string(i)}, {"job", "api"}},
        {{1000 + i, static_cast<double>(i)}, {2000 + i, 1.5}});
    storage::Exemplar exemplar;
    exemplar.labels = {{"trace_id", "t" + std::to_string(i)}};
    exemplar.value = 1;
    exemplar.timestamp_ms = 1000;
    series.exemplars.push_back(exemplar);
    input.series.push_back(series);
  }
  storage::SeriesWrite histogram_series;
  histogram_series.labels = {{"__name__", "latency"}};
  storage::Histogram histogram;
  histogram.timestamp_ms = 5;
  histogram.count_int = 3;
  histogram.positive_spans = {{0, 2}};
  histogram.positive_deltas = {1, 1};
  histogram_series.histograms.push_back(histogram);
  input.series.push_back(histogram_series);
  input.metadata.push_back({"http_requests_total", storage::MetricType::kCounter, "Requests.", ""});
  return input;
}

class FuzzTest : public ::testing::TestWithParam<Protocol> {
 protected:
  void SetUp() override { db_.StopRecording(); }

  // Sends a body and checks the answer is one the receiver is allowed to give.
  int Send(const std::string& body) {
    http::Response response;
    receiver_.Handle(MakeRequest(body, ContentType(GetParam())), &response);
    EXPECT_TRUE(response.status == 204 || response.status == 400) << response.status << " " << response.body;
    if (response.status == 204) {
      EXPECT_TRUE(response.body.empty());
    } else if (response.status == 400) {
      EXPECT_FALSE(response.body.empty());
    }
    return response.status;
  }

  FakeDB db_;
  Receiver receiver_{&db_, ReceiverOptions{}, nullptr};
};

TEST_P(FuzzTest, RandomBytesAre400) {
  std::mt19937_64 random(12345);
  int rejected = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string body(random() % 64 + 1, '\0');
    for (char& c : body) c = static_cast<char>(random());
    if (Send(body) == 400) ++rejected;
  }
  // Random bytes are almost never a valid snappy block of a valid message;
  // the rare one that decodes to an empty message is a legitimate 204.
  EXPECT_GT(rejected, kIterations * 95 / 100);
}

TEST_P(FuzzTest, RandomlyCompressedGarbageIs400OrHarmless) {
  std::mt19937_64 random(777);
  int rejected = 0;
  for (int i = 0; i < kIterations / 4; ++i) {
    std::string protobuf(random() % 256 + 1, '\0');
    for (char& c : protobuf) c = static_cast<char>(random());
    if (Send(SnappyCompress(protobuf)) == 400) ++rejected;
  }
  EXPECT_GT(rejected, 0);
}

TEST_P(FuzzTest, TruncationsOfValidBodiesAre400) {
  std::string protobuf;
  ASSERT_TRUE(SerializeWriteRequest(ValidInput(), GetParam(), &protobuf).ok());
  const std::string body = SnappyCompress(protobuf);
  ASSERT_EQ(Send(body), 204);
  // Every strict prefix of the snappy body is corrupt snappy.
  for (size_t length = 0; length < body.size(); ++length) {
    EXPECT_EQ(Send(body.substr(0, length)), 400) << length;
  }
  // Truncated protobufs, validly compressed: a cut inside a field is corrupt
  // protobuf (400); a cut exactly between top-level fields is a shorter valid
  // message (204). Either way nothing crashes.
  int rejected = 0;
  for (size_t length = 0; length < protobuf.size(); ++length) {
    if (Send(SnappyCompress(protobuf.substr(0, length))) == 400) ++rejected;
  }
  EXPECT_GT(rejected, static_cast<int>(protobuf.size() / 2));
}

TEST_P(FuzzTest, MutatedValidBodiesNeverCrash) {
  std::string protobuf;
  ASSERT_TRUE(SerializeWriteRequest(ValidInput(), GetParam(), &protobuf).ok());
  const std::string body = SnappyCompress(protobuf);
  std::mt19937_64 random(4242);
  for (int i = 0; i < kIterations; ++i) {
    // Alternate between mutating the compressed body and the protobuf.
    const bool mutate_protobuf = i % 2 == 0;
    std::string mutated = mutate_protobuf ? protobuf : body;
    const int mutations = 1 + static_cast<int>(random() % 4);
    for (int m = 0; m < mutations && !mutated.empty(); ++m) {
      const size_t position = random() % mutated.size();
      switch (random() % 4) {
        case 0: mutated[position] = static_cast<char>(random()); break;           // replace
        case 1: mutated[position] ^= static_cast<char>(1u << (random() % 8)); break;  // bit flip
        case 2: mutated.erase(position, 1 + random() % 8); break;                 // delete
        default: mutated.insert(position, 1, static_cast<char>(random())); break;   // insert
      }
    }
    Send(mutate_protobuf ? SnappyCompress(mutated) : mutated);
  }
}

INSTANTIATE_TEST_SUITE_P(Protocols, FuzzTest, ::testing::Values(Protocol::kV1, Protocol::kV2),
                         [](const ::testing::TestParamInfo<Protocol>& info) {
                           return info.param == Protocol::kV1 ? "V1" : "V2";
                         });

}  // namespace
}  // namespace tsvault::remote_write
