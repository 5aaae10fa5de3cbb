// `tsvault delete`: deletes series data from a stopped node's data
// directory, as the admin API's delete_series does on a running server:
// every resolution, whole series when no range is given.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/time_parse.h"
#include "query/api/match_parameter.h"
#include "storage/db.h"
#include "tools/commands.h"

namespace tsvault::tools {

namespace {

struct DeleteFlags {
  std::string data_dir = "./data";
  std::vector<std::string> matches;
  std::string start;
  std::string end;
};

int RunDelete(const DeleteFlags& flags) {
  std::vector<std::vector<storage::LabelMatcher>> sets;
  Status s = query::ParseMatchParameter(flags.matches, &sets);
  if (!s.ok()) {
    spdlog::critical("delete: --match: {}", s.message());
    return 2;
  }
  int64_t start = kMinTimeMs, end = kMaxTimeMs;
  if (!flags.start.empty() && !(s = ParseTimeParam(flags.start, &start)).ok()) {
    spdlog::critical("delete: invalid --start: {}", s.message());
    return 2;
  }
  if (!flags.end.empty() && !(s = ParseTimeParam(flags.end, &end)).ok()) {
    spdlog::critical("delete: invalid --end: {}", s.message());
    return 2;
  }
  if (end < start) {
    spdlog::critical("delete: --end must not be before --start");
    return 2;
  }
  std::error_code ec;
  if (!std::filesystem::exists(flags.data_dir + "/rocksdb", ec)) {
    spdlog::critical("delete: no tsvault data in {}", flags.data_dir);
    return 1;
  }
  storage::Options options;
  options.data_dir = flags.data_dir;
  options.background_checkpoints = false;
  options.keep_stored_log_consumers = true;  // the server's forwarding targets keep their place
  std::unique_ptr<storage::DB> db;
  s = storage::DB::Open(options, &db);
  if (!s.ok()) {
    spdlog::critical("delete: cannot open {}: {}", flags.data_dir, s.ToString());
    return 1;
  }
  storage::DeleteStats total;
  for (size_t i = 0; i < sets.size(); ++i) {
    storage::DeleteStats stats;
    s = db->Delete(sets[i], start, end, &stats);
    if (!s.ok()) {
      spdlog::critical("delete: {}: {}", flags.matches[i], s.ToString());
      return 1;
    }
    spdlog::info("delete: {}: {} series, {} removed entirely, {} chunks dropped, {} cut, {} rollup spans to redo, "
                 "{} trimmed",
                 flags.matches[i], stats.series_matched, stats.series_removed, stats.chunks_deleted,
                 stats.chunks_rewritten, stats.spans_marked, stats.spans_trimmed);
    total.series_matched += stats.series_matched;
    total.spans_marked += stats.spans_marked;
  }
  if (total.spans_marked > 0) {
    // No server runs the downsampler here: redo the marked spans now (at
    // the current watermark, so nothing new is sealed).
    const storage::DBStats db_stats = db->Stats();
    storage::DownsampleStats redone;
    s = db->Downsample(db_stats.rollup_sealed_until_ms[0], &redone);
    if (!s.ok()) {
      spdlog::critical("delete: redoing rollups: {}", s.ToString());
      return 1;
    }
    spdlog::info("delete: {} rollup spans redone", redone.stale_spans_redone);
  }
  if (total.series_matched == 0) spdlog::warn("delete: no series matched");
  return 0;
}

}  // namespace

void AddDeleteCommand(CLI::App* app) {
  auto flags = std::make_shared<DeleteFlags>();
  CLI::App* command = app->add_subcommand(
      "delete", "Delete series data from a stopped node's data directory (every resolution)");
  command->add_option("--storage.path,--data-dir", flags->data_dir, "Data directory")->capture_default_str();
  command->add_option("--match", flags->matches, "Series selector, e.g. '{job=\"old\"}' (repeatable)")->required();
  command->add_option("--start", flags->start, "First time to delete (RFC 3339 or Unix seconds; default: all)");
  command->add_option("--end", flags->end, "Last time to delete (RFC 3339 or Unix seconds; default: all)");
  command->callback([flags] { std::exit(RunDelete(*flags)); });
}

}  // namespace tsvault::tools
