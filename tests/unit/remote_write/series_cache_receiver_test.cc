// The receiver's series-reference cache, seen through Receiver::Handle and a
// FakeDB that hands out references: hits, misses, what never gets cached,
// the fallback when storage refuses a reference, bounds and threads.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "remote_write/receiver.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

using testing::FakeDB;
using testing::FindResponseHeader;
using testing::MakeRequest;
using testing::MakeSeries;

storage::Histogram SmallHistogram(int64_t timestamp) {
  storage::Histogram histogram;
  histogram.timestamp_ms = timestamp;
  histogram.count_int = 3;
  histogram.positive_spans = {{0, 2}};
  histogram.positive_deltas = {1, 1};
  return histogram;
}

class SeriesCacheReceiverTest : public ::testing::TestWithParam<Protocol> {
 protected:
  void SetUp() override { Reset(ReceiverOptions{}); }
  void Reset(ReceiverOptions options) { receiver_ = std::make_unique<Receiver>(&db_, options, nullptr); }

  http::Response Send(const storage::WriteInput& input, Protocol protocol) {
    std::string body;
    EXPECT_TRUE(EncodeWriteRequest(input, protocol, &body).ok());
    http::Response response;
    receiver_->Handle(MakeRequest(body, ContentType(protocol)), &response);
    return response;
  }
  http::Response Send(const storage::WriteInput& input) { return Send(input, GetParam()); }

  // The last append exactly as storage received it.
  storage::WriteInput LastRaw() {
    auto raw = db_.raw_appended();
    return raw.empty() ? storage::WriteInput{} : raw.back();
  }

  FakeDB db_;
  std::unique_ptr<Receiver> receiver_;
};

TEST_P(SeriesCacheReceiverTest, SecondRequestComesByReferenceWithSameData) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"__name__", "up"}, {"job", "a"}}, {{1000, 1}}));
  input.series.push_back(MakeSeries({{"__name__", "up"}, {"job", "b"}}, {{1000, 2}, {2000, 3}}));
  ASSERT_EQ(Send(input).status, 204);
  EXPECT_EQ(db_.appended_by_ref(), 0u);
  EXPECT_EQ(receiver_->CachedSeries(), 2u);

  input.series[0].samples = {{3000, 4}};
  input.series[1].samples = {{3000, 5}};
  ASSERT_EQ(Send(input).status, 204);
  EXPECT_EQ(db_.appended_by_ref(), 2u);
  const storage::WriteInput raw = LastRaw();
  ASSERT_EQ(raw.series.size(), 2u);
  for (const storage::SeriesWrite& series : raw.series) {
    EXPECT_TRUE(series.labels.empty());  // no label decoding on a hit
    EXPECT_NE(series.series_ref, 0u);
  }
  // Resolved through storage's references: the right series got the right samples.
  const auto appended = db_.appended();
  ASSERT_EQ(appended.size(), 2u);
  EXPECT_EQ(appended[1].series[0].labels, (Labels{{"__name__", "up"}, {"job", "a"}}));
  EXPECT_EQ(appended[1].series[0].samples[0].value, 4);
  EXPECT_EQ(appended[1].series[1].labels, (Labels{{"__name__", "up"}, {"job", "b"}}));
  EXPECT_EQ(appended[1].series[1].samples[0].value, 5);
  EXPECT_EQ(appended[0].series[1].series_ref, appended[1].series[1].series_ref);
}

TEST_P(SeriesCacheReceiverTest, LabelOrderVariationsAreDistinctKeysForOneSeries) {
  storage::WriteInput sorted;
  sorted.series.push_back(MakeSeries({{"__name__", "up"}, {"job", "a"}, {"zone", "z"}}, {{1000, 1}}));
  storage::WriteInput unsorted;
  unsorted.series.push_back(MakeSeries({{"zone", "z"}, {"job", "a"}, {"__name__", "up"}}, {{2000, 2}}));
  storage::WriteInput with_empty;  // an empty value means "absent"
  with_empty.series.push_back(
      MakeSeries({{"__name__", "up"}, {"extra", ""}, {"job", "a"}, {"zone", "z"}}, {{3000, 3}}));
  ASSERT_EQ(Send(sorted).status, 204);
  ASSERT_EQ(Send(unsorted).status, 204);  // a miss: different wire order ...
  EXPECT_FALSE(LastRaw().series[0].labels.empty());
  ASSERT_EQ(Send(with_empty).status, 204);  // ... and different wire labels
  EXPECT_FALSE(LastRaw().series[0].labels.empty());
  EXPECT_EQ(db_.appended_by_ref(), 0u);
  EXPECT_EQ(receiver_->CachedSeries(), 3u);
  // ... all resolved by storage to the same series, which each key now names.
  const auto appended = db_.appended();
  ASSERT_EQ(appended.size(), 3u);
  EXPECT_EQ(appended[0].series[0].series_ref, appended[1].series[0].series_ref);
  EXPECT_EQ(appended[0].series[0].series_ref, appended[2].series[0].series_ref);
  for (const storage::WriteInput* input : {&sorted, &unsorted, &with_empty}) {
    ASSERT_EQ(Send(*input).status, 204);
    EXPECT_EQ(LastRaw().series[0].series_ref, appended[0].series[0].series_ref);
    EXPECT_TRUE(LastRaw().series[0].labels.empty());
  }
}

TEST_P(SeriesCacheReceiverTest, BadSeriesNeverEnterTheCacheAndAreReportedEveryTime) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"job", "no-name"}}, {{1000, 1}}));
  input.series.push_back(MakeSeries({{"__name__", "dup"}, {"a", "1"}, {"a", "2"}}, {{1000, 1}}));
  input.series.push_back(MakeSeries({{"__name__", "ok"}}, {{1000, 1}}));
  for (int round = 0; round < 3; ++round) {
    http::Response response = Send(input);
    EXPECT_EQ(response.status, 400) << round;
    EXPECT_NE(response.body.find("missing_metric_name"), std::string::npos) << response.body;
    EXPECT_NE(response.body.find("duplicate_label"), std::string::npos) << response.body;
    EXPECT_NE(response.body.find("no-name"), std::string::npos) << response.body;
    EXPECT_EQ(receiver_->CachedSeries(), 1u);  // only {__name__="ok"}
    ASSERT_EQ(LastRaw().series.size(), 1u);
  }
  EXPECT_EQ(db_.appended_by_ref(), 2u);  // "ok" in rounds 2 and 3
}

TEST_P(SeriesCacheReceiverTest, HitWithOtherProblemIsRejectedWithItsLabels) {
  storage::WriteInput good;
  good.series.push_back(MakeSeries({{"__name__", "lat"}, {"job", "api"}}, {{1000, 1}}));
  ASSERT_EQ(Send(good).status, 204);
  // The same labels, now with an invalid histogram (spans say 2 buckets, 1 given).
  storage::WriteInput bad;
  storage::SeriesWrite series;
  series.labels = {{"__name__", "lat"}, {"job", "api"}};
  storage::Histogram histogram = SmallHistogram(2000);
  histogram.positive_deltas = {1};
  series.histograms.push_back(histogram);
  bad.series.push_back(series);
  bad.series.push_back(MakeSeries({{"__name__", "other"}}, {{1000, 1}}));
  http::Response response = Send(bad);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("invalid_histogram"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("{__name__=\"lat\", job=\"api\"}"), std::string::npos) << response.body;
  ASSERT_EQ(LastRaw().series.size(), 1u);
  EXPECT_EQ(db_.appended().back().series[0].labels, (Labels{{"__name__", "other"}}));
}

TEST_P(SeriesCacheReceiverTest, DuplicateSeriesInOneRequest) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"__name__", "up"}}, {{1000, 1}}));
  input.series.push_back(MakeSeries({{"__name__", "up"}}, {{2000, 2}}));
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(Send(input).status, 204);
    const auto appended = db_.appended().back();
    ASSERT_EQ(appended.series.size(), 2u);
    EXPECT_EQ(appended.series[0].series_ref, appended.series[1].series_ref);
    EXPECT_EQ(appended.series[1].samples[0].timestamp_ms, 2000);
  }
  EXPECT_EQ(db_.appended_by_ref(), 2u);
  EXPECT_EQ(receiver_->CachedSeries(), 1u);
}

TEST_P(SeriesCacheReceiverTest, HistogramsExemplarsAndHeadersOnTheHitPath) {
  storage::WriteInput input;
  storage::SeriesWrite series;
  series.labels = {{"__name__", "lat"}, {"job", "api"}};
  series.histograms.push_back(SmallHistogram(1000));
  storage::Exemplar exemplar;
  exemplar.labels = {{"trace_id", "t1"}};
  exemplar.value = 0.5;
  exemplar.timestamp_ms = 1000;
  series.exemplars.push_back(exemplar);
  input.series.push_back(series);
  input.series.push_back(MakeSeries({{"__name__", "up"}}, {{1000, 1}, {2000, 1}}));
  for (int round = 0; round < 2; ++round) {
    http::Response response = Send(input);
    ASSERT_EQ(response.status, 204) << response.body;
    if (GetParam() == Protocol::kV2) {
      EXPECT_EQ(*FindResponseHeader(response, "X-Prometheus-Remote-Write-Samples-Written"), "2");
      EXPECT_EQ(*FindResponseHeader(response, "X-Prometheus-Remote-Write-Histograms-Written"), "1");
      EXPECT_EQ(*FindResponseHeader(response, "X-Prometheus-Remote-Write-Exemplars-Written"), "1");
    }
  }
  EXPECT_EQ(db_.appended_by_ref(), 2u);
  const auto appended = db_.appended();
  ASSERT_EQ(appended.size(), 2u);
  const storage::SeriesWrite& hit = appended[1].series[0];
  EXPECT_EQ(hit.labels, series.labels);
  ASSERT_EQ(hit.histograms.size(), 1u);
  EXPECT_EQ(hit.histograms[0], series.histograms[0]);
  ASSERT_EQ(hit.exemplars.size(), 1u);
  EXPECT_EQ(hit.exemplars[0].labels, exemplar.labels);
  EXPECT_EQ(hit.exemplars[0].value, 0.5);
}

TEST_P(SeriesCacheReceiverTest, MetadataOnTheHitPath) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"job", "api"}, {"__name__", "rpc_seconds_count"}}, {{1000, 4}}));
  input.metadata.push_back({"rpc_seconds", storage::MetricType::kSummary, "RPC latency.", "seconds"});
  for (int round = 0; round < 2; ++round) ASSERT_EQ(Send(input).status, 204);
  EXPECT_EQ(db_.appended_by_ref(), 1u);
  const auto appended = db_.appended();
  ASSERT_EQ(appended.size(), 2u);
  for (const auto& write : appended) {
    ASSERT_EQ(write.metadata.size(), 1u);
    EXPECT_EQ(write.metadata[0].metric_family_name, "rpc_seconds");  // 2.0: from the series name
    EXPECT_EQ(write.metadata[0].type, storage::MetricType::kSummary);
    EXPECT_EQ(write.metadata[0].help, "RPC latency.");
    EXPECT_EQ(write.metadata[0].unit, "seconds");
  }
}

TEST_P(SeriesCacheReceiverTest, StorageRefusingAReferenceFallsBackToLabels) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"__name__", "up"}}, {{1000, 1}}));
  ASSERT_EQ(Send(input).status, 204);
  db_.ForgetRefs();
  input.series[0].samples = {{2000, 2}};
  http::Response response = Send(input);
  EXPECT_EQ(response.status, 204) << response.body;
  EXPECT_EQ(db_.unknown_ref_errors(), 1u);
  ASSERT_EQ(LastRaw().series.size(), 1u);
  EXPECT_EQ(LastRaw().series[0].labels, (Labels{{"__name__", "up"}}));
  EXPECT_EQ(LastRaw().series[0].samples[0].timestamp_ms, 2000);
  // The cache was emptied; the next request repopulates it.
  EXPECT_EQ(receiver_->CachedSeries(), 0u);
  ASSERT_EQ(Send(input).status, 204);
  EXPECT_EQ(receiver_->CachedSeries(), 1u);
  ASSERT_EQ(Send(input).status, 204);
  EXPECT_TRUE(LastRaw().series[0].labels.empty());
}

TEST_P(SeriesCacheReceiverTest, FailedAppendCachesNothing) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"__name__", "up"}}, {{1000, 1}}));
  db_.FailWith(Status::IOError("disk on fire"));
  EXPECT_EQ(Send(input).status, 500);
  EXPECT_EQ(receiver_->CachedSeries(), 0u);
  db_.FailWith(Status::OK());
  EXPECT_EQ(Send(input).status, 204);
  EXPECT_EQ(receiver_->CachedSeries(), 1u);
}

TEST_P(SeriesCacheReceiverTest, StorageWithoutReferencesOrDisabledCache) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"__name__", "up"}}, {{1000, 1}}));
  db_.StopIssuingRefs();
  for (int round = 0; round < 2; ++round) EXPECT_EQ(Send(input).status, 204);
  EXPECT_EQ(receiver_->CachedSeries(), 0u);
  EXPECT_EQ(db_.appended_by_ref(), 0u);

  FakeDB other;
  ReceiverOptions options;
  options.max_cached_series = 0;
  Receiver disabled(&other, options, nullptr);
  std::string body;
  ASSERT_TRUE(EncodeWriteRequest(input, GetParam(), &body).ok());
  for (int round = 0; round < 2; ++round) {
    http::Response response;
    disabled.Handle(MakeRequest(body, ContentType(GetParam())), &response);
    EXPECT_EQ(response.status, 204);
  }
  EXPECT_EQ(disabled.CachedSeries(), 0u);
  EXPECT_EQ(other.appended_by_ref(), 0u);
}

TEST_P(SeriesCacheReceiverTest, BoundIsRespected) {
  ReceiverOptions options;
  options.max_cached_series = 16;
  Reset(options);
  for (int request = 0; request < 10; ++request) {
    storage::WriteInput input;
    for (int i = 0; i < 40; ++i) {
      input.series.push_back(MakeSeries({{"__name__", "m"}, {"i", std::to_string(request * 40 + i)}}, {{1000, 1}}));
    }
    ASSERT_EQ(Send(input).status, 204);
    EXPECT_LE(receiver_->CachedSeries(), 16u);
  }
  EXPECT_GT(receiver_->CachedSeries(), 0u);
  // Everything was written, hits or not, each to its own series.
  const auto series = db_.series();
  ASSERT_EQ(series.size(), 400u);
  for (size_t i = 0; i < series.size(); ++i) EXPECT_EQ(series[i].labels[1].value, std::to_string(i));
}

INSTANTIATE_TEST_SUITE_P(Protocols, SeriesCacheReceiverTest, ::testing::Values(Protocol::kV1, Protocol::kV2),
                         [](const ::testing::TestParamInfo<Protocol>& info) {
                           return info.param == Protocol::kV1 ? "V1" : "V2";
                         });

TEST(SeriesCacheSharingTest, Version1AndVersion2ShareReferences) {
  FakeDB db;
  Receiver receiver(&db, ReceiverOptions{}, nullptr);
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"__name__", "up"}, {"job", "a"}}, {{1000, 1}}));
  for (Protocol protocol : {Protocol::kV1, Protocol::kV2, Protocol::kV1}) {
    std::string body;
    ASSERT_TRUE(EncodeWriteRequest(input, protocol, &body).ok());
    http::Response response;
    receiver.Handle(MakeRequest(body, ContentType(protocol)), &response);
    ASSERT_EQ(response.status, 204) << response.body;
  }
  EXPECT_EQ(db.appended_by_ref(), 2u);  // the 2.0 request and the second 1.0 one
  EXPECT_EQ(receiver.CachedSeries(), 1u);
}

}  // namespace
}  // namespace tsvault::remote_write
