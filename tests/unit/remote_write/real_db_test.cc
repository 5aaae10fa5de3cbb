// The receiver in front of the real storage engine (storage::DB::Open in a
// temporary directory): what a sender writes is what a reader gets back.
#include <gtest/gtest.h>

#include <prometheus/registry.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "remote_write/receiver.h"
#include "storage/db.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_db.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

using testing::FindResponseHeader;
using testing::MakeRequest;
using testing::MakeSeries;

class RealDBTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status status = tsvault::testing::OpenTestDB(dir_.path(), &db_);
    ASSERT_TRUE(status.ok()) << status.ToString();
    receiver_ = std::make_unique<Receiver>(db_.get(), ReceiverOptions{}, nullptr);
  }

  http::Response Send(const storage::WriteInput& input, Protocol protocol) {
    std::string body;
    EXPECT_TRUE(EncodeWriteRequest(input, protocol, &body).ok());
    http::Response response;
    receiver_->Handle(MakeRequest(body, ContentType(protocol)), &response);
    return response;
  }

  // (timestamp, value) pairs of the float samples of the series named `name`.
  std::vector<std::pair<int64_t, double>> Samples(const std::string& name) {
    storage::LabelMatcher matcher;
    EXPECT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kEqual, "__name__", name, &matcher).ok());
    std::unique_ptr<storage::SeriesSet> set;
    EXPECT_TRUE(db_->Select({INT64_MIN, INT64_MAX}, {matcher}, &set).ok());
    std::vector<std::pair<int64_t, double>> out;
    while (set != nullptr && set->Next()) {
      std::unique_ptr<storage::SampleIterator> it = set->Samples();
      while (it->Next()) {
        if (!it->is_histogram()) out.emplace_back(it->timestamp(), it->value());
      }
    }
    return out;
  }

  tsvault::testing::TempDir dir_;
  std::unique_ptr<storage::DB> db_;
  std::unique_ptr<Receiver> receiver_;
};

TEST_F(RealDBTest, WrittenSamplesCanBeReadBackBothProtocols) {
  storage::WriteInput v1;
  v1.series.push_back(MakeSeries({{"__name__", "http_requests_total"}, {"job", "api"}}, {{1000, 1}, {2000, 2}}));
  EXPECT_EQ(Send(v1, Protocol::kV1).status, 204);
  storage::WriteInput v2;
  v2.series.push_back(MakeSeries({{"__name__", "http_requests_total"}, {"job", "api"}}, {{3000, 3}}));
  http::Response response = Send(v2, Protocol::kV2);
  EXPECT_EQ(response.status, 204) << response.body;
  ASSERT_NE(FindResponseHeader(response, "X-Prometheus-Remote-Write-Samples-Written"), nullptr);
  EXPECT_EQ(*FindResponseHeader(response, "X-Prometheus-Remote-Write-Samples-Written"), "1");
  EXPECT_EQ(Samples("http_requests_total"),
            (std::vector<std::pair<int64_t, double>>{{1000, 1}, {2000, 2}, {3000, 3}}));
}

TEST_F(RealDBTest, RetriedRequestIsIdempotent) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"__name__", "up"}, {"instance", "a"}}, {{1000, 1}, {2000, 1}}));
  EXPECT_EQ(Send(input, Protocol::kV2).status, 204);
  http::Response retry = Send(input, Protocol::kV2);
  EXPECT_EQ(retry.status, 204) << retry.body;
  EXPECT_EQ(Samples("up").size(), 2u);
}

TEST_F(RealDBTest, ConflictingValueIs400AndOthersWritten) {
  storage::WriteInput first;
  first.series.push_back(MakeSeries({{"__name__", "temp"}}, {{1000, 20}}));
  ASSERT_EQ(Send(first, Protocol::kV2).status, 204);
  storage::WriteInput second;
  second.series.push_back(MakeSeries({{"__name__", "temp"}}, {{1000, 21}, {2000, 22}}));
  http::Response response = Send(second, Protocol::kV2);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("duplicate"), std::string::npos) << response.body;
  ASSERT_NE(FindResponseHeader(response, "X-Prometheus-Remote-Write-Samples-Written"), nullptr);
  EXPECT_EQ(*FindResponseHeader(response, "X-Prometheus-Remote-Write-Samples-Written"), "1");
  EXPECT_EQ(Samples("temp"), (std::vector<std::pair<int64_t, double>>{{1000, 20}, {2000, 22}}));
}

TEST_F(RealDBTest, MetadataIsStored) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"__name__", "rpc_seconds_count"}}, {{1000, 4}}));
  input.metadata.push_back({"rpc_seconds", storage::MetricType::kSummary, "RPC latency.", "seconds"});
  ASSERT_EQ(Send(input, Protocol::kV2).status, 204);
  std::vector<storage::MetricMetadata> metadata;
  ASSERT_TRUE(db_->Metadata("rpc_seconds", &metadata).ok());
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_EQ(metadata[0].type, storage::MetricType::kSummary);
  EXPECT_EQ(metadata[0].help, "RPC latency.");
  EXPECT_EQ(metadata[0].unit, "seconds");
}

// One receiver with the series-reference cache and one without, each on its
// own real DB, fed the same requests: what they store must be identical.
class CacheEquivalenceTest : public ::testing::Test {
 protected:
  struct Side {
    explicit Side(uint64_t max_cached_series) {
      storage::Options options;
      options.data_dir = dir.path();
      options.wal_sync = storage::WalSyncMode::kNone;
      options.background_checkpoints = false;
      Status status = storage::DB::Open(options, &db);
      EXPECT_TRUE(status.ok()) << status.ToString();
      ReceiverOptions receiver_options;
      receiver_options.max_cached_series = max_cached_series;
      receiver = std::make_unique<Receiver>(db.get(), receiver_options, &registry);
    }
    double CacheHits() {
      for (const auto& family : registry.Collect()) {
        if (family.name == "tsvault_remote_write_series_cache_hits_total") return family.metric[0].counter.value;
      }
      return -1;
    }
    tsvault::testing::TempDir dir;
    std::unique_ptr<storage::DB> db;
    prometheus::Registry registry;
    std::unique_ptr<Receiver> receiver;
  };

  // The same request to both sides; both must give the same answer.
  void SendBoth(const storage::WriteInput& input, Protocol protocol) {
    std::string body;
    ASSERT_TRUE(EncodeWriteRequest(input, protocol, &body).ok());
    http::Response cached_response, plain_response;
    cached_.receiver->Handle(MakeRequest(body, ContentType(protocol)), &cached_response);
    plain_.receiver->Handle(MakeRequest(body, ContentType(protocol)), &plain_response);
    EXPECT_EQ(cached_response.status, plain_response.status);
    EXPECT_EQ(cached_response.body, plain_response.body);
    EXPECT_EQ(cached_response.headers, plain_response.headers);
  }

  // Everything stored, as text: labels, every sample (bit-exact values) and
  // histogram, exemplars, metadata.
  static std::string Dump(storage::DB* db) {
    storage::LabelMatcher any_name;
    EXPECT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kRegexMatch, "__name__", ".+", &any_name).ok());
    std::unique_ptr<storage::SeriesSet> set;
    EXPECT_TRUE(db->Select({INT64_MIN, INT64_MAX}, {any_name}, &set).ok());
    std::string out;
    while (set != nullptr && set->Next()) {
      out += LabelsToString(set->labels()) + ":";
      std::unique_ptr<storage::SampleIterator> it = set->Samples();
      while (it->Next()) {
        if (it->is_histogram()) {
          const storage::Histogram& h = it->histogram();
          out += " h@" + std::to_string(it->timestamp()) + "=" + std::to_string(h.count_int) + "/" +
                 std::to_string(h.positive_deltas.size());
        } else {
          uint64_t bits;
          const double value = it->value();
          std::memcpy(&bits, &value, sizeof(bits));
          out += " " + std::to_string(it->timestamp()) + "=" + std::to_string(bits);
        }
      }
      out += "\n";
    }
    std::vector<std::pair<Labels, std::vector<storage::Exemplar>>> exemplars;
    EXPECT_TRUE(db->Exemplars({any_name}, INT64_MIN, INT64_MAX, &exemplars).ok());
    for (const auto& [labels, list] : exemplars) {
      for (const storage::Exemplar& exemplar : list) {
        out += "exemplar " + LabelsToString(labels) + " " + LabelsToString(exemplar.labels) + " " +
               std::to_string(exemplar.timestamp_ms) + "\n";
      }
    }
    std::vector<storage::MetricMetadata> metadata;
    EXPECT_TRUE(db->Metadata("", &metadata).ok());
    for (const auto& entry : metadata) {
      out += "metadata " + entry.metric_family_name + " " + storage::MetricTypeName(entry.type) + " " +
             entry.help + " " + entry.unit + "\n";
    }
    return out;
  }

  Side cached_{1'000'000};
  Side plain_{0};
};

TEST_F(CacheEquivalenceTest, HitPathStoresExactlyWhatTheMissPathStores) {
  for (int round = 0; round < 6; ++round) {
    storage::WriteInput input;
    for (int i = 0; i < 40; ++i) {
      Labels labels = {{"__name__", "http_requests_total"}, {"instance", "host" + std::to_string(i)},
                       {"job", "api"}};
      if (i % 3 == 0) std::swap(labels[0], labels[2]);  // unsorted on the wire
      if (i % 5 == 0 && round % 2 == 1) labels.push_back({"zz_empty", ""});  // another key, same series
      const int64_t t = 1000 * (round + 1);
      input.series.push_back(MakeSeries(labels, {{t, round * 100.0 + i}, {t + 500, std::nan("")}}));
    }
    storage::SeriesWrite histogram_series;
    histogram_series.labels = {{"__name__", "latency_seconds"}, {"job", "api"}};
    storage::Histogram histogram;
    histogram.timestamp_ms = 1000 * (round + 1);
    histogram.count_int = 3 + round;
    histogram.positive_spans = {{0, 2}};
    histogram.positive_deltas = {1, 1};
    histogram_series.histograms.push_back(histogram);
    storage::Exemplar exemplar;
    exemplar.labels = {{"trace_id", "t" + std::to_string(round)}};
    exemplar.value = 0.25;
    exemplar.timestamp_ms = histogram.timestamp_ms;
    histogram_series.exemplars.push_back(exemplar);
    input.series.push_back(histogram_series);
    input.series.push_back(MakeSeries({{"job", "bad"}}, {{1000, 1}}));  // rejected every time
    input.metadata.push_back({"http_requests_total", storage::MetricType::kCounter,
                              "Requests, round " + std::to_string(round), ""});
    SendBoth(input, round % 2 == 0 ? Protocol::kV1 : Protocol::kV2);
  }
  const std::string cached = Dump(cached_.db.get());
  EXPECT_EQ(cached, Dump(plain_.db.get()));
  EXPECT_NE(cached.find("host39"), std::string::npos);
  EXPECT_NE(cached.find("exemplar"), std::string::npos);
  EXPECT_NE(cached.find("round 5"), std::string::npos);
  EXPECT_GT(cached_.CacheHits(), 150);  // most series of rounds 2-6 were hits
  EXPECT_EQ(plain_.CacheHits(), 0);
  EXPECT_EQ(cached_.db->Stats().series_total, plain_.db->Stats().series_total);
}

}  // namespace
}  // namespace tsvault::remote_write
