// History (db_history.cc): samples at or before the raw retention cutoff go
// into the finest rollup level that still holds their time, exactly, or are
// refused with a reason; a re-run writes nothing twice; the coarser levels
// follow (read at once, redone by the downsampler) and it all survives a
// restart.
#include "tests/unit/storage/retention_fixture.h"

namespace tsvault::storage {
namespace {

class HistoryTest : public RetentionTest {
 protected:
  // 40 days of data, sealed to day 35; raw dropped before day 20, 5m
  // before day 10.
  void SetUp() override {
    Open();
    WriteData();
    DownsampleStats downsampled;
    ASSERT_TRUE(db_->Downsample(kStart + 35 * kDay, &downsampled).ok());
    const RetentionStats stats = Apply(kStart + 20 * kDay, kStart + 10 * kDay);
    ASSERT_EQ(stats.cutoff_ms[0], kStart + 20 * kDay);
    ASSERT_EQ(stats.cutoff_ms[1], kStart + 10 * kDay);
  }

  // One sample a day at 03:00 for days [first, last), value 100 + day.
  static std::vector<Sample> Daily(int first, int last) {
    std::vector<Sample> samples;
    for (int day = first; day < last; ++day) samples.push_back({kStart + day * kDay + 3 * 3600'000, 100.0 + day});
    return samples;
  }
};

TEST_F(HistoryTest, OldSamplesLandInTheFinestLevelThatHoldsThem) {
  const Labels imported = testing::L({{"__name__", "imported"}});
  const WriteResult result = Write(imported, Daily(0, 30));
  EXPECT_EQ(result.samples_written, 30u);
  EXPECT_EQ(result.samples_into_rollups, 20u);  // days 0-19; 20-29 are raw
  EXPECT_EQ(result.samples_too_old, 0u);
  EXPECT_TRUE(result.errors.empty());

  // Days 10-19 are 5m windows, days 0-9 only 1h windows (5m is dropped there).
  const auto windows_5m = Windows("imported", model::kResolution5m, kStart, kStart + 20 * kDay);
  ASSERT_EQ(windows_5m.size(), 10u);
  EXPECT_EQ(windows_5m[0].end_ms, kStart + 10 * kDay + 3 * 3600'000);
  EXPECT_EQ(windows_5m[0].last_v, 110);
  const auto windows_1h = Windows("imported", model::kResolution1h, kStart, kStart + 20 * kDay);
  ASSERT_EQ(windows_1h.size(), 20u);
  for (int day = 0; day < 20; ++day) {
    EXPECT_EQ(windows_1h[day].end_ms, kStart + day * kDay + 3 * 3600'000) << day;
    EXPECT_EQ(windows_1h[day].count, 1u) << day;
    EXPECT_EQ(windows_1h[day].first_v, 100.0 + day) << day;
  }
  // 1d windows read the whole month: history and raw alike.
  const auto windows_1d = Windows("imported", model::kResolution1d, kStart, kStart + 30 * kDay);
  ASSERT_EQ(windows_1d.size(), 30u);
  double sum = 0;
  for (const auto& window : windows_1d) sum += window.sum;
  EXPECT_EQ(sum, 30 * 100 + 29 * 30 / 2);
  // Raw reads hold only what is after the cutoff.
  EXPECT_EQ(Raw("imported", kStart, kStart + kDays * kDay).size(), 10u);

  // The downsampler redoes the coarser spans marked stale: same windows.
  DownsampleStats redo;
  ASSERT_TRUE(db_->Downsample(kStart + 35 * kDay, &redo).ok());
  EXPECT_GT(redo.stale_spans_redone, 0u);
  ExpectSameWindows(Windows("imported", model::kResolution1h, kStart, kStart + 20 * kDay), windows_1h, "1h redone");
  ExpectSameWindows(Windows("imported", model::kResolution1d, kStart, kStart + 30 * kDay), windows_1d, "1d redone");

  // A re-run stores nothing twice; another value at a stored time conflicts.
  const WriteResult again = Write(imported, Daily(0, 30));
  EXPECT_EQ(again.samples_written, 30u);
  EXPECT_EQ(again.samples_into_rollups, 0u);
  EXPECT_EQ(again.samples_rejected, 0u);
  ExpectSameWindows(Windows("imported", model::kResolution1d, kStart, kStart + 30 * kDay), windows_1d, "re-run");
  const WriteResult changed = Write(imported, {{kStart + 5 * kDay + 3 * 3600'000, 7}});
  EXPECT_EQ(changed.samples_rejected, 1u);
  ASSERT_EQ(changed.errors.size(), 1u);
  EXPECT_EQ(changed.errors[0].rfind("duplicate_timestamp: ", 0), 0u) << changed.errors[0];

  // All of it survives a restart.
  db_.reset();
  Open();
  ExpectSameWindows(Windows("imported", model::kResolution1h, kStart, kStart + 20 * kDay), windows_1h, "reopened");
}

TEST_F(HistoryTest, ASampleGoesBeforeOrAfterAWindowsSamplesNeverBetween) {
  const Labels counter = testing::L({{"__name__", "counter"}});
  // The counter has samples at every minute + 1 s; the 5m window ending at
  // `end` holds end - 299 s ... end - 59 s.
  const int64_t end = kStart + 15 * kDay + 300'000;
  const auto before = Windows("counter", model::kResolution5m, end, end);
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(before[0].count, 5u);
  ASSERT_EQ(before[0].first_t, end - 299'000);

  const WriteResult result = Write(counter, {{end - 299'500, before[0].first_v}, {end - 150'000, 1}, {end - 10, 1e9}});
  EXPECT_EQ(result.samples_into_rollups, 2u);
  EXPECT_EQ(result.samples_too_old, 1u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].find("too_old: sample at timestamp " + std::to_string(end - 150'000) +
                                  " falls between the samples of its 5m rollup window"),
            std::string::npos)
      << result.errors[0];
  const auto after = Windows("counter", model::kResolution5m, end, end);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].count, 7u);
  EXPECT_EQ(after[0].first_t, end - 299'500);
  EXPECT_EQ(after[0].last_t, end - 10);
  EXPECT_EQ(after[0].last_v, 1e9);
  EXPECT_EQ(after[0].max, 1e9);
  EXPECT_EQ(after[0].resets, before[0].resets);
  EXPECT_EQ(after[0].changes, before[0].changes + 1);  // the first value repeats; 1e9 is a change

  // The next window's first sample is below 1e9: a counter reset across
  // windows, which a 1h window (computed from 5m ones) counts.
  const int64_t hour_end = kStart + 15 * kDay + 3600'000;
  const auto hour = Windows("counter", model::kResolution1h, hour_end, hour_end);
  ASSERT_EQ(hour.size(), 1u);
  EXPECT_EQ(hour[0].resets, 1u);
}

TEST_F(HistoryTest, SamplesBeforeEveryLevelAreRefused) {
  // 1h and 1d move in 120-day steps: both drop everything before kStart.
  const RetentionStats stats = Apply(kStart + 20 * kDay, kStart + 10 * kDay, kStart + 25 * kDay, kStart + 25 * kDay);
  ASSERT_EQ(stats.cutoff_ms[3], kStart);
  const WriteResult result = Write(testing::L({{"__name__", "imported"}}), {{kStart - kDay, 1}, {kStart + 1, 2}});
  EXPECT_EQ(result.samples_too_old, 1u);
  EXPECT_EQ(result.samples_into_rollups, 1u);  // kStart + 1: the 1h window ending at kStart + 1h
  ASSERT_FALSE(result.errors.empty());
  EXPECT_NE(result.errors[0].find("is not after the 1d rollup retention cutoff"), std::string::npos)
      << result.errors[0];
}

}  // namespace
}  // namespace tsvault::storage
