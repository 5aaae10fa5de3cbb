// Retention (DB::ApplyRetention): what a cutoff may drop (only what the
// next resolution has stored, never what a stale mark still needs), that
// reads stop seeing dropped data at once while rollups keep answering, that
// samples before the raw cutoff are refused, and that the records really go
// (compaction filter) and the cutoffs survive a restart.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "storage/db.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_labels.h"

namespace tsvault::storage {
namespace {

using model::FloatWindow;

constexpr int64_t kDay = model::kResolution1d;
// 120-day aligned, so every level's cutoff unit (1d, 10d, 120d) divides it.
constexpr int64_t kStart = 1'700'000'000'000 / (120 * kDay) * (120 * kDay);
constexpr int64_t kDays = 40;
constexpr int64_t kInterval = 60'000;

class RetentionTest : public ::testing::Test {
 protected:
  void Open() {
    Options options;
    options.data_dir = dir_.path();
    options.wal_sync = WalSyncMode::kNone;
    options.background_checkpoints = false;
    ASSERT_TRUE(DB::Open(options, &db_).ok());
  }

  WriteResult Write(const Labels& labels, std::vector<Sample> samples) {
    WriteInput input;
    input.series.push_back(SeriesWrite{labels, std::move(samples), {}, {}});
    WriteResult result;
    EXPECT_TRUE(db_->Append(input, &result).ok());
    return result;
  }

  // A counter (with a reset every 9 days) and a gauge, every minute for 40 days.
  void WriteData() {
    std::vector<Sample> counter, gauge;
    double value = 0;
    for (int64_t t = kStart + 1000; t < kStart + kDays * kDay; t += kInterval) {
      value = (t - kStart) % (9 * kDay) < kInterval ? 0 : value + 2;
      counter.push_back({t, value});
      gauge.push_back({t, static_cast<double>((t / kInterval) % 17)});
    }
    Write(testing::L({{"__name__", "counter"}}), counter);
    Write(testing::L({{"__name__", "gauge"}}), gauge);
    ASSERT_TRUE(db_->Checkpoint().ok());
  }

  static std::vector<LabelMatcher> Named(const char* name) {
    LabelMatcher m;
    EXPECT_TRUE(LabelMatcher::Create(MatchType::kEqual, "__name__", name, &m).ok());
    return {m};
  }

  // Raw samples of `name` in [mint, maxt].
  std::vector<Sample> Raw(const char* name, int64_t mint, int64_t maxt) {
    std::unique_ptr<SeriesSet> set;
    EXPECT_TRUE(db_->Select(SelectHints(mint, maxt), Named(name), &set).ok());
    std::vector<Sample> out;
    while (set->Next()) {
      auto it = set->Samples();
      while (it->Next()) out.push_back({it->timestamp(), it->value()});
    }
    EXPECT_TRUE(set->status().ok());
    return out;
  }

  // Windows of `name` at `resolution` over [mint, maxt], read through a
  // select that allows rollups up to 1d.
  std::vector<FloatWindow> Windows(const char* name, int64_t resolution, int64_t mint, int64_t maxt,
                                   bool* found = nullptr) {
    SelectHints hints(mint, maxt);
    hints.max_resolution_ms = model::kResolution1d;
    std::unique_ptr<SeriesSet> set;
    EXPECT_TRUE(db_->Select(hints, Named(name), &set).ok());
    std::vector<FloatWindow> out;
    if (found != nullptr) *found = false;
    while (set->Next()) {
      if (found != nullptr) *found = true;
      EXPECT_TRUE(set->Windows(resolution, &out).ok());
    }
    return out;
  }

  static void ExpectSameWindows(const std::vector<FloatWindow>& got, const std::vector<FloatWindow>& want,
                                const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].end_ms, want[i].end_ms) << what;
      EXPECT_EQ(got[i].count, want[i].count) << what << " window " << got[i].end_ms;
      EXPECT_EQ(got[i].first_v, want[i].first_v) << what;
      EXPECT_EQ(got[i].last_v, want[i].last_v) << what;
      EXPECT_EQ(got[i].resets, want[i].resets) << what;
      EXPECT_DOUBLE_EQ(got[i].sum, want[i].sum) << what;
    }
  }

  RetentionStats Apply(int64_t raw, int64_t r5m = INT64_MIN, int64_t r1h = INT64_MIN, int64_t r1d = INT64_MIN) {
    RetentionRequest request;
    request.drop_before_ms[0] = raw;
    request.drop_before_ms[1] = r5m;
    request.drop_before_ms[2] = r1h;
    request.drop_before_ms[3] = r1d;
    RetentionStats stats;
    EXPECT_TRUE(db_->ApplyRetention(request, &stats).ok());
    return stats;
  }

  testing::TempDir dir_;
  std::unique_ptr<DB> db_;
};

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

  // Samples before the cutoff are refused; the rest of the request lands.
  // So is one exactly at the cutoff: its 5m window ends there, in a span
  // whose raw data is gone, so it could not be rolled up again.
  const WriteResult result = Write(testing::L({{"__name__", "counter"}}),
                                   {{kStart + 5 * kDay, 1}, {cutoff + 30, 7}, {cutoff - 1, 2}, {cutoff, 3}});
  EXPECT_EQ(result.samples_too_old, 3u);
  EXPECT_EQ(result.samples_written, 1u);
  ASSERT_EQ(result.errors.size(), 3u);
  EXPECT_EQ(result.errors[0].rfind("too_old: ", 0), 0u) << result.errors[0];
  EXPECT_NE(result.errors[0].find(std::to_string(cutoff)), std::string::npos) << result.errors[0];

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
  EXPECT_EQ(Write(testing::L({{"__name__", "gauge"}}), {{kStart + 29 * kDay, 1}}).samples_too_old, 1u);
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
