// `tsvault compact`: offline maintenance of a stopped node's data directory.
// Opens it (replaying the WAL), checkpoints the head, flushes every memtable
// and compacts every column family to the bottom level, so the directory
// holds only live data. RocksDB's lock file refuses a directory that a
// running server holds.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "storage/db.h"
#include "tools/commands.h"

namespace tsvault::tools {

namespace {

int RunCompact(const std::string& data_dir) {
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
  CLI::App* command = app->add_subcommand(
      "compact", "Compact a stopped node's data directory (checkpoint, flush, full compaction)");
  command->add_option("--storage.path,--data-dir", *data_dir, "Data directory")->capture_default_str();
  command->callback([data_dir] { std::exit(RunCompact(*data_dir)); });
}

}  // namespace tsvault::tools
