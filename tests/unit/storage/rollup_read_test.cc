// Rollup windows read through SeriesSet::Windows: computed from raw before
// the downsampler runs, read from disk after, recomputed where late samples
// made them stale, and kept across restarts; always equal to windows built
// from the raw samples.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "model/float_histogram.h"
#include "storage/db.h"
#include "tests/support/histogram_series.h"
#include "tests/support/rollup_windows.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_labels.h"

namespace tsvault::storage {
namespace {

using model::FloatWindow;

constexpr int64_t kStart = 1'700'000'000'000 / model::kResolution1d * model::kResolution1d;
constexpr int64_t kDays = 3;

class RollupReadTest : public ::testing::Test {
 protected:
  void Open() {
    Options options;
    options.data_dir = dir_.path();
    options.wal_sync = WalSyncMode::kNone;
    options.background_checkpoints = false;
    ASSERT_TRUE(DB::Open(options, &db_).ok());
  }

  void Write(const Labels& labels, std::vector<Sample> samples, std::vector<Histogram> histograms = {}) {
    WriteInput input;
    input.series.push_back(SeriesWrite{labels, std::move(samples), std::move(histograms), {}});
    WriteResult result;
    ASSERT_TRUE(db_->Append(input, &result).ok());
  }

  void ExpectAllMatchRaw(const std::string& state, uint64_t min_windows = 2000) {
    uint64_t compared = 0;
    const std::string difference =
        testing::CompareWindowsWithRaw(db_.get(), kStart, kStart + kDays * model::kResolution1d, &compared);
    EXPECT_EQ(difference, "") << state;
    EXPECT_GE(compared, min_windows) << state;
  }

  void WriteData() {
    std::mt19937_64 rng(1);
    double stale;
    std::memcpy(&stale, &kStaleNaNBits, sizeof(stale));
    std::vector<Sample> counter, gauge, ended;
    double value = 0;
    for (int64_t t = kStart + 7; t < kStart + kDays * model::kResolution1d; t += 15'000) {
      value = rng() % 500 == 0 ? 1 : value + static_cast<double>(rng() % 10);
      counter.push_back({t, value});
      const uint64_t roll = rng() % 1000;
      gauge.push_back({t, roll < 3 ? NAN : roll < 5 ? stale : static_cast<double>(rng() % 100) / 10});
      if (t < kStart + model::kResolution1d + 3 * 3600'000) ended.push_back({t, 1});
    }
    ended.push_back({ended.back().timestamp_ms + 15'000, stale});
    // A native histogram counter for two days (resets, hints, a schema
    // change, float counts, a stale marker, a zero-threshold change).
    testing::HistogramSeriesOptions options;
    options.zero_threshold_change = true;
    const std::vector<Histogram> histograms =
        testing::RandomHistogramSeries(2, kStart + 11, kStart + 2 * model::kResolution1d, 30'000, options);
    Write(testing::L({{"__name__", "counter"}}), counter, {});
    Write(testing::L({{"__name__", "gauge"}}), gauge, {});
    Write(testing::L({{"__name__", "ended"}}), ended, {});
    Write(testing::L({{"__name__", "native"}}), {}, histograms);
  }

  static LabelMatcher AnyName() {
    LabelMatcher m;
    EXPECT_TRUE(LabelMatcher::Create(MatchType::kRegexMatch, "__name__", ".+", &m).ok());
    return m;
  }

  testing::TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(RollupReadTest, WindowsEqualRawInEveryState) {
  Open();
  WriteData();
  ASSERT_TRUE(db_->Checkpoint().ok());
  ExpectAllMatchRaw("computed");

  DownsampleStats stats;
  const int64_t seal = kStart + kDays * model::kResolution1d - 5 * 3600'000;
  ASSERT_TRUE(db_->Downsample(seal, &stats).ok());
  EXPECT_GT(stats.windows_written, 1000u);
  EXPECT_EQ(stats.sealed_until_ms[0], seal / model::kResolution5m * model::kResolution5m);
  EXPECT_EQ(stats.sealed_until_ms[1], seal / model::kResolution1h * model::kResolution1h);
  EXPECT_EQ(stats.sealed_until_ms[2], seal / model::kResolution1d * model::kResolution1d);
  ExpectAllMatchRaw("sealed");

  // Late samples land in sealed windows (a backfill, an import).
  Write(testing::L({{"__name__", "counter"}}), {{kStart + 3600'000 + 1, 5}, {kStart + 30 * 3600'000 + 2, 1e9}});
  Write(testing::L({{"__name__", "late"}}), {{kStart + 100, 3}, {kStart + 200, 4}});
  Write(testing::L({{"__name__", "late_native"}}), {},
        testing::RandomHistogramSeries(4, kStart + 5 * 3600'000, kStart + 7 * 3600'000, 20'000, {}));
  ExpectAllMatchRaw("late samples, not yet redone");
  ASSERT_TRUE(db_->Downsample(seal, &stats).ok());
  EXPECT_GE(stats.stale_spans_redone, 3u);  // counter at 5m, 1h, 1d at least
  ExpectAllMatchRaw("late samples redone");
  ASSERT_TRUE(db_->Downsample(seal, &stats).ok());
  EXPECT_EQ(stats.stale_spans_redone, 0u);  // the marks are gone

  // Sealing further, then a restart: the watermarks and rollups persist.
  ASSERT_TRUE(db_->Downsample(kStart + kDays * model::kResolution1d, &stats).ok());
  db_.reset();
  Open();
  EXPECT_EQ(db_->Stats().rollup_sealed_until_ms[0], kStart + kDays * model::kResolution1d);
  ExpectAllMatchRaw("after restart");
}

TEST_F(RollupReadTest, SamplesNearTheInt64LimitsDoNotHideASeriesFromRollups) {
  Open();
  Write(testing::L({{"__name__", "extreme"}}),
        {{INT64_MIN + 1, 1}, {kStart + 1000, 2}, {kStart + 2 * model::kResolution1d, 3}, {INT64_MAX - 1, 4}});
  DownsampleStats stats;
  ASSERT_TRUE(db_->Downsample(kStart + kDays * model::kResolution1d, &stats).ok());
  EXPECT_GT(stats.windows_written, 0u);
  ExpectAllMatchRaw("extreme timestamps", 6);
  // A late sample: every resolution's span gets a mark in the same write.
  Write(testing::L({{"__name__", "extreme"}}), {{kStart + 5000, 7}});
  ExpectAllMatchRaw("late sample", 6);
  ASSERT_TRUE(db_->Downsample(kStart + kDays * model::kResolution1d, &stats).ok());
  EXPECT_EQ(stats.stale_spans_redone, 3u);  // 5m, 1h and 1d
  ExpectAllMatchRaw("redone", 6);
}

TEST_F(RollupReadTest, UnknownResolutionIsRefused) {
  Open();
  Write(testing::L({{"__name__", "x"}}), {{kStart + 1, 1}});
  std::unique_ptr<SeriesSet> set;
  ASSERT_TRUE(db_->Select(SelectHints(kStart, kStart + 10), {AnyName()}, &set).ok());
  ASSERT_TRUE(set->Next());
  std::vector<FloatWindow> windows;
  EXPECT_TRUE(set->Windows(7 * 60'000, &windows).IsInvalidArgument());
  ASSERT_TRUE(set->Windows(model::kResolution5m, &windows).ok());
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].count, 1u);
}

}  // namespace
}  // namespace tsvault::storage
