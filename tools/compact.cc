// `tsvault compact`: offline maintenance of a stopped node's data directory.
// Opens it (replaying the WAL), seals pending rollup windows (as the
// server's downsampler would), applies the retention policy, checkpoints
// the head, flushes every memtable and compacts every column family to the
// bottom level, so the directory holds only live data. RocksDB's lock file
// refuses a directory that a running server holds.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "common/time_parse.h"
#include "compaction/retention.h"
#include "storage/db.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/retention_flags.h"

namespace tsvault::tools {

namespace {

struct CompactFlags {
  std::string data_dir = "./data";
  std::string grace = "1h";
  RetentionFlags retention;
};

int RunCompact(const CompactFlags& flags) {
  int64_t grace_ms;
  Status s = ParsePromDuration(flags.grace, &grace_ms);
  if (!s.ok()) {
    spdlog::critical("compact: invalid --downsample.grace: {}", s.message());
    return 2;
  }
  compaction::RetentionPolicy policy;
  s = flags.retention.Parse(&policy);
  if (!s.ok()) {
    spdlog::critical("compact: {}", s.message());
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  storage::Options options;
  options.data_dir = flags.data_dir;
  options.background_checkpoints = false;
  options.keep_stored_log_consumers = true;  // the server's forwarding targets keep their place
  // A bar on a terminal, plain progress lines otherwise.
  ProgressPrinter progress(isatty(STDERR_FILENO) == 1);
  options.progress_observer = [&progress](std::string_view stage, uint64_t done, uint64_t total) {
    progress.Update(stage, done, total);
  };
  std::unique_ptr<storage::DB> db;
  s = storage::DB::Open(options, &db);
  if (!s.ok()) {
    spdlog::critical("compact: cannot open {}: {}", flags.data_dir, s.ToString());
    return 1;
  }
  // Pending downsampling first, so retention may drop what it rolls up and
  // the full compaction covers the rollups.
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  storage::DownsampleStats stats;
  s = db->Downsample(now_ms - grace_ms, &stats);
  progress.Finish();
  if (!s.ok()) {
    spdlog::critical("compact: downsampling: {}", s.ToString());
    return 1;
  }
  spdlog::info("compact: downsampled {} series: {} windows in {} spans, {} stale spans redone",
               stats.series_scanned, stats.windows_written, stats.spans_written, stats.stale_spans_redone);
  // The full compaction below frees the space, so retention needs no
  // compaction of its own.
  compaction::RetentionEnforcer retention(db.get(), policy, nullptr);
  storage::RetentionStats retention_stats;
  s = retention.RunOnce(now_ms, /*reclaim_space=*/false, &retention_stats);
  if (!s.ok()) {
    spdlog::critical("compact: retention: {}", s.ToString());
    return 1;
  }
  s = db->CompactAll();
  progress.Finish();
  if (!s.ok()) {
    spdlog::critical("compact: {}", s.ToString());
    return 1;
  }
  db.reset();
  spdlog::info("compacted {} in {:.2f} s", flags.data_dir,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return 0;
}

}  // namespace

void AddCompactCommand(CLI::App* app) {
  auto flags = std::make_shared<CompactFlags>();
  CLI::App* command = app->add_subcommand(
      "compact",
      "Compact a stopped node's data directory (checkpoint, pending downsampling, retention, flush, full compaction)");
  command->add_option("--storage.path,--data-dir", flags->data_dir, "Data directory")->capture_default_str();
  command->add_option("--downsample.grace", flags->grace, "Seal rollup windows that ended this long ago")
      ->capture_default_str();
  flags->retention.AddTo(command);
  command->callback([flags] { std::exit(RunCompact(*flags)); });
}

}  // namespace tsvault::tools
