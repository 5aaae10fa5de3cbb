// The fixture of the retention and history tests: a DB in a temp dir,
// 40 days of a counter and a gauge, and readers of raw samples and windows.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "storage/db.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_labels.h"

namespace tsvault::storage {

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

}  // namespace tsvault::storage
