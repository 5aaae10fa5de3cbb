// Mutated-input loops: random bytes, truncations and bit flips of valid
// bodies must never crash and must always get a well-formed answer; garbage
// must get 400.
#include <gtest/gtest.h>

#include <cstring>
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

// Everything of a write as text (labels resolved by the FakeDB), bit-exact.
std::string Describe(const std::vector<storage::WriteInput>& inputs) {
  std::string out;
  for (const storage::WriteInput& input : inputs) {
    for (const storage::SeriesWrite& series : input.series) {
      out.append(LabelsToString(series.labels)).append(":");
      for (const storage::Sample& sample : series.samples) {
        uint64_t bits;
        std::memcpy(&bits, &sample.value, sizeof(bits));
        out.append(" ").append(std::to_string(sample.timestamp_ms)).append("=").append(std::to_string(bits));
      }
      for (const storage::Histogram& histogram : series.histograms) {
        out.append(" h").append(std::to_string(histogram.timestamp_ms)).append("/");
        out.append(std::to_string(histogram.count_int)).append("/");
        out.append(std::to_string(histogram.positive_deltas.size()));
      }
      for (const storage::Exemplar& exemplar : series.exemplars) {
        out.append(" e").append(LabelsToString(exemplar.labels)).append(std::to_string(exemplar.timestamp_ms));
      }
      out.append("\n");
    }
    for (const storage::MetricMetadata& metadata : input.metadata) {
      out.append("m ").append(metadata.metric_family_name).append(" ");
      out.append(std::to_string(static_cast<int>(metadata.type))).append(" ");
      out.append(metadata.help).append(" ").append(metadata.unit).append("\n");
    }
  }
  return out;
}

// Differential: a receiver with the series-reference cache and one without
// give the same answer and store the same data for every mutated body, while
// the cache holds the series of the valid body (so mutations that keep a
// series' labels intact take the hit path).
TEST_P(FuzzTest, CacheNeverChangesTheOutcome) {
  std::string protobuf;
  ASSERT_TRUE(SerializeWriteRequest(ValidInput(), GetParam(), &protobuf).ok());
  const std::string body = SnappyCompress(protobuf);
  FakeDB cached_db, plain_db;
  ReceiverOptions no_cache;
  no_cache.max_cached_series = 0;
  Receiver cached(&cached_db, ReceiverOptions{}, nullptr);
  Receiver plain(&plain_db, no_cache, nullptr);
  std::mt19937_64 random(99);
  int hits_seen = 0;
  for (int i = 0; i < kIterations / 4; ++i) {
    std::string mutated = i % 10 == 0 ? body : protobuf;  // the valid body now and then
    if (i % 10 != 0) {
      const int mutations = 1 + static_cast<int>(random() % 3);
      for (int m = 0; m < mutations && !mutated.empty(); ++m) {
        const size_t position = random() % mutated.size();
        switch (random() % 3) {
          case 0: mutated[position] = static_cast<char>(random()); break;
          case 1: mutated[position] ^= static_cast<char>(1u << (random() % 8)); break;
          default: mutated.erase(position, 1 + random() % 4); break;
        }
      }
      mutated = SnappyCompress(mutated);
    }
    http::Response with_cache, without_cache;
    cached.Handle(MakeRequest(mutated, ContentType(GetParam())), &with_cache);
    plain.Handle(MakeRequest(mutated, ContentType(GetParam())), &without_cache);
    ASSERT_EQ(with_cache.status, without_cache.status) << i << " " << with_cache.body;
    ASSERT_EQ(with_cache.body, without_cache.body) << i;
    ASSERT_EQ(with_cache.headers, without_cache.headers) << i;
    ASSERT_EQ(Describe(cached_db.appended()), Describe(plain_db.appended())) << i;
    for (const auto& input : cached_db.raw_appended()) {
      for (const auto& series : input.series) hits_seen += series.series_ref != 0 ? 1 : 0;
    }
    cached_db.ClearRecorded();
    plain_db.ClearRecorded();
  }
  EXPECT_GT(hits_seen, kIterations / 4);  // the hit path was exercised
  EXPECT_EQ(plain_db.appended_by_ref(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Protocols, FuzzTest, ::testing::Values(Protocol::kV1, Protocol::kV2),
                         [](const ::testing::TestParamInfo<Protocol>& info) {
                           return info.param == Protocol::kV1 ? "V1" : "V2";
                         });

}  // namespace
}  // namespace tsvault::remote_write
