// Receiver behaviour for Remote Write 1.0 requests (prometheus.WriteRequest).
#include <gtest/gtest.h>
#include <snappy.h>

#include <string>

#include "remote_write/receiver.h"
#include "proto/remote_write_v1.pb.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

using testing::FakeDB;
using testing::FindResponseHeader;
using testing::MakeRequest;

constexpr const char* kV1Type = "application/x-protobuf;proto=prometheus.WriteRequest";

void AddLabel(prometheus::TimeSeries* ts, const std::string& name, const std::string& value) {
  prometheus::Label* label = ts->add_labels();
  label->set_name(name);
  label->set_value(value);
}

prometheus::TimeSeries* AddSeries(prometheus::WriteRequest* request,
                                  std::vector<std::pair<std::string, std::string>> labels,
                                  int64_t timestamp = 1000, double value = 1) {
  prometheus::TimeSeries* ts = request->add_timeseries();
  for (auto& [name, label_value] : labels) AddLabel(ts, name, label_value);
  prometheus::Sample* sample = ts->add_samples();
  sample->set_timestamp(timestamp);
  sample->set_value(value);
  return ts;
}

class ReceiverV1Test : public ::testing::Test {
 protected:
  void SetUp() override { Reset(ReceiverOptions{}); }
  void Reset(ReceiverOptions options) { receiver_ = std::make_unique<Receiver>(&db_, options, nullptr); }

  http::Response SendProto(const prometheus::WriteRequest& request, const char* type = kV1Type) {
    return SendBody(SnappyCompress(request.SerializeAsString()), type);
  }
  http::Response SendBody(std::string body, const char* type = kV1Type) {
    http::Response response;
    receiver_->Handle(MakeRequest(std::move(body), type), &response);
    return response;
  }
  static void ExpectNoV2Headers(const http::Response& response) {
    EXPECT_EQ(FindResponseHeader(response, "X-Prometheus-Remote-Write-Samples-Written"), nullptr);
    EXPECT_EQ(FindResponseHeader(response, "X-Prometheus-Remote-Write-Histograms-Written"), nullptr);
    EXPECT_EQ(FindResponseHeader(response, "X-Prometheus-Remote-Write-Exemplars-Written"), nullptr);
  }

  FakeDB db_;
  std::unique_ptr<Receiver> receiver_;
};

TEST_F(ReceiverV1Test, ValidRequestIs204WithEmptyBodyAndNoWrittenHeaders) {
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "http_requests_total"}, {"job", "api"}}, 1000, 5);
  AddSeries(&request, {{"__name__", "up"}, {"job", "api"}}, 2000, 1);
  for (const char* type : {kV1Type, "application/x-protobuf"}) {
    http::Response response = SendProto(request, type);
    EXPECT_EQ(response.status, 204) << response.body;
    EXPECT_TRUE(response.body.empty());
    ExpectNoV2Headers(response);
  }
  std::vector<storage::SeriesWrite> series = db_.series();
  ASSERT_EQ(series.size(), 4u);
  EXPECT_EQ(series[0].labels, (Labels{{"__name__", "http_requests_total"}, {"job", "api"}}));
  ASSERT_EQ(series[0].samples.size(), 1u);
  EXPECT_EQ(series[0].samples[0].timestamp_ms, 1000);
  EXPECT_EQ(series[0].samples[0].value, 5);
  EXPECT_EQ(series[1].labels, (Labels{{"__name__", "up"}, {"job", "api"}}));
}

TEST_F(ReceiverV1Test, UnsortedLabelsAreSortedNotRejected) {
  prometheus::WriteRequest request;
  AddSeries(&request, {{"zone", "b"}, {"job", "api"}, {"__name__", "up"}, {"instance", "h:1"}});
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 204) << response.body;
  std::vector<storage::SeriesWrite> series = db_.series();
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].labels,
            (Labels{{"__name__", "up"}, {"instance", "h:1"}, {"job", "api"}, {"zone", "b"}}));
}

TEST_F(ReceiverV1Test, EmptyValuedLabelsAreDropped) {
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "up"}, {"env", ""}, {"job", "api"}});
  EXPECT_EQ(SendProto(request).status, 204);
  ASSERT_EQ(db_.series().size(), 1u);
  EXPECT_EQ(db_.series()[0].labels, (Labels{{"__name__", "up"}, {"job", "api"}}));
}

TEST_F(ReceiverV1Test, EmptyRequestIs204WithoutAppend) {
  prometheus::WriteRequest request;
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(ReceiverV1Test, MetadataOnlyRequestIs204AndStored) {
  prometheus::WriteRequest request;
  prometheus::MetricMetadata* metadata = request.add_metadata();
  metadata->set_type(prometheus::MetricMetadata::COUNTER);
  metadata->set_metric_family_name("http_requests_total");
  metadata->set_help("Requests served.");
  metadata->set_unit("");
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 204) << response.body;
  std::vector<storage::WriteInput> appended = db_.appended();
  ASSERT_EQ(appended.size(), 1u);
  ASSERT_EQ(appended[0].metadata.size(), 1u);
  EXPECT_EQ(appended[0].metadata[0].metric_family_name, "http_requests_total");
  EXPECT_EQ(appended[0].metadata[0].type, storage::MetricType::kCounter);
  EXPECT_EQ(appended[0].metadata[0].help, "Requests served.");
  EXPECT_TRUE(appended[0].series.empty());
}

TEST_F(ReceiverV1Test, InvalidMetadataEntryIs400OthersKept) {
  prometheus::WriteRequest request;
  request.add_metadata()->set_help("no family name");
  prometheus::MetricMetadata* good = request.add_metadata();
  good->set_type(prometheus::MetricMetadata::GAUGE);
  good->set_metric_family_name("temperature");
  prometheus::MetricMetadata* bad_utf8 = request.add_metadata();
  bad_utf8->set_metric_family_name("x");
  bad_utf8->set_help("bad \xc3\x28");
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("missing_metric_name"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("invalid_utf8"), std::string::npos) << response.body;
  std::vector<storage::WriteInput> appended = db_.appended();
  ASSERT_EQ(appended.size(), 1u);
  ASSERT_EQ(appended[0].metadata.size(), 1u);
  EXPECT_EQ(appended[0].metadata[0].metric_family_name, "temperature");
}

// Each validation rule: the bad series is rejected with 400 naming the
// problem and the series, the good series of the same request is written.
struct BadSeriesCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> labels;
  const char* reason;
  const char* body_mentions;
};

class ReceiverV1ValidationTest : public ReceiverV1Test,
                                 public ::testing::WithParamInterface<BadSeriesCase> {};

TEST_P(ReceiverV1ValidationTest, BadSeriesRejectedGoodSeriesWritten) {
  ReceiverOptions options;
  options.max_labels_per_series = 5;
  options.max_label_name_bytes = 20;
  options.max_label_value_bytes = 30;
  Reset(options);
  const BadSeriesCase& bad = GetParam();

  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "good_before"}, {"job", "a"}});
  AddSeries(&request, bad.labels, 1000, 7);
  AddSeries(&request, {{"__name__", "good_after"}, {"job", "a"}});
  http::Response response = SendProto(request);

  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find(bad.reason), std::string::npos) << response.body;
  EXPECT_NE(response.body.find(bad.body_mentions), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("1 of 3 series rejected"), std::string::npos) << response.body;
  ExpectNoV2Headers(response);
  std::vector<storage::SeriesWrite> series = db_.series();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(MetricName(series[0].labels), "good_before");
  EXPECT_EQ(MetricName(series[1].labels), "good_after");
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ReceiverV1ValidationTest,
    ::testing::Values(
        BadSeriesCase{"MissingName", {{"job", "a"}, {"instance", "x"}}, "missing_metric_name", "instance=\"x\""},
        BadSeriesCase{"EmptyName", {{"__name__", ""}, {"job", "a"}}, "missing_metric_name", "job=\"a\""},
        BadSeriesCase{"DuplicateLabel", {{"__name__", "m"}, {"job", "a"}, {"job", "b"}}, "duplicate_label", "\"job\""},
        BadSeriesCase{"DuplicateUnsorted", {{"job", "a"}, {"__name__", "m"}, {"job", "b"}}, "duplicate_label", "\"job\""},
        BadSeriesCase{"EmptyLabelName", {{"__name__", "m"}, {"", "v"}}, "empty_label_name", "\"v\""},
        BadSeriesCase{"TooManyLabels",
                      {{"__name__", "m"}, {"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}},
                      "too_many_labels", "6 labels, limit 5"},
        BadSeriesCase{"NameTooLong", {{"__name__", "m"}, {std::string(21, 'n'), "v"}}, "label_too_long", "limit 20"},
        BadSeriesCase{"ValueTooLong", {{"__name__", "m"}, {"path", std::string(31, 'v')}}, "label_too_long", "limit 30"},
        BadSeriesCase{"InvalidUtf8Value", {{"__name__", "m"}, {"path", "a\xff" "b"}}, "invalid_utf8", "\\xff"},
        BadSeriesCase{"InvalidUtf8Name", {{"__name__", "m"}, {"p\xc0\xaf", "x"}}, "invalid_utf8", "not valid UTF-8"},
        BadSeriesCase{"SurrogateInValue", {{"__name__", "m"}, {"p", "\xed\xa0\x80"}}, "invalid_utf8", "not valid UTF-8"}),
    [](const ::testing::TestParamInfo<BadSeriesCase>& info) { return info.param.name; });

TEST_F(ReceiverV1Test, Utf8NamesAreAccepted) {
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "http.requests.total"}, {"k8s.pod/name", "café ☕"}, {"日本", "東京"}});
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 204) << response.body;
  ASSERT_EQ(db_.series().size(), 1u);
  EXPECT_EQ(GetLabelValue(db_.series()[0].labels, "k8s.pod/name"), "café ☕");
}

TEST_F(ReceiverV1Test, SamplesAndHistogramsInOneSeriesRejected) {
  prometheus::WriteRequest request;
  prometheus::TimeSeries* ts = AddSeries(&request, {{"__name__", "mixed"}});
  prometheus::Histogram* histogram = ts->add_histograms();
  histogram->set_count_int(1);
  histogram->set_timestamp(1000);
  AddSeries(&request, {{"__name__", "fine"}});
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("samples_and_histograms"), std::string::npos) << response.body;
  ASSERT_EQ(db_.series().size(), 1u);
  EXPECT_EQ(MetricName(db_.series()[0].labels), "fine");
}

TEST_F(ReceiverV1Test, HistogramWithMismatchedSpansRejected) {
  prometheus::WriteRequest request;
  prometheus::TimeSeries* ts = request.add_timeseries();
  AddLabel(ts, "__name__", "latency");
  prometheus::Histogram* histogram = ts->add_histograms();
  histogram->set_count_int(3);
  histogram->set_timestamp(1000);
  prometheus::BucketSpan* span = histogram->add_positive_spans();
  span->set_offset(0);
  span->set_length(3);
  histogram->add_positive_deltas(1);  // 1 bucket present, spans say 3
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("invalid_histogram"), std::string::npos) << response.body;
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(ReceiverV1Test, HistogramSchemasOutsideMinus4To8AreRejectedWithTheSeries) {
  for (int32_t schema : {9, 20, 127, -5, -128, -53 /* without custom_values */}) {
    prometheus::WriteRequest request;
    prometheus::TimeSeries* ts = request.add_timeseries();
    AddLabel(ts, "__name__", "odd_schema");
    prometheus::Histogram* histogram = ts->add_histograms();
    histogram->set_count_int(1);
    histogram->set_schema(schema);
    histogram->set_timestamp(1000);
    http::Response response = SendProto(request);
    EXPECT_EQ(response.status, 400) << schema;
    EXPECT_NE(response.body.find("invalid_histogram: histogram at 1000: schema " + std::to_string(schema)),
              std::string::npos)
        << response.body;
    if (schema != -53) {
      EXPECT_NE(response.body.find("the valid schemas are -4 to 8 (exponential) and -53"), std::string::npos)
          << response.body;
    }
  }
  EXPECT_EQ(db_.append_calls(), 0);
  for (int32_t schema : {-4, 0, 8}) {
    prometheus::WriteRequest request;
    prometheus::TimeSeries* ts = request.add_timeseries();
    AddLabel(ts, "__name__", "good_schema");
    prometheus::Histogram* histogram = ts->add_histograms();
    histogram->set_count_int(1);
    histogram->set_schema(schema);
    histogram->set_timestamp(1000 + schema);
    EXPECT_EQ(SendProto(request).status, 204) << schema;
  }
}

TEST_F(ReceiverV1Test, HistogramsAndExemplarsArePassedThrough) {
  prometheus::WriteRequest request;
  prometheus::TimeSeries* ts = request.add_timeseries();
  AddLabel(ts, "__name__", "latency_seconds");
  prometheus::Histogram* histogram = ts->add_histograms();
  histogram->set_count_float(4.5);
  histogram->set_sum(10.25);
  histogram->set_schema(3);
  histogram->set_zero_threshold(1e-128);
  histogram->set_zero_count_float(0.5);
  histogram->set_reset_hint(prometheus::Histogram::GAUGE);
  histogram->set_timestamp(5000);
  prometheus::BucketSpan* span = histogram->add_negative_spans();
  span->set_offset(-2);
  span->set_length(2);
  histogram->add_negative_counts(1);
  histogram->add_negative_counts(2);
  prometheus::Exemplar* exemplar = ts->add_exemplars();
  prometheus::Label* label = exemplar->add_labels();
  label->set_name("trace_id");
  label->set_value("abc123");
  exemplar->set_value(0.75);
  exemplar->set_timestamp(4999);

  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 204) << response.body;
  const std::vector<storage::SeriesWrite> all = db_.series();
  ASSERT_EQ(all.size(), 1u);
  const storage::SeriesWrite& series = all[0];
  ASSERT_EQ(series.histograms.size(), 1u);
  const storage::Histogram& stored = series.histograms[0];
  EXPECT_TRUE(stored.is_float);
  EXPECT_EQ(stored.count_float, 4.5);
  EXPECT_EQ(stored.sum, 10.25);
  EXPECT_EQ(stored.schema, 3);
  EXPECT_EQ(stored.zero_count_float, 0.5);
  EXPECT_EQ(stored.reset_hint, storage::ResetHint::kGauge);
  EXPECT_EQ(stored.timestamp_ms, 5000);
  ASSERT_EQ(stored.negative_spans.size(), 1u);
  EXPECT_EQ(stored.negative_spans[0].offset, -2);
  EXPECT_EQ(stored.negative_counts, (std::vector<double>{1, 2}));
  ASSERT_EQ(series.exemplars.size(), 1u);
  EXPECT_EQ(series.exemplars[0].labels, (Labels{{"trace_id", "abc123"}}));
  EXPECT_EQ(series.exemplars[0].value, 0.75);
  EXPECT_EQ(series.exemplars[0].timestamp_ms, 4999);
}

TEST_F(ReceiverV1Test, CorruptSnappyIs400) {
  http::Response response = SendBody("\xff\xff\xff\xff\xff\xff garbage");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("snappy"), std::string::npos) << response.body;
  // Valid length header, truncated data.
  std::string truncated = SnappyCompress(std::string(1000, 'x'));
  truncated.resize(truncated.size() / 2);
  response = SendBody(truncated);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("snappy"), std::string::npos) << response.body;
  EXPECT_EQ(SendBody("").status, 400);
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(ReceiverV1Test, CorruptProtobufIs400) {
  // Field 1 (timeseries), length-delimited, claiming 100 bytes that are absent.
  http::Response response = SendBody(SnappyCompress(std::string("\x0a\x64\x01", 3)));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("protobuf"), std::string::npos) << response.body;
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(ReceiverV1Test, DecodedSizeOverLimitIs400BeforeDecompressing) {
  ReceiverOptions options;
  options.max_request_bytes = 1000;
  Reset(options);
  prometheus::WriteRequest request;
  for (int i = 0; i < 100; ++i) AddSeries(&request, {{"__name__", "m"}, {"i", std::to_string(i)}});
  ASSERT_GT(request.ByteSizeLong(), 1000u);
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("too large"), std::string::npos) << response.body;
  // Only the snappy header is looked at: a body whose length prefix claims
  // 1 GiB but holds nothing else is still "too large", not "corrupt".
  std::string claim_huge = "\x80\x80\x80\x80\x04";  // varint 1 GiB
  response = SendBody(claim_huge);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("too large"), std::string::npos) << response.body;
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(ReceiverV1Test, ALengthPrefixClaimingMoreThanTheBodyCanHoldIsCorrupt) {
  // 1 MiB claimed (under the request bound) by a 3-byte body: refused
  // before anything is allocated for it.
  http::Response response = SendBody(std::string("\x80\x80\x40", 3));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("corrupt snappy: the length prefix claims 1048576 bytes"), std::string::npos)
      << response.body;
  EXPECT_EQ(db_.append_calls(), 0);
  // A real, highly compressible request (long runs) still decodes.
  prometheus::WriteRequest request;
  for (int i = 0; i < 50; ++i) AddSeries(&request, {{"__name__", "m"}, {"i", std::to_string(i)}, {"v", std::string(4000, 'a')}});
  response = SendProto(request);
  EXPECT_EQ(response.status, 204) << response.body;
}

TEST_F(ReceiverV1Test, InflightLimitAnswers429WithRetryAfter) {
  ReceiverOptions options;
  options.max_inflight_bytes = 10;
  Reset(options);
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "up"}, {"job", "something long enough"}});
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 429);
  ASSERT_NE(FindResponseHeader(response, "Retry-After"), nullptr);
  EXPECT_EQ(*FindResponseHeader(response, "Retry-After"), "1");
  EXPECT_NE(response.body.find("queue is full"), std::string::npos) << response.body;
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(ReceiverV1Test, InflightBudgetIsReleasedOnEveryPath) {
  ReceiverOptions options;
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "up"}});
  const std::string body = SnappyCompress(request.SerializeAsString());
  options.max_inflight_bytes = request.ByteSizeLong();  // exactly one request fits
  Reset(options);
  // Success, validation failure, storage failure: each must give the budget back.
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(SendBody(body).status, 204) << round;
  }
  prometheus::WriteRequest bad;
  AddSeries(&bad, {{"job", "x"}});
  options.max_inflight_bytes = std::max(request.ByteSizeLong(), bad.ByteSizeLong());
  Reset(options);
  EXPECT_EQ(SendProto(bad).status, 400);
  EXPECT_EQ(SendBody(body).status, 204);
  db_.FailWith(Status::IOError("disk on fire"));
  EXPECT_EQ(SendBody(body).status, 500);
  db_.FailWith(Status::OK());
  EXPECT_EQ(SendBody(body).status, 204);
}

TEST_F(ReceiverV1Test, StorageIOErrorIs500) {
  db_.FailWith(Status::IOError("disk on fire"));
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "up"}});
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 500);
  EXPECT_NE(response.body.find("disk on fire"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("not acknowledged"), std::string::npos) << response.body;
  ExpectNoV2Headers(response);
}

TEST_F(ReceiverV1Test, StorageResourceExhaustedIs429) {
  db_.FailWith(Status::ResourceExhausted("write stall"));
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "up"}});
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 429);
  ASSERT_NE(FindResponseHeader(response, "Retry-After"), nullptr);
}

TEST_F(ReceiverV1Test, StorageConflictsAre400ListingThem) {
  db_.ReportConflicts(2);
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "a"}});
  AddSeries(&request, {{"__name__", "b"}});
  AddSeries(&request, {{"__name__", "c"}});
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("2 samples rejected by storage"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("conflict #1"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("1 samples"), std::string::npos) << response.body;  // one written
}

TEST_F(ReceiverV1Test, ManyBadSeriesReportFirstFewAndCount) {
  prometheus::WriteRequest request;
  for (int i = 0; i < 25; ++i) AddSeries(&request, {{"job", std::string("j").append(std::to_string(i))}});
  AddSeries(&request, {{"__name__", "ok"}});
  http::Response response = SendProto(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("25 of 26 series rejected"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("missing_metric_name=25"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("and 15 more"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("j0"), std::string::npos);
  EXPECT_EQ(response.body.find("j20"), std::string::npos);
  EXPECT_EQ(db_.series().size(), 1u);
}

}  // namespace
}  // namespace tsvault::remote_write
