// DB::Delete: whole series leave every resolution, the index and memory,
// for good (a restart does not bring them back); a time range is cut out of
// raw data in the head and on disk, and the rollups over it follow the raw
// data exactly; where retention dropped the raw data, the windows over the
// range go.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/db.h"
#include "tests/support/rollup_windows.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_labels.h"

namespace tsvault::storage {
namespace {

constexpr int64_t kDay = model::kResolution1d;
constexpr int64_t kStart = 1'700'000'000'000 / (120 * kDay) * (120 * kDay);
constexpr int64_t kInterval = 30'000;

class DeleteTest : public ::testing::Test {
 protected:
  void Open() {
    Options options;
    options.data_dir = dir_.path();
    options.wal_sync = WalSyncMode::kNone;
    options.background_checkpoints = false;
    ASSERT_TRUE(DB::Open(options, &db_).ok());
  }

  void Write(const Labels& labels, int64_t from, int64_t to) {
    WriteInput input;
    SeriesWrite write{labels, {}, {}, {}};
    for (int64_t t = from; t < to; t += kInterval) write.samples.push_back({t, static_cast<double>(t / kInterval % 1000)});
    input.series.push_back(std::move(write));
    WriteResult result;
    ASSERT_TRUE(db_->Append(input, &result).ok());
  }

  // Three days of three series: two days checkpointed to disk and sealed,
  // the third in the head only.
  void WriteData() {
    for (const Labels& labels : {testing::L({{"__name__", "a"}, {"x", "1"}}), testing::L({{"__name__", "a"}, {"x", "2"}}),
                                 testing::L({{"__name__", "b"}})}) {
      Write(labels, kStart, kStart + 2 * kDay);
    }
    ASSERT_TRUE(db_->Checkpoint().ok());
    DownsampleStats stats;
    ASSERT_TRUE(db_->Downsample(kStart + 2 * kDay, &stats).ok());
    for (const Labels& labels : {testing::L({{"__name__", "a"}, {"x", "1"}}), testing::L({{"__name__", "a"}, {"x", "2"}}),
                                 testing::L({{"__name__", "b"}})}) {
      Write(labels, kStart + 2 * kDay, kStart + 3 * kDay);
    }
  }

  static std::vector<LabelMatcher> M(MatchType type, const char* name, const char* value) {
    LabelMatcher m;
    EXPECT_TRUE(LabelMatcher::Create(type, name, value, &m).ok());
    return {m};
  }

  // Sample timestamps per series label string.
  std::map<std::string, std::vector<int64_t>> Raw() {
    std::unique_ptr<SeriesSet> set;
    EXPECT_TRUE(db_->Select(SelectHints(INT64_MIN, INT64_MAX), M(MatchType::kRegexMatch, "__name__", ".+"), &set).ok());
    std::map<std::string, std::vector<int64_t>> out;
    while (set->Next()) {
      auto& list = out[LabelsToString(set->labels())];
      auto it = set->Samples();
      while (it->Next()) list.push_back(it->timestamp());
    }
    return out;
  }

  void ExpectRollupsMatchRaw(const std::string& state) {
    uint64_t compared = 0;
    EXPECT_EQ(testing::CompareWindowsWithRaw(db_.get(), kStart, kStart + 3 * kDay, &compared), "") << state;
    EXPECT_GT(compared, 100u) << state;
  }

  testing::TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(DeleteTest, AWholeSeriesLeavesEverywhereForGood) {
  Open();
  WriteData();
  WriteInput probe;
  probe.series.push_back(SeriesWrite{testing::L({{"__name__", "a"}, {"x", "1"}}), {}, {}, {}});
  WriteResult refs;
  ASSERT_TRUE(db_->Append(probe, &refs).ok());
  const uint64_t old_ref = refs.series_refs[0];

  DeleteStats stats;
  std::vector<LabelMatcher> matchers = M(MatchType::kEqual, "__name__", "a");
  matchers.push_back(M(MatchType::kEqual, "x", "1")[0]);
  ASSERT_TRUE(db_->Delete(matchers, INT64_MIN, INT64_MAX, &stats).ok());
  EXPECT_EQ(stats.series_matched, 1u);
  EXPECT_EQ(stats.series_removed, 1u);

  auto check = [&](const std::string& state) {
    const auto raw = Raw();
    EXPECT_EQ(raw.count("a{x=\"1\"}"), 0u) << state;
    EXPECT_EQ(raw.at("a{x=\"2\"}").size(), static_cast<size_t>(3 * kDay / kInterval)) << state;
    std::vector<std::string> values;
    ASSERT_TRUE(db_->LabelValues("x", {}, INT64_MIN, INT64_MAX, &values).ok());
    EXPECT_EQ(values, (std::vector<std::string>{"2"})) << state;
    EXPECT_EQ(db_->Stats().series_total, 2u) << state;
    std::vector<ResolutionSummary> summary;
    ASSERT_TRUE(db_->Inspect(&summary).ok());
    for (const ResolutionSummary& r : summary) EXPECT_EQ(r.series, 2u) << state << " " << r.resolution_ms;
    ExpectRollupsMatchRaw(state);
  };
  check("deleted");
  // A reference to the deleted series is refused (the ingester then
  // resolves by labels): it does not write into a freed series.
  WriteInput by_ref;
  by_ref.series.push_back(SeriesWrite{{}, {{kStart + 5 * kDay, 1}}, {}, {}});
  by_ref.series[0].series_ref = old_ref;
  EXPECT_TRUE(db_->Append(by_ref, &refs).IsInvalidArgument());

  db_.reset();
  Open();
  check("after a restart");
  // The same labels again start a new series.
  Write(testing::L({{"__name__", "a"}, {"x", "1"}}), kStart + 4 * kDay, kStart + 4 * kDay + 3 * kInterval);
  EXPECT_EQ(Raw().at("a{x=\"1\"}").size(), 3u);
}

TEST_F(DeleteTest, ARangeIsCutFromHeadAndDiskAndRollupsFollow) {
  Open();
  WriteData();
  // From the middle of day 1 (on disk, sealed) into day 3 (the head).
  const int64_t from = kStart + kDay + 7 * 3600'000 + 12'345, to = kStart + 2 * kDay + 3600'000;
  DeleteStats stats;
  ASSERT_TRUE(db_->Delete(M(MatchType::kEqual, "__name__", "a"), from, to, &stats).ok());
  EXPECT_EQ(stats.series_matched, 2u);
  EXPECT_EQ(stats.series_removed, 0u);
  EXPECT_GT(stats.chunks_deleted, 10u);
  EXPECT_GE(stats.chunks_rewritten, 2u);
  EXPECT_GE(stats.spans_marked, 6u);

  auto check = [&](const std::string& state) {
    const auto raw = Raw();
    for (const char* name : {"a{x=\"1\"}", "a{x=\"2\"}"}) {
      std::vector<int64_t> want;
      for (int64_t t = kStart; t < kStart + 3 * kDay; t += kInterval) {
        if (t < from || t > to) want.push_back(t);
      }
      EXPECT_EQ(raw.at(name), want) << state << " " << name;
    }
    EXPECT_EQ(raw.at("b{}").size(), static_cast<size_t>(3 * kDay / kInterval)) << state;
    ExpectRollupsMatchRaw(state);
  };
  check("cut");
  DownsampleStats downsampled;
  ASSERT_TRUE(db_->Downsample(kStart + 3 * kDay, &downsampled).ok());
  check("sealed further");
  db_.reset();
  Open();
  check("after a restart");
}

TEST_F(DeleteTest, WhereRawDataIsGoneTheWindowsOverTheRangeGo) {
  Open();
  WriteData();
  RetentionRequest request;
  request.drop_before_ms[0] = kStart + kDay;
  RetentionStats retention;
  ASSERT_TRUE(db_->ApplyRetention(request, &retention).ok());
  ASSERT_EQ(retention.cutoff_ms[0], kStart + kDay);

  DeleteStats stats;
  ASSERT_TRUE(db_->Delete(M(MatchType::kEqual, "__name__", "b"), kStart + 3600'000, kStart + 2 * 3600'000 - 1, &stats).ok());
  SelectHints hints(kStart, kStart + kDay);
  hints.max_resolution_ms = model::kResolution1d;
  std::unique_ptr<SeriesSet> set;
  ASSERT_TRUE(db_->Select(hints, M(MatchType::kEqual, "__name__", "b"), &set).ok());
  ASSERT_TRUE(set->Next());
  std::vector<model::FloatWindow> windows;
  ASSERT_TRUE(set->Windows(model::kResolution5m, &windows).ok());
  // The 289 5m windows ending in [kStart, kStart + 1d], minus the 13 that
  // hold a time of [1h, 2h): the windows ending at 1h, 1h05, ..., 2h.
  EXPECT_EQ(windows.size(), 289u - 13u);
  for (const auto& w : windows) EXPECT_TRUE(w.end_ms < kStart + 3600'000 || w.end_ms > kStart + 2 * 3600'000) << w.end_ms;
  // 1h windows are made from what is left of the 5m ones: the one ending
  // at 1h lost its last 5m window (10 samples), the one ending at 2h all.
  ASSERT_TRUE(set->Windows(model::kResolution1h, &windows).ok());
  ASSERT_EQ(windows.size(), 25u - 1u);
  EXPECT_EQ(windows[1].end_ms, kStart + 3600'000);
  EXPECT_EQ(windows[1].count, 120u - 10u);
  EXPECT_EQ(windows[2].end_ms, kStart + 3 * 3600'000);
}

// Appends racing deletes of their own series: every append either lands
// before a delete (and goes with it) or after it (in a new series), never
// into a series that is gone, so the WAL a crash leaves always replays.
// The test hook holds each append between its head lock and its write, the
// window in which a delete used to slip in.
TEST_F(DeleteTest, DeletesRacingAppendsLeaveAReplayableLog) {
  Options options;
  options.data_dir = dir_.path();
  options.wal_sync = WalSyncMode::kNone;
  options.background_checkpoints = false;
  options.checkpoint_on_close = false;  // close as a crash would
  options.append_write_hook = [] { std::this_thread::sleep_for(std::chrono::milliseconds(3)); };
  int64_t appended = 0;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(DB::Open(options, &db_).ok());
    std::atomic<bool> stop{false};
    std::atomic<int64_t> writes{0};
    std::thread writer([&] {
      for (int64_t t = kStart + round * kDay; !stop.load(); t += kInterval) {
        WriteInput input;
        input.series.push_back(SeriesWrite{testing::L({{"__name__", "raced"}}), {{t, 1}}, {}, {}});
        input.series.push_back(SeriesWrite{testing::L({{"__name__", "kept"}}), {{t, 2}}, {}, {}});
        WriteResult result;
        EXPECT_TRUE(db_->Append(input, &result).ok());
        writes.fetch_add(1);
      }
    });
    while (writes.load() < 3) std::this_thread::yield();
    DeleteStats stats;
    ASSERT_TRUE(db_->Delete(M(MatchType::kEqual, "__name__", "raced"), INT64_MIN, INT64_MAX, &stats).ok());
    while (writes.load() < 6) std::this_thread::yield();
    stop.store(true);
    writer.join();
    appended += writes.load();
    db_.reset();
    Status reopened = DB::Open(options, &db_);
    ASSERT_TRUE(reopened.ok()) << "round " << round << ": " << reopened.ToString();
    EXPECT_EQ(Raw().at("kept{}").size(), static_cast<size_t>(appended));
    db_.reset();
  }
}

TEST_F(DeleteTest, BadRequestsAreRefused) {
  Open();
  WriteData();
  DeleteStats stats;
  EXPECT_TRUE(db_->Delete(M(MatchType::kRegexMatch, "__name__", ".*"), INT64_MIN, INT64_MAX, &stats).IsInvalidArgument());
  EXPECT_TRUE(db_->Delete(M(MatchType::kEqual, "__name__", "a"), 10, 5, &stats).IsInvalidArgument());
  EXPECT_EQ(Raw().size(), 3u);
}

}  // namespace
}  // namespace tsvault::storage
