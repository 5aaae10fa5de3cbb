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

}  // namespace
}  // namespace tsvault
