// The receiver in front of the real storage engine (storage::DB::Open in a
// temporary directory): what a sender writes is what a reader gets back.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "remote_write/receiver.h"
#include "storage/db.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

using testing::FindResponseHeader;
using testing::MakeRequest;
using testing::MakeSeries;

class RealDBTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options options;
    options.data_dir = dir_.path();
    options.wal_sync = storage::WalSyncMode::kNone;
    options.background_checkpoints = false;
    Status status = storage::DB::Open(options, &db_);
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
    EXPECT_TRUE(db_->Select({matcher}, INT64_MIN, INT64_MAX, &set).ok());
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

}  // namespace
}  // namespace tsvault::remote_write
