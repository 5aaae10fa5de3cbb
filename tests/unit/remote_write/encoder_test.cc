// Encoder tests and encode -> Handle round trips for both protocol versions.
#include "remote_write/encoder.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <cmath>
#include <cstring>
#include <set>

#include "remote_write/receiver.h"
#include "proto/remote_write_v1.pb.h"
#include "proto/remote_write_v2.pb.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

using testing::FakeDB;
using testing::MakeRequest;
using testing::MakeSeries;

bool SameSample(const storage::Sample& a, const storage::Sample& b) {
  // Bitwise value equality, so NaNs (including stale markers) compare.
  return a.timestamp_ms == b.timestamp_ms && std::memcmp(&a.value, &b.value, sizeof(double)) == 0;
}

void ExpectSameInput(const storage::WriteInput& expected, const storage::WriteInput& actual) {
  ASSERT_EQ(expected.series.size(), actual.series.size());
  for (size_t i = 0; i < expected.series.size(); ++i) {
    SCOPED_TRACE("series " + std::to_string(i));
    const storage::SeriesWrite& want = expected.series[i];
    const storage::SeriesWrite& got = actual.series[i];
    EXPECT_EQ(want.labels, got.labels);
    ASSERT_EQ(want.samples.size(), got.samples.size());
    for (size_t k = 0; k < want.samples.size(); ++k) EXPECT_TRUE(SameSample(want.samples[k], got.samples[k])) << k;
    EXPECT_EQ(want.histograms, got.histograms);
    ASSERT_EQ(want.exemplars.size(), got.exemplars.size());
    for (size_t k = 0; k < want.exemplars.size(); ++k) {
      EXPECT_EQ(want.exemplars[k].labels, got.exemplars[k].labels);
      EXPECT_EQ(want.exemplars[k].value, got.exemplars[k].value);
      EXPECT_EQ(want.exemplars[k].timestamp_ms, got.exemplars[k].timestamp_ms);
    }
  }
  ASSERT_EQ(expected.metadata.size(), actual.metadata.size());
  for (size_t i = 0; i < expected.metadata.size(); ++i) {
    EXPECT_EQ(expected.metadata[i].metric_family_name, actual.metadata[i].metric_family_name);
    EXPECT_EQ(expected.metadata[i].type, actual.metadata[i].type);
    EXPECT_EQ(expected.metadata[i].help, actual.metadata[i].help);
    EXPECT_EQ(expected.metadata[i].unit, actual.metadata[i].unit);
  }
}

storage::Histogram IntegerHistogram(int64_t timestamp) {
  storage::Histogram h;
  h.timestamp_ms = timestamp;
  h.count_int = 7;
  h.sum = 12.5;
  h.schema = 1;
  h.zero_threshold = 0.001;
  h.zero_count_int = 1;
  h.positive_spans = {{0, 2}, {3, 1}};
  h.positive_deltas = {2, 1, -1};
  h.negative_spans = {{-1, 1}};
  h.negative_deltas = {1};
  h.reset_hint = storage::ResetHint::kNo;
  return h;
}

storage::Histogram CustomBucketsFloatHistogram(int64_t timestamp) {
  storage::Histogram h;
  h.timestamp_ms = timestamp;
  h.is_float = true;
  h.count_float = 6.5;
  h.sum = 3;
  h.schema = -53;
  h.positive_spans = {{0, 3}};
  h.positive_counts = {1.5, 2, 3};
  h.custom_values = {0.1, 0.5, 1};
  h.reset_hint = storage::ResetHint::kGauge;
  return h;
}

// Canonical (sorted) input that both protocols can carry losslessly.
storage::WriteInput SampleInput(bool with_custom_buckets) {
  storage::WriteInput input;
  double stale;
  const uint64_t stale_bits = storage::kStaleNaNBits;
  std::memcpy(&stale, &stale_bits, sizeof(stale));
  input.series.push_back(MakeSeries({{"__name__", "http_requests_total"}, {"job", "api"}, {"method", "GET"}},
                                    {{1000, 1}, {2000, 2.5}, {3000, stale}}));
  input.series.push_back(MakeSeries({{"__name__", "http_requests_total"}, {"job", "api"}, {"method", "POST"}},
                                    {{1000, -0.0}, {2000, 1e300}}));
  storage::SeriesWrite histograms;
  histograms.labels = {{"__name__", "rpc_latency_seconds"}, {"job", "api"}};
  histograms.histograms.push_back(IntegerHistogram(1000));
  if (with_custom_buckets) histograms.histograms.push_back(CustomBucketsFloatHistogram(2000));
  storage::Exemplar exemplar;
  exemplar.labels = {{"span_id", "s1"}, {"trace_id", "abc"}};
  exemplar.value = 0.3;
  exemplar.timestamp_ms = 999;
  histograms.exemplars.push_back(exemplar);
  input.series.push_back(histograms);
  input.metadata.push_back({"http_requests_total", storage::MetricType::kCounter, "Requests.", ""});
  input.metadata.push_back({"rpc_latency_seconds", storage::MetricType::kHistogram, "Latency.", "seconds"});
  return input;
}

storage::WriteInput RoundTrip(const storage::WriteInput& input, Protocol protocol, http::Response* response) {
  std::string body;
  EXPECT_TRUE(EncodeWriteRequest(input, protocol, &body).ok());
  FakeDB db;
  Receiver receiver(&db, ReceiverOptions{}, nullptr);
  receiver.Handle(MakeRequest(body, ContentType(protocol)), response);
  std::vector<storage::WriteInput> appended = db.appended();
  EXPECT_EQ(appended.size(), 1u);
  return appended.empty() ? storage::WriteInput{} : appended[0];
}

TEST(EncoderTest, ContentTypes) {
  EXPECT_STREQ(ContentType(Protocol::kV1), "application/x-protobuf");
  EXPECT_STREQ(ContentType(Protocol::kV2), "application/x-protobuf;proto=io.prometheus.write.v2.Request");
}

TEST(EncoderTest, WriteRequestHeaders) {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(WriteRequestHeaders(Protocol::kV1),
            (Headers{{"Content-Type", "application/x-protobuf"},
                     {"Content-Encoding", "snappy"},
                     {"X-Prometheus-Remote-Write-Version", "0.1.0"}}));
  EXPECT_EQ(WriteRequestHeaders(Protocol::kV2),
            (Headers{{"Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request"},
                     {"Content-Encoding", "snappy"},
                     {"X-Prometheus-Remote-Write-Version", "2.0.0"}}));
}

TEST(EncoderTest, RoundTripV1) {
  const storage::WriteInput input = SampleInput(/*with_custom_buckets=*/false);
  http::Response response;
  storage::WriteInput received = RoundTrip(input, Protocol::kV1, &response);
  EXPECT_EQ(response.status, 204) << response.body;
  ExpectSameInput(input, received);
}

TEST(EncoderTest, RoundTripV2) {
  const storage::WriteInput input = SampleInput(/*with_custom_buckets=*/true);
  http::Response response;
  storage::WriteInput received = RoundTrip(input, Protocol::kV2, &response);
  EXPECT_EQ(response.status, 204) << response.body;
  ExpectSameInput(input, received);
}

TEST(EncoderTest, V2SymbolsStartEmptyAndAreDeduplicated) {
  const storage::WriteInput input = SampleInput(true);
  std::string protobuf;
  ASSERT_TRUE(SerializeWriteRequest(input, Protocol::kV2, &protobuf).ok());
  io::prometheus::write::v2::Request request;
  ASSERT_TRUE(request.ParseFromString(protobuf));
  ASSERT_GT(request.symbols_size(), 0);
  EXPECT_EQ(request.symbols(0), "");
  std::set<std::string> unique(request.symbols().begin(), request.symbols().end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(request.symbols_size()));
  EXPECT_TRUE(unique.count("http_requests_total"));
  EXPECT_TRUE(unique.count("Latency."));
  // Every series carries metadata of its family.
  ASSERT_EQ(request.timeseries_size(), 3);
  EXPECT_EQ(request.timeseries(0).metadata().type(), io::prometheus::write::v2::Metadata::METRIC_TYPE_COUNTER);
  EXPECT_EQ(request.symbols(static_cast<int>(request.timeseries(2).metadata().unit_ref())), "seconds");
}

TEST(EncoderTest, V2SplitsSeriesWithSamplesAndHistograms) {
  storage::WriteInput input;
  storage::SeriesWrite mixed = MakeSeries({{"__name__", "m"}}, {{1000, 1}});
  mixed.histograms.push_back(IntegerHistogram(2000));
  input.series.push_back(mixed);
  std::string protobuf;
  ASSERT_TRUE(SerializeWriteRequest(input, Protocol::kV2, &protobuf).ok());
  io::prometheus::write::v2::Request request;
  ASSERT_TRUE(request.ParseFromString(protobuf));
  ASSERT_EQ(request.timeseries_size(), 2);
  EXPECT_EQ(request.timeseries(0).samples_size(), 1);
  EXPECT_EQ(request.timeseries(0).histograms_size(), 0);
  EXPECT_EQ(request.timeseries(1).histograms_size(), 1);
  EXPECT_EQ(request.timeseries(1).labels_refs_size(), 2);
}

TEST(EncoderTest, V2MetadataWithoutSeriesTravelsOnSamplelessSeries) {
  storage::WriteInput input;
  input.metadata.push_back({"process_start_time_seconds", storage::MetricType::kGauge, "Start time.", "seconds"});
  http::Response response;
  storage::WriteInput received = RoundTrip(input, Protocol::kV2, &response);
  EXPECT_EQ(response.status, 204) << response.body;
  ExpectSameInput(input, received);
}

TEST(EncoderTest, V1KeepsLabelOrderAsGiven) {
  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"z", "1"}, {"__name__", "m"}}, {{1, 1}}));
  std::string protobuf;
  ASSERT_TRUE(SerializeWriteRequest(input, Protocol::kV1, &protobuf).ok());
  prometheus::WriteRequest request;
  ASSERT_TRUE(request.ParseFromString(protobuf));
  ASSERT_EQ(request.timeseries(0).labels_size(), 2);
  EXPECT_EQ(request.timeseries(0).labels(0).name(), "z");
}

TEST(EncoderTest, SnappyCompressIsBlockFormat) {
  const std::string data(10000, 'a');
  const std::string compressed = SnappyCompress(data);
  EXPECT_LT(compressed.size(), data.size());
  std::string restored;
  ASSERT_TRUE(snappy::Uncompress(compressed.data(), compressed.size(), &restored));
  EXPECT_EQ(restored, data);
}

}  // namespace
}  // namespace tsvault::remote_write
