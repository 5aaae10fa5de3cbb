#include <gtest/gtest.h>

#include "remote_write/decoder.h"

namespace tsvault::remote_write {
namespace {

TEST(MetricFamilyNameTest, StripsOnlyForClassicHistogramAndSummaryParts) {
  using storage::MetricType;
  EXPECT_EQ(MetricFamilyName("rpc_bucket", MetricType::kHistogram), "rpc");
  EXPECT_EQ(MetricFamilyName("rpc_sum", MetricType::kGaugeHistogram), "rpc");
  EXPECT_EQ(MetricFamilyName("rpc", MetricType::kHistogram), "rpc");  // native histogram
  EXPECT_EQ(MetricFamilyName("gc_count", MetricType::kSummary), "gc");
  EXPECT_EQ(MetricFamilyName("gc_bucket", MetricType::kSummary), "gc_bucket");
  EXPECT_EQ(MetricFamilyName("requests_total", MetricType::kCounter), "requests_total");
  EXPECT_EQ(MetricFamilyName("queue_count", MetricType::kGauge), "queue_count");
  EXPECT_EQ(MetricFamilyName("_count", MetricType::kSummary), "_count");
}

}  // namespace
}  // namespace tsvault::remote_write
