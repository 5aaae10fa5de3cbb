// `tsvault inspect`: what a data directory holds, per resolution (raw, 5m,
// 1h, 1d): time range, series, chunks, samples or windows, bytes and bytes
// per point; and the metric names and label pairs with the most series, as
// `promtool tsdb analyze` and `thanos tools bucket inspect` show. Opens the
// directory read-only, so it also works on one a running server holds
// (seeing the data as of the moment it opens).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "common/time_parse.h"
#include "model/rollup.h"
#include "storage/db.h"
#include "tools/commands.h"

namespace tsvault::tools {

namespace {

// RFC 3339 in UTC, or "-" for "none".
std::string FormatTime(int64_t ms, bool present) {
  if (!present) return "-";
  return FormatRfc3339(ms);
}

int RunInspect(const std::string& data_dir, const std::string& format, size_t limit) {
  spdlog::set_level(spdlog::level::warn);  // keep stdout for the report
  storage::Options options;
  options.data_dir = data_dir;
  options.read_only = true;
  options.background_checkpoints = false;
  options.checkpoint_on_close = false;
  std::unique_ptr<storage::DB> db;
  Status s = storage::DB::Open(options, &db);
  if (!s.ok()) {
    std::cerr << "inspect: cannot open " << data_dir << ": " << s.ToString() << "\n";
    return 1;
  }
  std::vector<storage::ResolutionSummary> resolutions;
  s = db->Inspect(&resolutions);
  if (!s.ok()) {
    std::cerr << "inspect: " << s.ToString() << "\n";
    return 1;
  }
  const storage::DBStats stats = db->Stats();
  const storage::CardinalityStats cardinality = db->Cardinality(limit, /*all_series=*/true);

  if (format == "json") {
    nlohmann::json out;
    out["series"] = stats.series_total;
    out["head"] = {{"series", stats.head_series}, {"samples", stats.head_samples}};
    for (const storage::ResolutionSummary& r : resolutions) {
      nlohmann::json entry = {{"resolution", model::ResolutionName(r.resolution_ms)}, {"series", r.series},
                              {"chunks", r.chunks}, {r.resolution_ms == 0 ? "samples" : "windows", r.points},
                              {"bytes", r.bytes}};
      if (r.chunks > 0) {
        entry["min_time"] = FormatTime(r.min_time_ms, true);
        entry["max_time"] = FormatTime(r.max_time_ms, true);
        entry["bytes_per_point"] = static_cast<double>(r.bytes) / static_cast<double>(std::max<uint64_t>(r.points, 1));
      }
      if (r.resolution_ms != 0 && r.sealed_until_ms != INT64_MIN) {
        entry["sealed_until"] = FormatTime(r.sealed_until_ms, true);
      }
      if (r.retention_cutoff_ms != INT64_MIN) entry["dropped_before"] = FormatTime(r.retention_cutoff_ms, true);
      out["resolutions"].push_back(entry);
    }
    auto pairs = [](const std::vector<std::pair<std::string, uint64_t>>& v) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& [name, count] : v) list.push_back({{"name", name}, {"series", count}});
      return list;
    };
    out["top_metric_names"] = pairs(cardinality.series_count_by_metric_name);
    out["top_label_pairs"] = pairs(cardinality.series_count_by_label_value_pair);
    std::cout << out.dump(2) << "\n";
    return 0;
  }

  std::cout << fmt::format("{} series ({} with samples in the head, {} samples there)\n\n", stats.series_total,
                           stats.head_series, stats.head_samples);
  std::cout << fmt::format("{:<10} {:<20} {:<20} {:>9} {:>9} {:>13} {:>14} {:>11}  {:<20}  {}\n", "resolution", "from",
                           "to", "series", "chunks", "points", "bytes", "bytes/point", "sealed until", "dropped before");
  for (const storage::ResolutionSummary& r : resolutions) {
    const bool any = r.chunks > 0;
    std::cout << fmt::format(
        "{:<10} {:<20} {:<20} {:>9} {:>9} {:>13} {:>14} {:>11.2f}  {:<20}  {}\n", model::ResolutionName(r.resolution_ms),
        FormatTime(r.min_time_ms, any), FormatTime(r.max_time_ms, any), r.series, r.chunks, r.points, r.bytes,
        any ? static_cast<double>(r.bytes) / static_cast<double>(std::max<uint64_t>(r.points, 1)) : 0.0,
        r.resolution_ms == 0 ? "" : FormatTime(r.sealed_until_ms, r.sealed_until_ms != INT64_MIN),
        FormatTime(r.retention_cutoff_ms, r.retention_cutoff_ms != INT64_MIN));
  }
  std::cout << "\npoints: samples for raw data, windows for rollups; raw figures cover the chunk store, not the head\n";
  std::cout << fmt::format("\nmetric names with the most series:\n");
  for (const auto& [name, count] : cardinality.series_count_by_metric_name) {
    std::cout << fmt::format("  {:>9}  {}\n", count, name);
  }
  std::cout << fmt::format("\nlabel pairs with the most series:\n");
  for (const auto& [name, count] : cardinality.series_count_by_label_value_pair) {
    std::cout << fmt::format("  {:>9}  {}\n", count, name);
  }
  return 0;
}

}  // namespace

void AddInspectCommand(CLI::App* app) {
  auto data_dir = std::make_shared<std::string>("./data");
  auto format = std::make_shared<std::string>("text");
  auto limit = std::make_shared<size_t>(10);
  CLI::App* command = app->add_subcommand(
      "inspect", "What a data directory holds per resolution, and its largest metric names and label pairs");
  command->add_option("--storage.path,--data-dir", *data_dir, "Data directory (may be held by a running server)")
      ->capture_default_str();
  command->add_option("--format", *format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  command->add_option("--limit", *limit, "How many metric names and label pairs to list")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  command->callback([data_dir, format, limit] { std::exit(RunInspect(*data_dir, *format, *limit)); });
}

}  // namespace tsvault::tools
