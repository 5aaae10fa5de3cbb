// Retention (DB::ApplyRetention): what a cutoff may drop (only what the
// next resolution has stored, never what a stale mark still needs), that
// reads stop seeing dropped data at once while rollups keep answering, that
// samples before the raw cutoff go to rollups (history_test.cc has the
// rules), and that the records really go
// (compaction filter) and the cutoffs survive a restart.
#include "tests/unit/storage/retention_fixture.h"

namespace tsvault::storage {
namespace {

TEST_F(RetentionTest, NothingIsDroppedBeforeItIsRolledUp) {
  Open();
  WriteData();
  const RetentionStats stats = Apply(kStart + 30 * kDay, kStart + 30 * kDay, kStart + 30 * kDay, kStart + 30 * kDay);
  for (int level = 0; level < kRetentionLevels; ++level) EXPECT_EQ(stats.cutoff_ms[level], INT64_MIN) << level;
  EXPECT_EQ(db_->RetentionCutoff(0), INT64_MIN);
  EXPECT_EQ(Raw("counter", kStart, kStart + kDays * kDay).size(), static_cast<size_t>(kDays * kDay / kInterval));
}

TEST_F(RetentionTest, RawGoesOnlyUpToTheSealed5mWindowsAndReadsSkipIt) {
  Open();
  WriteData();
  DownsampleStats downsampled;
  const int64_t seal = kStart + 10 * kDay + 3 * 3600'000;
  ASSERT_TRUE(db_->Downsample(seal, &downsampled).ok());
  const auto windows_5m = Windows("counter", model::kResolution5m, kStart, kStart + 12 * kDay);
  const auto windows_1h = Windows("gauge", model::kResolution1h, kStart, kStart + 12 * kDay);
  ASSERT_GT(windows_5m.size(), 3000u);

  // Asked for 30 days, raw goes only up to the 5m watermark, in whole days.
  RetentionStats stats = Apply(kStart + 30 * kDay);
  const int64_t cutoff = kStart + 10 * kDay;
  EXPECT_EQ(stats.cutoff_ms[0], cutoff);
  EXPECT_EQ(db_->RetentionCutoff(0), cutoff);
  EXPECT_EQ(db_->RetentionCutoff(model::kResolution5m), INT64_MIN);

  // Raw reads start at the cutoff, at once (nothing compacted yet).
  const auto raw = Raw("counter", kStart, kStart + kDays * kDay);
  ASSERT_FALSE(raw.empty());
  EXPECT_GE(raw.front().timestamp_ms, cutoff);
  EXPECT_LT(raw.front().timestamp_ms, cutoff + kInterval);
  EXPECT_TRUE(Raw("counter", kStart, cutoff - 1).empty());

  // Rollups still answer for the dropped range: a select that allows them
  // finds the series and reads the same windows as before.
  bool found = false;
  ExpectSameWindows(Windows("counter", model::kResolution5m, kStart, kStart + 12 * kDay, &found), windows_5m, "5m");
  EXPECT_TRUE(found);
  ExpectSameWindows(Windows("gauge", model::kResolution1h, kStart, kStart + 12 * kDay), windows_1h, "1h");
  Windows("counter", model::kResolution5m, kStart, cutoff - 1, &found);
  EXPECT_TRUE(found) << "a series whose range only rollups hold must still be selected";

  // Samples before the cutoff are folded into their 5m windows (each lies
  // after the last sample of its window here); the rest land raw, the one
  // exactly at the cutoff in both (raw reads start there).
  const WriteResult result = Write(testing::L({{"__name__", "counter"}}),
                                   {{kStart + 5 * kDay, 1}, {cutoff + 30, 7}, {cutoff - 1, 2}, {cutoff, 3}});
  EXPECT_EQ(result.samples_too_old, 0u);
  EXPECT_EQ(result.samples_written, 4u);
  EXPECT_EQ(result.samples_into_rollups, 2u);
  EXPECT_TRUE(result.errors.empty());
  const auto after = Windows("counter", model::kResolution5m, cutoff - 1, cutoff);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].last_t, cutoff);
  EXPECT_EQ(after[0].last_v, 3);
  EXPECT_EQ(after[0].count, 7u);
  EXPECT_EQ(Raw("counter", cutoff, cutoff).size(), 1u);  // five samples a minute apart, and the two

  // Cutoffs never move back.
  stats = Apply(kStart + 2 * kDay);
  EXPECT_EQ(stats.cutoff_ms[0], cutoff);
}

TEST_F(RetentionTest, CoarserLevelsFollowFinerOnesAndTheirOwnWatermarks) {
  Open();
  WriteData();
  DownsampleStats downsampled;
  ASSERT_TRUE(db_->Downsample(kStart + 35 * kDay, &downsampled).ok());
  const auto windows_1h = Windows("counter", model::kResolution1h, kStart, kStart + kDays * kDay);
  const auto windows_1d = Windows("counter", model::kResolution1d, kStart, kStart + kDays * kDay);

  // 5m asked beyond raw: held to raw's cutoff, floored to 10 days.
  RetentionStats stats = Apply(kStart + 25 * kDay, kStart + 33 * kDay);
  EXPECT_EQ(stats.cutoff_ms[0], kStart + 25 * kDay);
  EXPECT_EQ(stats.cutoff_ms[1], kStart + 20 * kDay);
  EXPECT_TRUE(Windows("counter", model::kResolution5m, kStart, kStart + 20 * kDay).empty());
  EXPECT_FALSE(Windows("counter", model::kResolution5m, kStart, kStart + 21 * kDay).empty());
  // 1h windows (made from the dropped 5m ones) are intact.
  ExpectSameWindows(Windows("counter", model::kResolution1h, kStart, kStart + kDays * kDay), windows_1h, "1h");
  // 1h and 1d move in 120-day steps: nothing of these 40 days goes.
  stats = Apply(kStart + 25 * kDay, kStart + 20 * kDay, kStart + 25 * kDay, kStart + 25 * kDay);
  EXPECT_EQ(stats.cutoff_ms[2], kStart);
  EXPECT_EQ(stats.cutoff_ms[3], kStart);
  ExpectSameWindows(Windows("counter", model::kResolution1d, kStart, kStart + kDays * kDay), windows_1d, "1d");
}

TEST_F(RetentionTest, PendingStaleMarksHoldTheFinerDataBack) {
  Open();
  WriteData();
  DownsampleStats downsampled;
  ASSERT_TRUE(db_->Downsample(kStart + 35 * kDay, &downsampled).ok());
  // A late sample on day 12 marks its spans stale; until they are redone,
  // the raw data of its 5m span (the day) must stay.
  Write(testing::L({{"__name__", "counter"}}), {{kStart + 12 * kDay + 30'500, 1e6}});
  RetentionStats stats = Apply(kStart + 30 * kDay);
  EXPECT_EQ(stats.cutoff_ms[0], kStart + 12 * kDay);
  ASSERT_TRUE(db_->Downsample(kStart + 35 * kDay, &downsampled).ok());
  EXPECT_GE(downsampled.stale_spans_redone, 3u);
  stats = Apply(kStart + 30 * kDay);
  EXPECT_EQ(stats.cutoff_ms[0], kStart + 30 * kDay);
  // The redone windows hold the late sample.
  bool seen = false;
  for (const FloatWindow& w : Windows("counter", model::kResolution5m, kStart + 12 * kDay, kStart + 12 * kDay + 600'000)) {
    seen |= w.max == 1e6;
  }
  EXPECT_TRUE(seen);
}

TEST_F(RetentionTest, DroppedRecordsAreCompactedAwayAndCutoffsSurviveARestart) {
  Open();
  WriteData();
  DownsampleStats downsampled;
  ASSERT_TRUE(db_->Downsample(kStart + 35 * kDay, &downsampled).ok());
  ASSERT_TRUE(db_->CompactAll().ok());
  const uint64_t raw_bytes = db_->Stats().retention_level_bytes[0];
  ASSERT_GT(raw_bytes, 0u);
  int64_t oldest;
  ASSERT_TRUE(db_->OldestTime(0, &oldest).ok());
  EXPECT_EQ(oldest, kStart + 1000);

  RetentionRequest request;
  request.drop_before_ms[0] = kStart + 30 * kDay;
  request.reclaim[0] = true;
  RetentionStats stats;
  ASSERT_TRUE(db_->ApplyRetention(request, &stats).ok());
  EXPECT_TRUE(stats.reclaimed[0]);
  // 30 of 40 days went: well under half the bytes stay.
  EXPECT_LT(db_->Stats().retention_level_bytes[0], raw_bytes / 2);
  ASSERT_TRUE(db_->OldestTime(0, &oldest).ok());
  EXPECT_EQ(oldest, kStart + 30 * kDay + 1000);
  std::vector<ResolutionSummary> summary;
  ASSERT_TRUE(db_->Inspect(&summary).ok());
  EXPECT_GE(summary[0].min_time_ms, kStart + 30 * kDay);
  EXPECT_EQ(summary[0].retention_cutoff_ms, kStart + 30 * kDay);

  db_.reset();
  Open();
  EXPECT_EQ(db_->RetentionCutoff(0), kStart + 30 * kDay);
  EXPECT_TRUE(Raw("gauge", kStart, kStart + 30 * kDay - 1).empty());
  EXPECT_EQ(Write(testing::L({{"__name__", "gauge"}}), {{kStart + 29 * kDay, 1}}).samples_into_rollups, 1u);
}

TEST_F(RetentionTest, SeriesWithNoDataLeftAreRemoved) {
  Open();
  std::vector<Sample> ended, alive;
  for (int64_t t = kStart; t < kStart + 130 * kDay; t += 3600'000) {
    if (t < kStart + 10 * kDay) ended.push_back({t, 1});
    alive.push_back({t, 2});
  }
  Write(testing::L({{"__name__", "ended"}}), ended);
  Write(testing::L({{"__name__", "alive"}}), alive);
  ASSERT_TRUE(db_->Checkpoint().ok());
  DownsampleStats downsampled;
  ASSERT_TRUE(db_->Downsample(kStart + 130 * kDay, &downsampled).ok());
  // The 1d cutoff moves in 120-day steps: to kStart + 120d here.
  const int64_t want = kStart + 125 * kDay;
  RetentionStats stats = Apply(want, want, want, want);
  EXPECT_EQ(stats.cutoff_ms[3], kStart + 120 * kDay);
  EXPECT_EQ(stats.series_removed, 1u);
  std::vector<std::string> names;
  ASSERT_TRUE(db_->LabelValues("__name__", {}, INT64_MIN, INT64_MAX, &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"alive"}));
  EXPECT_EQ(db_->Stats().series_total, 1u);
  db_.reset();
  Open();
  ASSERT_TRUE(db_->LabelValues("__name__", {}, INT64_MIN, INT64_MAX, &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"alive"}));
  EXPECT_EQ(Apply(want, want, want, want).series_removed, 0u);
}

}  // namespace
}  // namespace tsvault::storage
