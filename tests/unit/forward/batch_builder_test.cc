// Forward batches: float samples hand-encoded for Remote Write 1.0 are the
// bytes the protobuf encoder writes; series stay in one shard and batches
// hold at most max_samples_per_send points.
#include "remote_write/forward/batch_builder.h"

#include <gtest/gtest.h>

#include "remote_write/encoder.h"

namespace tsvault::forward {
namespace {

std::vector<storage::Sample> Samples(int samples, int64_t start) {
  std::vector<storage::Sample> out;
  for (int i = 0; i < samples; ++i) out.push_back({start + i * 15'000, 0.5 + i});
  return out;
}

TEST(BatchBuilderTest, HandEncodedFloatsAreTheProtobufEncodersBytes) {
  TargetSeries series;
  series.labels = {{"__name__", "reengagement_clicks_total"}, {"campaign", "spring"}, {"instance", "web-1:9100"}};
  series.v1_labels = EncodeV1Labels(series.labels);
  BatchBuilder builder(remote_write::Protocol::kV1, 1000, 1);
  const std::vector<storage::Sample> samples = Samples(300, 1'700'000'000'123);
  builder.AddSamples(7, series, samples, false);
  ASSERT_EQ(builder.shards()[0].size(), 1u);
  const Batch& batch = builder.shards()[0][0];
  EXPECT_EQ(batch.samples, 300u);
  EXPECT_EQ(batch.max_timestamp_ms, 1'700'000'000'123 + 299 * 15'000);
  storage::WriteInput expected;
  expected.series.push_back({series.labels, samples, {}, {}});
  std::string want;
  ASSERT_TRUE(remote_write::SerializeWriteRequest(expected, remote_write::Protocol::kV1, &want).ok());
  EXPECT_EQ(batch.v1_series, want);
  std::string body, want_body;
  ASSERT_TRUE(batch.Encode(remote_write::Protocol::kV1, &body).ok());
  ASSERT_TRUE(remote_write::EncodeWriteRequest(expected, remote_write::Protocol::kV1, &want_body).ok());
  EXPECT_EQ(body, want_body);
}

TEST(BatchBuilderTest, BatchesAreBoundedAndSeriesKeepTheirShard) {
  BatchBuilder builder(remote_write::Protocol::kV1, 100, 4);
  std::vector<TargetSeries> series(20);
  for (size_t i = 0; i < series.size(); ++i) {
    series[i].labels = {{"__name__", "x"}, {"i", std::to_string(i)}};
    series[i].v1_labels = EncodeV1Labels(series[i].labels);
  }
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < series.size(); ++i) builder.AddSamples(i + 1, series[i], Samples(37, round * 1'000'000), false);
  }
  size_t points = 0, used = 0;
  for (const std::vector<Batch>& shard : builder.shards()) {
    used += !shard.empty();
    for (const Batch& batch : shard) {
      EXPECT_LE(batch.points(), 100u);
      points += batch.points();
    }
  }
  EXPECT_EQ(points, 20u * 37 * 3);
  EXPECT_GT(used, 1u);
  // Remote Write 2.0 goes through the generic encoder.
  BatchBuilder v2(remote_write::Protocol::kV2, 100, 1);
  v2.AddSamples(1, series[0], Samples(5, 1000), true);
  const Batch& batch = v2.shards()[0][0];
  EXPECT_TRUE(batch.v1_series.empty());
  ASSERT_EQ(batch.input.series.size(), 1u);
  EXPECT_TRUE(batch.resent);
  std::string body;
  EXPECT_TRUE(batch.Encode(remote_write::Protocol::kV2, &body).ok());
}

}  // namespace
}  // namespace tsvault::forward
