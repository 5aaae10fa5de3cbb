// The retention policy: flag parsing (clear errors naming the flag, coarser
// levels raised to finer ones), time-based cutoffs from the clock, the
// size bound dropping the oldest raw data first, and the downsampler
// thread applying it after sealing.
#include "compaction/retention.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "compaction/downsampler.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_db.h"

namespace tsvault::compaction {
namespace {

constexpr int64_t kDay = 24 * 3600'000;
constexpr int64_t kNow = 20'000 * kDay + 5 * 3600'000;  // 05:00 UTC

Status Parse(std::string raw, std::string five, std::string hour, std::string day, std::string size,
             RetentionPolicy* policy) {
  const std::string keep[storage::kRetentionLevels] = {raw, five, hour, day};
  return ParseRetentionPolicy(keep, size, policy);
}

TEST(RetentionPolicyTest, ParsesDurationsAndSizes) {
  RetentionPolicy policy;
  ASSERT_TRUE(Parse("30d", "180d", "2y", "0", "0", &policy).ok());
  EXPECT_EQ(policy.keep[0].count(), 30 * kDay);
  EXPECT_EQ(policy.keep[1].count(), 180 * kDay);
  EXPECT_EQ(policy.keep[2].count(), 730 * kDay);
  EXPECT_EQ(policy.keep[3].count(), 0);
  EXPECT_EQ(policy.max_bytes, 0u);
  EXPECT_EQ(DescribeRetentionPolicy(policy), "raw 30d, 5m 180d, 1h 730d, 1d forever, no size bound");

  uint64_t bytes;
  ASSERT_TRUE(ParseByteSize("512MB", &bytes).ok());
  EXPECT_EQ(bytes, 512ull << 20);
  ASSERT_TRUE(ParseByteSize("10GiB", &bytes).ok());
  EXPECT_EQ(bytes, 10ull << 30);
  ASSERT_TRUE(ParseByteSize("1000", &bytes).ok());
  EXPECT_EQ(bytes, 1000u);
  EXPECT_FALSE(ParseByteSize("", &bytes).ok());
  EXPECT_FALSE(ParseByteSize("-5GB", &bytes).ok());
  EXPECT_FALSE(ParseByteSize("17000000000EB", &bytes).ok());
}

TEST(RetentionPolicyTest, CoarserLevelsAreKeptAtLeastAsLongAsFinerOnes) {
  RetentionPolicy policy;
  ASSERT_TRUE(Parse("0", "180d", "1d", "0", "0", &policy).ok());
  EXPECT_EQ(policy.keep[1].count(), 0);  // raw forever: all forever
  EXPECT_EQ(policy.keep[2].count(), 0);
  ASSERT_TRUE(Parse("90d", "30d", "1y", "400d", "0", &policy).ok());
  EXPECT_EQ(policy.keep[1].count(), 90 * kDay);
  EXPECT_EQ(policy.keep[2].count(), 365 * kDay);
  EXPECT_EQ(policy.keep[3].count(), 400 * kDay);
}

TEST(RetentionPolicyTest, BadFlagsNameTheFlag) {
  RetentionPolicy policy;
  Status s = Parse("30x", "180d", "2y", "0", "0", &policy);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--retention.resolution-raw"), std::string::npos) << s.message();
  s = Parse("30d", "180d", "two years", "0", "0", &policy);
  EXPECT_NE(s.message().find("--retention.resolution-1h"), std::string::npos) << s.message();
  s = Parse("30d", "180d", "2y", "0", "lots", &policy);
  EXPECT_NE(s.message().find("--retention.size"), std::string::npos) << s.message();
}

class RetentionEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status status = tsvault::testing::OpenTestDB(dir_.path(), &db_);
    ASSERT_TRUE(status.ok()) << status.ToString();
    // 60 days of one series per minute, 20 series.
    for (int series = 0; series < 20; ++series) {
      storage::WriteInput input;
      storage::SeriesWrite write;
      write.labels = {{"__name__", "courses_completions_total"}, {"course", std::to_string(series)}};
      for (int64_t t = kNow - 60 * kDay; t <= kNow; t += 60'000) {
        write.samples.push_back({t, static_cast<double>((t / 60'000) * (series + 1) % 100'003)});
      }
      input.series.push_back(std::move(write));
      storage::WriteResult result;
      ASSERT_TRUE(db_->Append(input, &result).ok());
    }
    storage::DownsampleStats stats;
    ASSERT_TRUE(db_->Downsample(kNow - 3600'000, &stats).ok());
    ASSERT_TRUE(db_->CompactAll().ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::DB> db_;
};

TEST_F(RetentionEnforcerTest, TimeBasedCutoffsFollowTheClock) {
  RetentionPolicy policy;
  ASSERT_TRUE(Parse("30d", "40d", "2y", "0", "0", &policy).ok());
  prometheus::Registry registry;
  RetentionEnforcer enforcer(db_.get(), policy, &registry);
  storage::RetentionStats stats;
  ASSERT_TRUE(enforcer.RunOnce(kNow, /*reclaim_space=*/true, &stats).ok());
  EXPECT_EQ(stats.cutoff_ms[0], (kNow - 30 * kDay) / kDay * kDay);
  // 5m: 40 days floored to 10-day units; 1h: 2 years back holds nothing.
  EXPECT_EQ(stats.cutoff_ms[1], (kNow - 40 * kDay) / (10 * kDay) * (10 * kDay));
  EXPECT_EQ(stats.cutoff_ms[2], (kNow - 730 * kDay) / (120 * kDay) * (120 * kDay));
  EXPECT_EQ(stats.cutoff_ms[3], INT64_MIN);
  EXPECT_TRUE(stats.reclaimed[0]);  // the first run compacts what it dropped
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("tsvault_retention_cutoff_seconds{resolution=\"raw\"} " +
                      std::to_string((kNow - 30 * kDay) / kDay * kDay / 1000)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tsvault_retention_runs_total 1"), std::string::npos) << text;

  // A day later the cutoff moves by a day; a tenth of 30 days has not
  // passed since the last compaction, so none is done.
  ASSERT_TRUE(enforcer.RunOnce(kNow + kDay, true, &stats).ok());
  EXPECT_FALSE(stats.reclaimed[0]);
}

TEST_F(RetentionEnforcerTest, OverTheSizeBoundTheOldestRawDataGoesFirst) {
  const storage::DBStats before = db_->Stats();
  uint64_t total = 0;
  for (const auto& family : before.column_families) total += family.bytes;
  ASSERT_GT(before.retention_level_bytes[0], total / 10);
  RetentionPolicy policy;
  ASSERT_TRUE(Parse("0", "0", "0", "0", "0", &policy).ok());
  // Room for the rollups and about half of the raw data.
  policy.max_bytes = total - before.retention_level_bytes[0] / 2;
  RetentionEnforcer enforcer(db_.get(), policy, nullptr);
  storage::RetentionStats stats;
  ASSERT_TRUE(enforcer.RunOnce(kNow, true, &stats).ok());
  EXPECT_TRUE(stats.reclaimed[0]);
  EXPECT_GT(stats.cutoff_ms[0], kNow - 60 * kDay);
  EXPECT_LT(stats.cutoff_ms[0], kNow - 20 * kDay);
  EXPECT_EQ(stats.cutoff_ms[1], INT64_MIN);  // raw alone was enough
  const storage::DBStats after = db_->Stats();
  uint64_t total_after = 0;
  for (const auto& family : after.column_families) total_after += family.bytes;
  EXPECT_LT(after.retention_level_bytes[0], before.retention_level_bytes[0] * 3 / 4);
  // Close to the bound after one run, under it after a few.
  for (int run = 0; run < 5 && total_after > policy.max_bytes; ++run) {
    ASSERT_TRUE(enforcer.RunOnce(kNow, true, &stats).ok());
    total_after = 0;
    for (const auto& family : db_->Stats().column_families) total_after += family.bytes;
  }
  EXPECT_LE(total_after, policy.max_bytes);
}

TEST_F(RetentionEnforcerTest, TheDownsamplerAppliesRetentionAfterSealing) {
  DownsamplerOptions options;
  options.now_ms = [] { return kNow; };
  options.retention.emplace();
  ASSERT_TRUE(Parse("7d", "180d", "2y", "0", "0", &*options.retention).ok());
  Downsampler downsampler(db_.get(), options, nullptr);
  storage::DownsampleStats stats;
  ASSERT_TRUE(downsampler.RunOnce(&stats).ok());
  EXPECT_EQ(db_->RetentionCutoff(0), (kNow - 7 * kDay) / kDay * kDay);
}

}  // namespace
}  // namespace tsvault::compaction
