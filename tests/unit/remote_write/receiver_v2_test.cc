// Receiver behaviour for Remote Write 2.0 requests (io.prometheus.write.v2).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <tuple>

#include "remote_write/receiver.h"
#include "proto/remote_write_v2.pb.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

namespace v2 = io::prometheus::write::v2;
using testing::FakeDB;
using testing::FindResponseHeader;
using testing::MakeRequest;

// Builds a v2 request with its own symbol table ("" first).
class RequestBuilder {
 public:
  RequestBuilder() { Ref(""); }

  uint32_t Ref(const std::string& text) {
    auto [it, inserted] = refs_.try_emplace(text, static_cast<uint32_t>(request_.symbols_size()));
    if (inserted) request_.add_symbols(text);
    return it->second;
  }

  v2::TimeSeries* AddSeries(std::vector<std::pair<std::string, std::string>> labels, int samples = 1,
                            int64_t first_timestamp = 1000) {
    v2::TimeSeries* ts = request_.add_timeseries();
    for (auto& [name, value] : labels) {
      ts->add_labels_refs(Ref(name));
      ts->add_labels_refs(Ref(value));
    }
    for (int i = 0; i < samples; ++i) {
      v2::Sample* sample = ts->add_samples();
      sample->set_timestamp(first_timestamp + i * 1000);
      sample->set_value(i);
    }
    return ts;
  }

  v2::Request& request() { return request_; }

 private:
  v2::Request request_;
  std::map<std::string, uint32_t> refs_;
};

class ReceiverV2Test : public ::testing::Test {
 protected:
  void SetUp() override { Reset(ReceiverOptions{}); }
  void Reset(ReceiverOptions options) { receiver_ = std::make_unique<Receiver>(&db_, options, nullptr); }

  http::Response Send(const v2::Request& request) {
    return SendBody(SnappyCompress(request.SerializeAsString()));
  }
  http::Response SendBody(std::string body) {
    http::Response response;
    receiver_->Handle(MakeRequest(std::move(body), ContentType(Protocol::kV2)), &response);
    return response;
  }
  // The three X-Prometheus-Remote-Write-*-Written headers, which must exist.
  static std::tuple<std::string, std::string, std::string> Written(const http::Response& response) {
    const std::string* samples = FindResponseHeader(response, "X-Prometheus-Remote-Write-Samples-Written");
    const std::string* histograms = FindResponseHeader(response, "X-Prometheus-Remote-Write-Histograms-Written");
    const std::string* exemplars = FindResponseHeader(response, "X-Prometheus-Remote-Write-Exemplars-Written");
    EXPECT_NE(samples, nullptr);
    EXPECT_NE(histograms, nullptr);
    EXPECT_NE(exemplars, nullptr);
    if (samples == nullptr || histograms == nullptr || exemplars == nullptr) return {};
    return {*samples, *histograms, *exemplars};
  }

  FakeDB db_;
  std::unique_ptr<Receiver> receiver_;
};

using Counts = std::tuple<std::string, std::string, std::string>;

TEST_F(ReceiverV2Test, ValidRequestIs204WithWrittenHeaders) {
  RequestBuilder builder;
  builder.AddSeries({{"__name__", "http_requests_total"}, {"job", "api"}}, 3);
  v2::TimeSeries* histogram_series = builder.AddSeries({{"__name__", "latency"}, {"job", "api"}}, 0);
  v2::Histogram* histogram = histogram_series->add_histograms();
  histogram->set_count_int(2);
  histogram->set_timestamp(1000);
  v2::Exemplar* exemplar = histogram_series->add_exemplars();
  exemplar->add_labels_refs(builder.Ref("trace_id"));
  exemplar->add_labels_refs(builder.Ref("t1"));
  exemplar->set_value(0.2);
  exemplar->set_timestamp(999);

  http::Response response = Send(builder.request());
  EXPECT_EQ(response.status, 204) << response.body;
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(Written(response), (Counts{"3", "1", "1"}));
  std::vector<storage::SeriesWrite> series = db_.series();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].labels, (Labels{{"__name__", "http_requests_total"}, {"job", "api"}}));
  EXPECT_EQ(series[0].samples.size(), 3u);
  EXPECT_EQ(series[0].samples[2].timestamp_ms, 3000);
  EXPECT_EQ(series[1].histograms.size(), 1u);
  ASSERT_EQ(series[1].exemplars.size(), 1u);
  EXPECT_EQ(series[1].exemplars[0].labels, (Labels{{"trace_id", "t1"}}));
}

TEST_F(ReceiverV2Test, UnsortedLabelsRefsAreSorted) {
  RequestBuilder builder;
  builder.AddSeries({{"zone", "b"}, {"__name__", "up"}, {"instance", "h"}});
  EXPECT_EQ(Send(builder.request()).status, 204);
  ASSERT_EQ(db_.series().size(), 1u);
  EXPECT_EQ(db_.series()[0].labels, (Labels{{"__name__", "up"}, {"instance", "h"}, {"zone", "b"}}));
}

TEST_F(ReceiverV2Test, EmptyRequestAndEmptySymbolsAre204) {
  v2::Request empty;
  http::Response response = Send(empty);
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(Written(response), (Counts{"0", "0", "0"}));
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(ReceiverV2Test, SymbolsMustStartWithEmptyString) {
  v2::Request request;
  request.add_symbols("__name__");
  request.add_symbols("up");
  v2::TimeSeries* ts = request.add_timeseries();
  ts->add_labels_refs(0);
  ts->add_labels_refs(1);
  ts->add_samples()->set_timestamp(1);
  http::Response response = Send(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("empty string"), std::string::npos) << response.body;
  EXPECT_EQ(Written(response), (Counts{"0", "0", "0"}));
  EXPECT_EQ(db_.append_calls(), 0);
}

TEST_F(ReceiverV2Test, MetadataOnlySeriesIs204AndStored) {
  RequestBuilder builder;
  v2::TimeSeries* ts = builder.AddSeries({{"__name__", "build_info"}}, 0);
  ts->mutable_metadata()->set_type(v2::Metadata::METRIC_TYPE_GAUGE);
  ts->mutable_metadata()->set_help_ref(builder.Ref("Build information."));
  http::Response response = Send(builder.request());
  EXPECT_EQ(response.status, 204) << response.body;
  EXPECT_EQ(Written(response), (Counts{"0", "0", "0"}));
  std::vector<storage::WriteInput> appended = db_.appended();
  ASSERT_EQ(appended.size(), 1u);
  EXPECT_TRUE(appended[0].series.empty());
  ASSERT_EQ(appended[0].metadata.size(), 1u);
  EXPECT_EQ(appended[0].metadata[0].metric_family_name, "build_info");
  EXPECT_EQ(appended[0].metadata[0].type, storage::MetricType::kGauge);
  EXPECT_EQ(appended[0].metadata[0].help, "Build information.");
}

TEST_F(ReceiverV2Test, MetadataOfCachedSeriesUsesTheNonEmptyMetricName) {
  // An empty-valued __name__ pair is dropped by canonicalization; a series
  // found in the series-reference cache must take its family name from the
  // other one, like a series decoded in full.
  RequestBuilder builder;
  v2::TimeSeries* ts =
      builder.AddSeries({{"__name__", ""}, {"job", "a"}, {"__name__", "rpc_seconds_count"}}, 1);
  ts->mutable_metadata()->set_type(v2::Metadata::METRIC_TYPE_SUMMARY);
  ts->mutable_metadata()->set_help_ref(builder.Ref("RPC latency."));
  for (int round = 0; round < 2; ++round) {
    http::Response response = Send(builder.request());
    EXPECT_EQ(response.status, 204) << response.body;
  }
  const std::vector<storage::WriteInput> appended = db_.appended();
  ASSERT_EQ(appended.size(), 2u);
  EXPECT_EQ(db_.appended_by_ref(), 1u);  // the second time by reference
  for (const storage::WriteInput& input : appended) {
    ASSERT_EQ(input.metadata.size(), 1u);
    EXPECT_EQ(input.metadata[0].metric_family_name, "rpc_seconds");
    EXPECT_EQ(input.metadata[0].help, "RPC latency.");
  }
}

TEST_F(ReceiverV2Test, MetadataFamilyNameStripsClassicHistogramSuffixes) {
  RequestBuilder builder;
  const uint32_t help = builder.Ref("Request latency.");
  const uint32_t unit = builder.Ref("seconds");
  for (const char* name : {"rpc_seconds_bucket", "rpc_seconds_count", "rpc_seconds_sum"}) {
    v2::TimeSeries* ts = builder.AddSeries({{"__name__", name}, {"le", "1"}});
    ts->mutable_metadata()->set_type(v2::Metadata::METRIC_TYPE_HISTOGRAM);
    ts->mutable_metadata()->set_help_ref(help);
    ts->mutable_metadata()->set_unit_ref(unit);
  }
  v2::TimeSeries* counter = builder.AddSeries({{"__name__", "http_requests_total"}});
  counter->mutable_metadata()->set_type(v2::Metadata::METRIC_TYPE_COUNTER);
  v2::TimeSeries* summary = builder.AddSeries({{"__name__", "gc_seconds_count"}});
  summary->mutable_metadata()->set_type(v2::Metadata::METRIC_TYPE_SUMMARY);
  v2::TimeSeries* gauge = builder.AddSeries({{"__name__", "queue_count"}});  // a gauge keeps _count
  gauge->mutable_metadata()->set_type(v2::Metadata::METRIC_TYPE_GAUGE);
  v2::TimeSeries* none = builder.AddSeries({{"__name__", "untyped"}});
  none->mutable_metadata();  // all unset: no metadata recorded

  EXPECT_EQ(Send(builder.request()).status, 204);
  std::vector<storage::WriteInput> appended = db_.appended();
  ASSERT_EQ(appended.size(), 1u);
  std::map<std::string, storage::MetricMetadata> by_family;
  for (const auto& metadata : appended[0].metadata) by_family[metadata.metric_family_name] = metadata;
  ASSERT_EQ(by_family.size(), 4u) << "one entry per family";
  EXPECT_EQ(by_family["rpc_seconds"].type, storage::MetricType::kHistogram);
  EXPECT_EQ(by_family["rpc_seconds"].help, "Request latency.");
  EXPECT_EQ(by_family["rpc_seconds"].unit, "seconds");
  EXPECT_EQ(by_family["http_requests_total"].type, storage::MetricType::kCounter);
  EXPECT_EQ(by_family["gc_seconds"].type, storage::MetricType::kSummary);
  EXPECT_EQ(by_family["queue_count"].type, storage::MetricType::kGauge);
}

// Validation rules specific to 2.0 references, plus the shared ones reached
// through symbols. The good series around the bad one are written and counted
// in the headers.
TEST_F(ReceiverV2Test, BadSeriesRejectedGoodSeriesWrittenAndCounted) {
  struct Case {
    const char* name;
    std::function<void(RequestBuilder*)> add_bad;
    const char* reason;
  };
  ReceiverOptions options;
  options.max_labels_per_series = 4;
  options.max_label_name_bytes = 16;
  options.max_label_value_bytes = 16;
  const std::vector<Case> cases = {
      {"odd refs",
       [](RequestBuilder* b) {
         v2::TimeSeries* ts = b->AddSeries({{"__name__", "m"}}, 2);
         ts->add_labels_refs(b->Ref("job"));
       },
       "bad_labels_refs"},
      {"ref out of range",
       [](RequestBuilder* b) {
         v2::TimeSeries* ts = b->AddSeries({{"__name__", "m"}}, 2);
         ts->add_labels_refs(b->Ref("job"));
         ts->add_labels_refs(100000);
       },
       "bad_labels_refs"},
      {"exemplar ref out of range",
       [](RequestBuilder* b) {
         v2::TimeSeries* ts = b->AddSeries({{"__name__", "m"}}, 2);
         v2::Exemplar* exemplar = ts->add_exemplars();
         exemplar->add_labels_refs(b->Ref("trace_id"));
         exemplar->add_labels_refs(99999);
       },
       "bad_labels_refs"},
      {"help ref out of range",
       [](RequestBuilder* b) {
         v2::TimeSeries* ts = b->AddSeries({{"__name__", "m"}}, 2);
         ts->mutable_metadata()->set_help_ref(77777);
       },
       "bad_labels_refs"},
      {"missing name", [](RequestBuilder* b) { b->AddSeries({{"job", "x"}}, 2); }, "missing_metric_name"},
      {"duplicate", [](RequestBuilder* b) { b->AddSeries({{"__name__", "m"}, {"a", "1"}, {"a", "2"}}, 2); },
       "duplicate_label"},
      {"empty name", [](RequestBuilder* b) { b->AddSeries({{"__name__", "m"}, {"", "v"}}, 2); },
       "empty_label_name"},
      {"too many",
       [](RequestBuilder* b) {
         b->AddSeries({{"__name__", "m"}, {"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}}, 2);
       },
       "too_many_labels"},
      {"too long", [](RequestBuilder* b) { b->AddSeries({{"__name__", "m"}, {"a", std::string(17, 'x')}}, 2); },
       "label_too_long"},
      {"bad utf8", [](RequestBuilder* b) { b->AddSeries({{"__name__", "m\xe2\x82"}}, 2); }, "invalid_utf8"},
      {"samples and histograms",
       [](RequestBuilder* b) {
         v2::TimeSeries* ts = b->AddSeries({{"__name__", "m"}}, 2);
         ts->add_histograms()->set_timestamp(5);
       },
       "samples_and_histograms"},
  };
  for (const Case& bad : cases) {
    SCOPED_TRACE(bad.name);
    FakeDB db;
    Receiver receiver(&db, options, nullptr);
    RequestBuilder builder;
    v2::TimeSeries* good = builder.AddSeries({{"__name__", "good"}, {"job", "a"}}, 3);
    v2::Exemplar* exemplar = good->add_exemplars();
    exemplar->set_value(1);
    bad.add_bad(&builder);
    builder.AddSeries({{"__name__", "good2"}}, 1);
    http::Response response;
    receiver.Handle(MakeRequest(SnappyCompress(builder.request().SerializeAsString()), ContentType(Protocol::kV2)),
                    &response);
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(response.body.find(bad.reason), std::string::npos) << response.body;
    EXPECT_NE(response.body.find("series #1"), std::string::npos) << response.body;
    EXPECT_NE(response.body.find("2 samples"), std::string::npos) << response.body;
    EXPECT_EQ(Written(response), (Counts{"4", "0", "1"}));
    ASSERT_EQ(db.series().size(), 2u);
    EXPECT_EQ(MetricName(db.series()[0].labels), "good");
    EXPECT_EQ(MetricName(db.series()[1].labels), "good2");
  }
}

TEST_F(ReceiverV2Test, HeadersReportOnlyWhatStorageWrote) {
  db_.ReportConflicts(1);
  RequestBuilder builder;
  builder.AddSeries({{"__name__", "a"}}, 2);
  http::Response response = Send(builder.request());
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Written(response), (Counts{"1", "0", "0"}));
  EXPECT_NE(response.body.find("duplicate_timestamp"), std::string::npos) << response.body;
}

TEST_F(ReceiverV2Test, ErrorsStillCarryWrittenHeaders) {
  db_.FailWith(Status::IOError("broken"));
  RequestBuilder builder;
  builder.AddSeries({{"__name__", "a"}}, 2);
  http::Response response = Send(builder.request());
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(Written(response), (Counts{"0", "0", "0"}));

  response = SendBody("not snappy at all \xff\xff\xff\xff\xff");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Written(response), (Counts{"0", "0", "0"}));

  ReceiverOptions options;
  options.max_inflight_bytes = 1;
  Reset(options);
  response = Send(builder.request());
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(Written(response), (Counts{"0", "0", "0"}));
  ASSERT_NE(FindResponseHeader(response, "Retry-After"), nullptr);
}

TEST_F(ReceiverV2Test, Version1BodyWithVersion2TypeIsDecodedAsEmpty) {
  // Fields 1-3 are reserved in 2.0 exactly so a mislabelled 1.0 body parses
  // as an empty message instead of garbage.
  storage::WriteInput input;
  input.series.push_back(testing::MakeSeries({{"__name__", "up"}}, {{1000, 1}}));
  std::string body;
  ASSERT_TRUE(EncodeWriteRequest(input, Protocol::kV1, &body).ok());
  http::Response response = SendBody(body);
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(Written(response), (Counts{"0", "0", "0"}));
}

TEST_F(ReceiverV2Test, CreatedAndStartTimestampsAreAccepted) {
  RequestBuilder builder;
  v2::TimeSeries* ts = builder.AddSeries({{"__name__", "c_total"}}, 1);
  ts->set_created_timestamp(500);
  ts->mutable_samples(0)->set_start_timestamp(500);
  EXPECT_EQ(Send(builder.request()).status, 204);
  ASSERT_EQ(db_.series().size(), 1u);
}

}  // namespace
}  // namespace tsvault::remote_write
