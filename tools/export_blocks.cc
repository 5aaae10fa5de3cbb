// `tsvault export blocks`: writes a node's raw samples as Prometheus TSDB
// blocks (docs/export.md), the unit Thanos and Mimir keep in object storage
// and Prometheus, promtool and vmctl read.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/time_parse.h"
#include "query/api/match_parameter.h"
#include "query/api/series_merge.h"
#include "storage/db.h"
#include "storage/prometheus_tsdb/block_writer.h"
#include "tools/commands.h"
#include "tools/progress.h"

namespace tsvault::tools {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kTwoHoursMs = 2 * 3600 * 1000;
constexpr int64_t kDayMs = 24 * 3600 * 1000;

struct ExportFlags {
  std::string data_dir = "./data";
  std::string out;
  std::string from;
  std::string to;
  std::vector<std::string> matches;
  std::string block_duration = "2h";
};

// floor(a / b) for b > 0.
int64_t FloorDivide(int64_t a, int64_t b) { return a / b - (a % b != 0 && a < 0 ? 1 : 0); }

// The first existing block in `out` whose [minTime, maxTime) overlaps [from, to); "" when none.
std::string FindOverlappingBlock(const fs::path& out, int64_t from, int64_t to) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(out, error)) {
    std::ifstream file(entry.path() / "meta.json");
    if (!file) continue;
    const nlohmann::json meta = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
    if (!meta.is_object() || !meta.contains("minTime") || !meta.contains("maxTime") ||
        !meta.at("minTime").is_number_integer() || !meta.at("maxTime").is_number_integer()) {
      continue;
    }
    if (meta.at("minTime").get<int64_t>() < to && from < meta.at("maxTime").get<int64_t>()) {
      return entry.path().filename().string();
    }
  }
  return "";
}

struct ExportTotals {
  uint64_t blocks = 0, series = 0, samples = 0, chunks = 0, bytes = 0, histograms_skipped = 0;
  std::vector<std::string> written;  // block directories of this run
};

// Exports blocks [first_block, last_block] (block k covers [k·D, (k+1)·D))
// with one selection over their range.
Status ExportGroup(storage::DB* db, const std::vector<std::vector<storage::LabelMatcher>>& matcher_sets,
                   const std::string& out, int64_t duration, int64_t first_block, int64_t last_block, int64_t from,
                   int64_t to, ExportTotals* totals) {
  const int64_t group_start = first_block * duration;
  const int64_t group_end = (last_block + 1) * duration;  // exclusive
  storage::SelectHints hints(std::max(from, group_start), std::min(to, group_end - 1));
  hints.bulk = true;
  query::SeriesMerge series;
  Status s = series.Open(db, hints, matcher_sets);
  if (!s.ok()) return s;
  std::vector<std::unique_ptr<prometheus_tsdb::BlockWriter>> writers(last_block - first_block + 1);
  std::vector<model::Sample> samples;
  auto flush = [&](const Labels& labels, int64_t block) -> Status {
    if (samples.empty()) return Status::OK();
    auto& writer = writers[block - first_block];
    if (!writer) {
      Status created = prometheus_tsdb::BlockWriter::Create(out, block * duration, (block + 1) * duration, &writer);
      if (!created.ok()) return created;
    }
    Status added = writer->AddSeries(labels, samples);
    samples.clear();
    return added;
  };
  while (series.Next()) {
    std::unique_ptr<storage::SampleIterator> iterator = series.Samples();
    int64_t block = first_block;
    while (iterator->Next()) {
      if (iterator->is_histogram()) {
        ++totals->histograms_skipped;
        continue;
      }
      const int64_t sample_block = FloorDivide(iterator->timestamp(), duration);
      if (sample_block != block) {
        if (!(s = flush(series.labels(), block)).ok()) return s;
        block = sample_block;
      }
      samples.push_back({iterator->timestamp(), iterator->value()});
    }
    if (!(s = flush(series.labels(), block)).ok()) return s;
  }
  if (!(s = series.status()).ok()) return s;
  for (auto& writer : writers) {
    if (!writer) continue;
    std::string ulid;
    prometheus_tsdb::BlockStats stats;
    if (!(s = writer->Finish(&ulid, &stats)).ok()) return s;
    if (ulid.empty()) continue;
    totals->written.push_back((fs::path(out) / ulid).string());
    ++totals->blocks;
    totals->series += stats.series;
    totals->samples += stats.samples;
    totals->chunks += stats.chunks;
    totals->bytes += stats.bytes;
  }
  return Status::OK();
}

int RunExportBlocks(const ExportFlags& flags) {
  std::vector<std::vector<storage::LabelMatcher>> matcher_sets;
  const std::vector<std::string> matches =
      flags.matches.empty() ? std::vector<std::string>{"{__name__=~\".+\"}"} : flags.matches;
  Status s = query::ParseMatchParameter(matches, &matcher_sets);
  if (!s.ok()) {
    spdlog::critical("export blocks: --match: {}", s.message());
    return 2;
  }
  int64_t duration = 0;
  if (!(s = ParsePromDuration(flags.block_duration, &duration)).ok() || duration <= 0 ||
      duration % kTwoHoursMs != 0 || duration > 31 * kDayMs) {
    spdlog::critical("export blocks: --block-duration {}: must be a multiple of 2h up to 31d", flags.block_duration);
    return 2;
  }
  int64_t from = kMinTimeMs, to = kMaxTimeMs;
  if (!flags.from.empty() && !(s = ParseTimeParam(flags.from, &from)).ok()) {
    spdlog::critical("export blocks: invalid --from: {}", s.message());
    return 2;
  }
  if (!flags.to.empty() && !(s = ParseTimeParam(flags.to, &to)).ok()) {
    spdlog::critical("export blocks: invalid --to: {}", s.message());
    return 2;
  }
  std::error_code error;
  if (!fs::exists(flags.data_dir + "/rocksdb", error)) {
    spdlog::critical("export blocks: no tsvault data in {}", flags.data_dir);
    return 1;
  }
  storage::Options options;
  options.data_dir = flags.data_dir;
  options.read_only = true;
  options.background_checkpoints = false;
  std::unique_ptr<storage::DB> db;
  if (!(s = storage::DB::Open(options, &db)).ok()) {
    spdlog::critical("export blocks: cannot open {}: {}", flags.data_dir, s.ToString());
    return 1;
  }
  if (flags.from.empty()) {
    if (!(s = db->OldestTime(0, &from)).ok()) {
      spdlog::critical("export blocks: {}", s.ToString());
      return 1;
    }
  }
  if (flags.to.empty()) {
    // Now, not the newest sample: one far in the future (a unit mistake)
    // would make a long walk of empty blocks. --to exports such data.
    to = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
             .count();
  }
  if (from == kMaxTimeMs) {
    spdlog::warn("export blocks: {} holds no raw samples; nothing to export", flags.data_dir);
    return 0;
  }
  if (to < from) {
    spdlog::critical("export blocks: --to must not be before --from");
    return 2;
  }
  const int64_t raw_cutoff = db->RetentionCutoff(0);
  if (raw_cutoff != kMinTimeMs && from < raw_cutoff) {
    spdlog::warn("export blocks: raw samples before {} were downsampled and dropped by retention; "
                 "blocks hold raw samples only, so that range is not exported",
                 FormatRfc3339(raw_cutoff));
  }
  const int64_t first_block = FloorDivide(from, duration), last_block = FloorDivide(to, duration);
  const std::string overlapping = FindOverlappingBlock(flags.out, first_block * duration, (last_block + 1) * duration);
  if (!overlapping.empty()) {
    spdlog::critical("export blocks: block {} in {} overlaps the export range; remove it or export elsewhere",
                     overlapping, flags.out);
    return 1;
  }
  // An empty wal/ beside the blocks: promtool tsdb dump and vmctl open OUT
  // as a read-only Prometheus TSDB, which needs one.
  fs::create_directories(fs::path(flags.out) / "wal", error);
  if (error) {
    spdlog::critical("export blocks: cannot create {}: {}", flags.out, error.message());
    return 1;
  }
  const int64_t blocks_per_group = std::max<int64_t>(1, kDayMs / duration);
  ProgressPrinter progress(isatty(STDERR_FILENO) == 1);
  ExportTotals totals;
  const uint64_t total_blocks = static_cast<uint64_t>(last_block - first_block + 1);
  for (int64_t group = first_block; group <= last_block; group += blocks_per_group) {
    progress.Update("export", static_cast<uint64_t>(group - first_block), total_blocks);
    s = ExportGroup(db.get(), matcher_sets, flags.out, duration, group,
                    std::min(last_block, group + blocks_per_group - 1), from, to, &totals);
    if (!s.ok()) {
      progress.Finish();
      // All or nothing: a rerun would otherwise refuse the blocks written so far.
      for (const std::string& block : totals.written) fs::remove_all(block, error);
      spdlog::critical("export blocks: {} ({} blocks written before the error removed)", s.ToString(),
                       totals.written.size());
      return 1;
    }
  }
  progress.Update("export", total_blocks, total_blocks);
  progress.Finish();
  spdlog::info("export blocks: {} blocks, {} series (per block, summed), {} samples, {} chunks, {} bytes in {}",
               totals.blocks, totals.series, totals.samples, totals.chunks, totals.bytes, flags.out);
  if (totals.histograms_skipped > 0) {
    spdlog::warn("export blocks: {} native histogram samples skipped (blocks hold float samples only for now)",
                 totals.histograms_skipped);
  }
  return 0;
}

}  // namespace

void AddExportCommand(CLI::App* app) {
  CLI::App* command = app->add_subcommand("export", "Export data in other formats");
  command->require_subcommand(1);
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* blocks = command->add_subcommand(
      "blocks", "Write raw samples as Prometheus TSDB blocks (for Prometheus, Thanos, Mimir, vmctl)");
  blocks->add_option("--storage.path,--data-dir", flags->data_dir, "Data directory (stopped, a snapshot, or live)")
      ->capture_default_str();
  blocks->add_option("--out", flags->out, "Directory to write the blocks into (created if missing)")->required();
  blocks->add_option("--from", flags->from, "First time to export (RFC 3339 or Unix seconds; default: oldest sample)");
  blocks->add_option("--to", flags->to, "Last time to export (RFC 3339 or Unix seconds; default: now)");
  blocks->add_option("--match", flags->matches, "Series selector (repeatable; default: every series)");
  blocks->add_option("--block-duration", flags->block_duration, "Block length, a multiple of 2h up to 31d")
      ->capture_default_str();
  blocks->callback([flags] { std::exit(RunExportBlocks(*flags)); });
  AddExportCsvCommand(command);
}

}  // namespace tsvault::tools
