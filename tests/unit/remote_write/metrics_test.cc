// The receiver's Prometheus metrics.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <map>
#include <string>

#include "remote_write/receiver.h"
#include "tests/unit/remote_write/fake_db.h"

namespace tsvault::remote_write {
namespace {

using testing::FakeDB;
using testing::MakeRequest;
using testing::MakeSeries;

// Value of a counter (or sample count of a histogram) with exactly these labels;
// -1 when absent.
double Value(prometheus::Registry& registry, const std::string& name,
             const std::map<std::string, std::string>& labels = {}) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::map<std::string, std::string> have;
      for (const auto& label : metric.label) have[label.name] = label.value;
      if (have != labels) continue;
      if (family.type == prometheus::MetricType::Histogram) {
        return static_cast<double>(metric.histogram.sample_count);
      }
      return metric.counter.value;
    }
  }
  return -1;
}

TEST(ReceiverMetricsTest, CountsRequestsSamplesAndRejections) {
  prometheus::Registry registry;
  FakeDB db;
  Receiver receiver(&db, ReceiverOptions{}, &registry);

  storage::WriteInput input;
  input.series.push_back(MakeSeries({{"__name__", "a"}}, {{1, 1}, {2, 2}}));
  input.series.push_back(MakeSeries({{"job", "no name"}}, {{1, 1}}));
  input.metadata.push_back({"a", storage::MetricType::kGauge, "A.", ""});
  std::string body;
  ASSERT_TRUE(EncodeWriteRequest(input, Protocol::kV1, &body).ok());
  http::Response response;
  receiver.Handle(MakeRequest(body, ContentType(Protocol::kV1)), &response);
  ASSERT_EQ(response.status, 400);
  receiver.Handle(MakeRequest("junk", "text/html"), &response);
  ASSERT_EQ(response.status, 415);
  input.series.pop_back();
  ASSERT_TRUE(EncodeWriteRequest(input, Protocol::kV2, &body).ok());
  receiver.Handle(MakeRequest(body, ContentType(Protocol::kV2)), &response);
  ASSERT_EQ(response.status, 204);

  const std::string requests = "tsvault_remote_write_requests_total";
  EXPECT_EQ(Value(registry, requests, {{"protocol", "1.0"}, {"code", "400"}}), 1);
  EXPECT_EQ(Value(registry, requests, {{"protocol", "2.0"}, {"code", "204"}}), 1);
  EXPECT_EQ(Value(registry, requests, {{"protocol", "unknown"}, {"code", "415"}}), 1);
  EXPECT_EQ(Value(registry, requests, {{"protocol", "1.0"}, {"code", "204"}}), 0);
  EXPECT_EQ(Value(registry, "tsvault_remote_write_samples_ingested_total"), 4);
  EXPECT_EQ(Value(registry, "tsvault_remote_write_metadata_ingested_total"), 2);
  EXPECT_EQ(Value(registry, "tsvault_remote_write_histograms_ingested_total"), 0);
  EXPECT_EQ(Value(registry, "tsvault_remote_write_rejected_total", {{"reason", "missing_metric_name"}}), 1);
  EXPECT_EQ(Value(registry, "tsvault_remote_write_rejected_total", {{"reason", "bad_content_type"}}), 1);
  EXPECT_EQ(Value(registry, "tsvault_remote_write_rejected_total", {{"reason", "queue_full"}}), 0);
  EXPECT_EQ(Value(registry, "tsvault_remote_write_decode_seconds"), 2);
}

TEST(ReceiverMetricsTest, TwoReceiversCanShareARegistry) {
  prometheus::Registry registry;
  FakeDB db;
  Receiver first(&db, ReceiverOptions{}, &registry);
  Receiver second(&db, ReceiverOptions{}, &registry);
  http::Response response;
  second.Handle(MakeRequest("x", "text/html"), &response);
  EXPECT_EQ(Value(registry, "tsvault_remote_write_requests_total", {{"protocol", "unknown"}, {"code", "415"}}), 1);
}

}  // namespace
}  // namespace tsvault::remote_write
