// `tsvault compact`: offline maintenance of a stopped node's data directory.
// Opens it (replaying the WAL), seals pending rollup windows (as the
// server's downsampler would), checkpoints the head, flushes every memtable
// and compacts every column family to the bottom level, so the directory
// holds only live data. RocksDB's lock file refuses a directory that a
// running server holds.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "common/time_parse.h"
#include "storage/db.h"
#include "tools/commands.h"

namespace tsvault::tools {

namespace {

int RunCompact(const std::string& data_dir, const std::string& grace_flag) {
  int64_t grace_ms;
  Status grace_status = ParsePromDuration(grace_flag, &grace_ms);
  if (!grace_status.ok()) {
    spdlog::critical("compact: invalid --downsample.grace: {}", grace_status.message());
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  storage::Options options;
  options.data_dir = data_dir;
  options.background_checkpoints = false;
  std::unique_ptr<storage::DB> db;
  Status s = storage::DB::Open(options, &db);
  if (!s.ok()) {
    spdlog::critical("compact: cannot open {}: {}", data_dir, s.ToString());
    return 1;
  }
  // Pending downsampling first, so the full compaction covers the rollups.
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  storage::DownsampleStats stats;
  s = db->Downsample(now_ms - grace_ms, &stats);
  if (!s.ok()) {
    spdlog::critical("compact: downsampling: {}", s.ToString());
    return 1;
  }
  spdlog::info("compact: downsampled {} series: {} windows in {} spans, {} stale spans redone",
               stats.series_scanned, stats.windows_written, stats.spans_written, stats.stale_spans_redone);
  s = db->CompactAll();
  if (!s.ok()) {
    spdlog::critical("compact: {}", s.ToString());
    return 1;
  }
  db.reset();
  spdlog::info("compacted {} in {:.2f} s", data_dir,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return 0;
}

}  // namespace

void AddCompactCommand(CLI::App* app) {
  auto data_dir = std::make_shared<std::string>("./data");
  auto grace = std::make_shared<std::string>("1h");
  CLI::App* command = app->add_subcommand(
      "compact",
      "Compact a stopped node's data directory (checkpoint, pending downsampling, flush, full compaction)");
  command->add_option("--storage.path,--data-dir", *data_dir, "Data directory")->capture_default_str();
  command->add_option("--downsample.grace", *grace, "Seal rollup windows that ended this long ago")
      ->capture_default_str();
  command->callback([data_dir, grace] { std::exit(RunCompact(*data_dir, *grace)); });
}

}  // namespace tsvault::tools
