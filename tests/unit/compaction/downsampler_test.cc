// The downsampling policy: how far a run seals, its metrics, and a
// background thread that stops promptly.
#include "compaction/downsampler.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>

#include "tests/support/temp_dir.h"
#include "tests/support/test_db.h"

namespace tsvault::compaction {
namespace {

constexpr int64_t kDay = 24 * 3600'000;
constexpr int64_t kNow = 20'000 * kDay + 17 * 60'000 + 123;  // 00:17:00.123 UTC

class DownsamplerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status status = tsvault::testing::OpenTestDB(dir_.path(), &db_);
    ASSERT_TRUE(status.ok()) << status.ToString();
    storage::WriteInput input;
    storage::SeriesWrite series;
    series.labels = {{"__name__", "reengagement_notifications_sent_total"}};
    for (int64_t t = kNow - 2 * kDay; t <= kNow; t += 60'000) {
      series.samples.push_back({t, static_cast<double>(t / 60'000 % 1000)});
    }
    input.series.push_back(series);
    storage::WriteResult result;
    ASSERT_TRUE(db_->Append(input, &result).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::DB> db_;
};

TEST_F(DownsamplerTest, SealsUpToNowMinusGraceAndReportsIt) {
  prometheus::Registry registry;
  DownsamplerOptions options;
  options.grace = std::chrono::hours(1);
  options.now_ms = [] { return kNow; };
  Downsampler downsampler(db_.get(), options, &registry);
  storage::DownsampleStats stats;
  ASSERT_TRUE(downsampler.RunOnce(&stats).ok());
  // now - 1h = 23:17:00.123 the day before: 5m sealed to 23:15, 1h to 23:00,
  // 1d to midnight before that.
  EXPECT_EQ(stats.sealed_until_ms[0], kNow - 123 - 2 * 60'000 - 3600'000);
  EXPECT_EQ(stats.sealed_until_ms[1], kNow - 17 * 60'000 - 123 - 3600'000);
  EXPECT_EQ(stats.sealed_until_ms[2], kNow - 17 * 60'000 - 123 - kDay);
  EXPECT_GT(stats.windows_written, 500u);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("tsvault_downsample_runs_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("tsvault_downsample_sealed_until_seconds{resolution=\"1h\"} " +
                      std::to_string((kNow - 17 * 60'000 - 123 - 3600'000) / 1000)),
            std::string::npos)
      << text;
  // A second run at the same time has nothing to do.
  ASSERT_TRUE(downsampler.RunOnce(&stats).ok());
  EXPECT_EQ(stats.windows_written, 0u);
}

TEST_F(DownsamplerTest, BackgroundThreadRunsAndStopsPromptly) {
  std::atomic<int> clock_reads{0};
  DownsamplerOptions options;
  options.interval = std::chrono::hours(1);  // only the immediate first run
  options.now_ms = [&clock_reads] {
    ++clock_reads;
    return kNow;
  };
  const auto started = std::chrono::steady_clock::now();
  {
    Downsampler downsampler(db_.get(), options, nullptr);
    downsampler.Start();
    for (int i = 0; i < 500 && clock_reads.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(clock_reads.load(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_EQ(db_->Stats().rollup_sealed_until_ms[1], kNow - 17 * 60'000 - 123 - 3600'000);
}

}  // namespace
}  // namespace tsvault::compaction
