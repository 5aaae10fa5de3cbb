// kill -9 at any moment of downsampling loses nothing and leaves no half or
// stale rollup: the server seals windows continuously (no grace, a run every
// second) while backfills land in already sealed windows, and the test
// SIGKILLs it at seeded random moments. Afterwards the data directory is
// opened directly: every rollup window read must equal the window built
// from the raw samples, both as the crash left them and after the pending
// downsampling ran.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "storage/db.h"
#include "tests/support/process.h"
#include "tests/support/rollup_windows.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

constexpr int64_t kDay = 86400;

TEST(RollupCrashTest, RollupsAreExactAfterKillsDuringDownsampling) {
  testing::TempDir dir;
  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir.path() + "/data";
  options.log_path = dir.path() + "/tsvault.log";
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t end = now / kDay * kDay;
  const int64_t start = end - 4 * kDay;
  std::mt19937_64 rng(42);
  int kills = 0;

  auto backfill = [&](testing::TsvaultServer* server, int64_t from, int64_t to, const char* interval,
                      const std::string& log, testing::Process* loadgen) {
    return loadgen->Start({{testing::TsvaultBinaryPath(), "loadgen", "--url", server->base_url() + "/api/v1/write",
                            "--scale", "1", "--seed", "9", "--interval", interval, "--backfill", "--from",
                            std::to_string(from), "--to", std::to_string(to), "--metric-filter", "reengagement_.*",
                            "--concurrency", "2", "--steps-per-request", "120", "--max-retries", "0"},
                           {},
                           log});
  };

  // 1. Four days of data while nothing is sealed (a grace of 100 days).
  options.extra_args = {"--storage.wal-sync=none", "--downsample.grace=2400h", "--downsample.interval=1s"};
  {
    testing::TsvaultServer server(options);
    ASSERT_TRUE(server.Start().ok()) << server.LogTail();
    testing::Process loadgen;
    ASSERT_TRUE(backfill(&server, start, end, "30s", dir.path() + "/loadgen.log", &loadgen).ok());
    ASSERT_TRUE(loadgen.WaitForExit(std::chrono::minutes(3)));
    ASSERT_EQ(loadgen.last_wait_status(), 0) << testing::ReadLogTail(dir.path() + "/loadgen.log");
    ASSERT_TRUE(server.Stop().ok());
  }

  // 2. No grace: the first run at start-up seals all four days; kill it
  //    part-way, several times.
  options.extra_args = {"--storage.wal-sync=none", "--downsample.grace=0s", "--downsample.interval=1s"};
  testing::TsvaultServer server(options);
  for (int attempt = 0; attempt < 4; ++attempt) {
    ASSERT_TRUE(server.Start().ok()) << server.LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 400));
    server.Kill();
    ++kills;
  }

  // 3. Late backfills into sealed windows (another interval, so new
  //    timestamps land in existing series), killed at random moments, as
  //    are the restarted downsampler's runs.
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(server.Start().ok()) << server.LogTail();
    const int64_t from = start + round * kDay;
    testing::Process loadgen;
    ASSERT_TRUE(backfill(&server, from, from + kDay, "45s", dir.path() + "/late-" + std::to_string(round) + ".log",
                         &loadgen)
                    .ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 1000));
    server.Kill();
    ++kills;
    loadgen.WaitForExit(std::chrono::minutes(2));
    ASSERT_TRUE(server.Start().ok()) << server.LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 500));
    server.Kill();
    ++kills;
  }
  ASSERT_TRUE(server.Start().ok()) << server.LogTail();
  server.Kill();
  const std::string log_text = server.LogTail(1'000'000);
  std::cout << "rollup crash test: " << kills << " kills; stale spans redone in the log: "
            << (log_text.find("stale spans redone") != std::string::npos) << "\n";

  storage::Options db_options;
  db_options.data_dir = options.data_dir;
  db_options.background_checkpoints = false;
  std::unique_ptr<storage::DB> db;
  ASSERT_TRUE(storage::DB::Open(db_options, &db).ok());
  const storage::DBStats stats = db->Stats();
  EXPECT_GT(stats.rollup_sealed_until_ms[0], start * 1000) << "nothing was ever sealed";
  uint64_t compared = 0;
  EXPECT_EQ(testing::CompareWindowsWithRaw(db.get(), start * 1000, end * 1000, &compared), "") << "as the crash left them";
  EXPECT_GT(compared, 1000u);
  storage::DownsampleStats downsample;
  ASSERT_TRUE(db->Downsample(end * 1000, &downsample).ok());
  compared = 0;
  EXPECT_EQ(testing::CompareWindowsWithRaw(db.get(), start * 1000, end * 1000, &compared), "") << "after downsampling";
  ASSERT_TRUE(db->Downsample(end * 1000, &downsample).ok());
  EXPECT_EQ(downsample.stale_spans_redone, 0u) << "stale marks were left behind";
}

// Every window of every series at every resolution over [start, end], by
// series and resolution, with its fields spelled out for comparison.
std::map<std::string, std::vector<std::string>> AllWindows(storage::DB* db, int64_t start_ms, int64_t end_ms) {
  storage::LabelMatcher any;
  EXPECT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kRegexMatch, "__name__", ".+", &any).ok());
  storage::SelectHints hints(start_ms, end_ms);
  hints.max_resolution_ms = model::kResolution1d;
  std::unique_ptr<storage::SeriesSet> set;
  EXPECT_TRUE(db->Select(hints, {any}, &set).ok());
  std::map<std::string, std::vector<std::string>> out;
  std::vector<model::FloatWindow> windows;
  while (set->Next()) {
    for (int64_t resolution : {model::kResolution5m, model::kResolution1h, model::kResolution1d}) {
      EXPECT_TRUE(set->Windows(resolution, &windows).ok());
      auto& list = out[LabelsToString(set->labels()) + " " + model::ResolutionName(resolution)];
      for (const model::FloatWindow& w : windows) {
        list.push_back(std::to_string(w.end_ms) + " n=" + std::to_string(w.count) + " sum=" + std::to_string(w.sum) +
                       " first=" + std::to_string(w.first_t) + ":" + std::to_string(w.first_v) +
                       " last=" + std::to_string(w.last_t) + ":" + std::to_string(w.last_v) +
                       " resets=" + std::to_string(w.resets) + " changes=" + std::to_string(w.changes));
      }
    }
  }
  EXPECT_TRUE(set->status().ok());
  return out;
}

// kill -9 at any moment of retention (the cutoff write, the compaction that
// frees the space) keeps every rollup window exact and drops only raw data.
TEST(RollupCrashTest, RetentionKeepsEveryRollupAcrossKills) {
  testing::TempDir dir;
  testing::TsvaultServerOptions options;
  options.binary = testing::TsvaultBinaryPath();
  options.data_dir = dir.path() + "/data";
  options.log_path = dir.path() + "/tsvault.log";
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t end = now / kDay * kDay;
  const int64_t start = end - 4 * kDay;
  std::mt19937_64 rng(7);

  // Four days of data, nothing sealed yet.
  options.extra_args = {"--storage.wal-sync=none", "--downsample.grace=2400h", "--downsample.interval=1s"};
  {
    testing::TsvaultServer server(options);
    ASSERT_TRUE(server.Start().ok()) << server.LogTail();
    testing::Process loadgen;
    ASSERT_TRUE(loadgen
                    .Start({{testing::TsvaultBinaryPath(), "loadgen", "--url", server.base_url() + "/api/v1/write",
                             "--scale", "1", "--seed", "9", "--interval", "30s", "--backfill", "--from",
                             std::to_string(start), "--to", std::to_string(end), "--metric-filter",
                             "reengagement_.*", "--concurrency", "2", "--steps-per-request", "120"},
                            {},
                            dir.path() + "/loadgen.log"})
                    .ok());
    ASSERT_TRUE(loadgen.WaitForExit(std::chrono::minutes(3)));
    ASSERT_EQ(loadgen.last_wait_status(), 0) << testing::ReadLogTail(dir.path() + "/loadgen.log");
    ASSERT_TRUE(server.Stop().ok());
  }
  // Seal everything and remember the windows.
  storage::Options db_options;
  db_options.data_dir = options.data_dir;
  db_options.background_checkpoints = false;
  std::map<std::string, std::vector<std::string>> before;
  {
    std::unique_ptr<storage::DB> db;
    ASSERT_TRUE(storage::DB::Open(db_options, &db).ok());
    storage::DownsampleStats downsample;
    ASSERT_TRUE(db->Downsample(end * 1000, &downsample).ok());
    before = AllWindows(db.get(), start * 1000, end * 1000);
  }
  ASSERT_GT(before.size(), 100u);

  // Raw kept for two days: each start applies retention (and compacts to
  // free the space) right after its first downsampling run. Kill it
  // part-way, several times, then let one run finish.
  options.extra_args = {"--storage.wal-sync=none", "--downsample.grace=0s", "--downsample.interval=1s",
                        "--retention.resolution-raw=2d"};
  testing::TsvaultServer server(options);
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSERT_TRUE(server.Start().ok()) << server.LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 600));
    server.Kill();
  }
  ASSERT_TRUE(server.Start().ok()) << server.LogTail();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(server.Stop().ok());

  std::unique_ptr<storage::DB> db;
  ASSERT_TRUE(storage::DB::Open(db_options, &db).ok());
  const int64_t cutoff = (end - 2 * kDay) * 1000;
  EXPECT_EQ(db->RetentionCutoff(0), cutoff) << server.LogTail();
  const auto after = AllWindows(db.get(), start * 1000, end * 1000);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [key, windows] : before) {
    auto found = after.find(key);
    ASSERT_NE(found, after.end()) << key;
    EXPECT_EQ(found->second, windows) << key;
  }
  // Raw samples before the cutoff are gone; after it they are all there.
  storage::LabelMatcher any;
  ASSERT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kRegexMatch, "__name__", ".+", &any).ok());
  std::unique_ptr<storage::SeriesSet> set;
  ASSERT_TRUE(db->Select(storage::SelectHints(start * 1000, end * 1000), {any}, &set).ok());
  uint64_t kept = 0;
  while (set->Next()) {
    auto samples = set->Samples();
    while (samples->Next()) {
      ASSERT_GE(samples->timestamp(), cutoff);
      ++kept;
    }
  }
  EXPECT_GT(kept, 1000u);
}

}  // namespace
}  // namespace tsvault
