#include "compaction/retention.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <limits>

#include "common/time_parse.h"
#include "model/rollup.h"

namespace tsvault::compaction {

namespace {

constexpr int kLevels = storage::kRetentionLevels;
constexpr int64_t kDayMs = 24 * 3600 * 1000;
const char* const kLevelNames[kLevels] = {"raw", "5m", "1h", "1d"};

// `"text" problem`, built with append (GCC 12 warns falsely on
// "literal" + std::string chains here).
Status BadSize(std::string_view text, const char* problem) {
  std::string message = "\"";
  message.append(text);
  message += "\" ";
  message += problem;
  return Status::InvalidArgument(message);
}

}  // namespace

const char* RetentionFlagName(int level) {
  static const char* const kFlags[kLevels] = {"retention.resolution-raw", "retention.resolution-5m",
                                              "retention.resolution-1h", "retention.resolution-1d"};
  return level >= 0 && level < kLevels ? kFlags[level] : "retention";
}

Status ParseByteSize(std::string_view text, uint64_t* bytes) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 19) return BadSize(text, "is not a byte size");
  const uint64_t number = std::stoull(std::string(text.substr(0, digits)));
  std::string unit(text.substr(digits));
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() == 3 && unit[1] == 'I' && unit[2] == 'B') unit.erase(1, 1);  // KiB = KB
  static constexpr std::pair<const char*, int> kUnits[] = {{"", 0},   {"B", 0},   {"KB", 10}, {"MB", 20},
                                                           {"GB", 30}, {"TB", 40}, {"PB", 50}, {"EB", 60}};
  for (const auto& [name, shift] : kUnits) {
    if (unit != name) continue;
    if (shift > 0 && number > (std::numeric_limits<uint64_t>::max() >> shift)) {
      return BadSize(text, "is too large");
    }
    *bytes = number << shift;
    return Status::OK();
  }
  return BadSize(text, "has an unknown unit (want B, KB, MB, GB, TB, PB or EB)");
}

Status ParseRetentionPolicy(const std::string (&keep)[kLevels], std::string_view size, RetentionPolicy* policy) {
  *policy = RetentionPolicy();
  for (int level = 0; level < kLevels; ++level) {
    int64_t ms = 0;
    if (keep[level] != "0") {
      Status s = ParsePromDuration(keep[level], &ms);
      if (!s.ok()) return Status::InvalidArgument("invalid --" + std::string(RetentionFlagName(level)) + ": " + s.message());
    }
    policy->keep[level] = std::chrono::milliseconds(ms);
  }
  // Finer data is dropped only once it is rolled up, and a coarser level
  // never keeps less than a finer one: a shorter coarser retention is
  // raised to the finer one's (0, forever, included).
  for (int level = 1; level < kLevels; ++level) {
    const auto finer = policy->keep[level - 1];
    auto& coarser = policy->keep[level];
    if (coarser.count() == 0) continue;
    if (finer.count() == 0 || coarser < finer) coarser = finer;
  }
  if (!size.empty()) {
    Status s = ParseByteSize(size, &policy->max_bytes);
    if (!s.ok()) return Status::InvalidArgument("invalid --retention.size: " + s.message());
  }
  return Status::OK();
}

std::string DescribeRetentionPolicy(const RetentionPolicy& policy) {
  std::string out;
  for (int level = 0; level < kLevels; ++level) {
    if (level > 0) out += ", ";
    out += kLevelNames[level];
    out += ' ';
    const int64_t ms = policy.keep[level].count();
    if (ms == 0) {
      out += "forever";
    } else if (ms % kDayMs == 0) {
      out += std::to_string(ms / kDayMs) + "d";
    } else if (ms % 3'600'000 == 0) {
      out += std::to_string(ms / 3'600'000) + "h";
    } else if (ms % 1000 == 0) {
      out += std::to_string(ms / 1000) + "s";
    } else {
      out += std::to_string(ms) + "ms";
    }
  }
  out += policy.max_bytes == 0 ? ", no size bound" : ", at most " + std::to_string(policy.max_bytes) + " bytes";
  return out;
}

struct RetentionEnforcer::Metrics {
  prometheus::Counter* runs = nullptr;
  prometheus::Counter* failures = nullptr;
  prometheus::Counter* compactions = nullptr;
  prometheus::Counter* series_removed = nullptr;
  prometheus::Counter* seconds = nullptr;
  prometheus::Gauge* cutoff[kLevels] = {};
  prometheus::Gauge* size_limited = nullptr;

  explicit Metrics(prometheus::Registry* registry) {
    if (registry == nullptr) return;
    try {
      auto counter = [&](const char* name, const char* help) {
        return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
      };
      runs = counter("tsvault_retention_runs_total", "Retention runs.");
      failures = counter("tsvault_retention_failures_total", "Retention runs that failed.");
      compactions = counter("tsvault_retention_compactions_total",
                            "Compactions of a resolution's column families to free the space of dropped data.");
      seconds = counter("tsvault_retention_seconds_total", "Time spent applying retention, compactions included.");
      series_removed = counter("tsvault_retention_series_removed_total",
                               "Series removed because retention dropped all of their data.");
      size_limited = &prometheus::BuildGauge()
                          .Name("tsvault_retention_size_exceeded")
                          .Help("1 when the data was above --retention.size at the last run.")
                          .Register(*registry)
                          .Add({});
      auto& family = prometheus::BuildGauge()
                         .Name("tsvault_retention_cutoff_seconds")
                         .Help("Data before this Unix time is dropped, by resolution (raw samples; rollup "
                               "windows ending at or before it).")
                         .Register(*registry);
      for (int level = 0; level < kLevels; ++level) cutoff[level] = &family.Add({{"resolution", kLevelNames[level]}});
    } catch (const std::exception& error) {
      spdlog::error("retention: cannot register metrics: {}", error.what());
      *this = Metrics(nullptr);
    }
  }
};

RetentionEnforcer::RetentionEnforcer(storage::DB* db, RetentionPolicy policy, prometheus::Registry* registry)
    : db_(db), policy_(policy), metrics_(std::make_unique<Metrics>(registry)) {
  const storage::DBStats stats = db_->Stats();
  for (int level = 0; level < kLevels; ++level) reclaimed_cutoff_[level] = stats.retention_cutoff_ms[level];
}

RetentionEnforcer::~RetentionEnforcer() = default;

Status RetentionEnforcer::RunOnce(int64_t now_ms, bool reclaim_space, storage::RetentionStats* stats) {
  const auto started = std::chrono::steady_clock::now();
  storage::RetentionRequest request;
  for (int level = 0; level < kLevels; ++level) {
    if (policy_.keep[level].count() > 0) request.drop_before_ms[level] = now_ms - policy_.keep[level].count();
  }

  // Over the size bound: drop the oldest raw data first, a share of its
  // time range as large as the share of its bytes that must go, then the
  // same for 5m, 1h and 1d if raw alone cannot free enough.
  const storage::DBStats before = db_->Stats();
  uint64_t total = 0;
  for (const auto& family : before.column_families) total += family.bytes;
  const bool over_size = policy_.max_bytes > 0 && total > policy_.max_bytes;
  if (over_size) {
    uint64_t excess = total - policy_.max_bytes;
    for (int level = 0; level < kLevels && excess > 0; ++level) {
      const uint64_t bytes = before.retention_level_bytes[level];
      if (bytes == 0) continue;
      int64_t oldest;
      Status s = db_->OldestTime(level, &oldest);
      if (!s.ok()) return s;
      if (oldest == std::numeric_limits<int64_t>::max() || oldest >= now_ms) continue;
      // Rollups and cutoffs live within +-2^62 ms; older raw samples are
      // dropped with the first cutoff past that.
      oldest = std::max(oldest, -model::kRollupTimeLimitMs + 1);
      const double share = std::min(1.0, static_cast<double>(excess) / static_cast<double>(bytes));
      // Plus a day: cutoffs move in whole days at least, and each run must
      // make progress.
      const int64_t target = oldest + static_cast<int64_t>(share * static_cast<double>(now_ms - oldest)) + kDayMs;
      request.drop_before_ms[level] = std::max(request.drop_before_ms[level], std::min(target, now_ms));
      request.reclaim[level] = reclaim_space;
      excess = bytes >= excess ? 0 : excess - bytes;
    }
  }

  Status s = db_->ApplyRetention(request, stats);
  if (s.ok() && reclaim_space) {
    // Free the space of what a time-based cutoff dropped once enough of it
    // accumulated: compacting a level rewrites all of it.
    bool again = false;
    for (int level = 0; level < kLevels; ++level) {
      if (stats->reclaimed[level]) reclaimed_cutoff_[level] = stats->cutoff_ms[level];
      request.reclaim[level] = false;  // what this run compacted is not compacted again
      if (stats->reclaimed[level] || stats->cutoff_ms[level] == std::numeric_limits<int64_t>::min()) continue;
      const int64_t step = std::max<int64_t>(kDayMs, policy_.keep[level].count() / 10);
      const int64_t previous = reclaimed_cutoff_[level];
      if (previous == std::numeric_limits<int64_t>::min() || stats->cutoff_ms[level] - previous >= step) {
        request.reclaim[level] = true;
        again = true;
      }
    }
    if (again) {
      const storage::RetentionStats first = *stats;
      s = db_->ApplyRetention(request, stats);
      for (int level = 0; level < kLevels; ++level) stats->reclaimed[level] |= first.reclaimed[level];
      stats->series_removed += first.series_removed;
    }
  }
  if (s.ok()) {
    for (int level = 0; level < kLevels; ++level) {
      if (stats->reclaimed[level]) reclaimed_cutoff_[level] = stats->cutoff_ms[level];
    }
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (metrics_->runs != nullptr) {
    metrics_->runs->Increment();
    metrics_->seconds->Increment(seconds);
    if (!s.ok()) metrics_->failures->Increment();
    metrics_->size_limited->Set(over_size ? 1 : 0);
    if (s.ok()) metrics_->series_removed->Increment(static_cast<double>(stats->series_removed));
    for (int level = 0; level < kLevels; ++level) {
      if (s.ok() && stats->cutoff_ms[level] != std::numeric_limits<int64_t>::min()) {
        metrics_->cutoff[level]->Set(static_cast<double>(stats->cutoff_ms[level]) / 1000.0);
      }
      if (s.ok() && stats->reclaimed[level]) metrics_->compactions->Increment();
    }
  }
  if (!s.ok()) {
    spdlog::error("retention failed: {}", s.ToString());
    return s;
  }
  for (int level = 0; level < kLevels; ++level) {
    if (stats->cutoff_ms[level] != before.retention_cutoff_ms[level] || stats->reclaimed[level]) {
      spdlog::info("retention: {} data before {} is dropped{}", kLevelNames[level],
                   FormatRfc3339(stats->cutoff_ms[level]), stats->reclaimed[level] ? " (space reclaimed)" : "");
    }
  }
  if (stats->series_removed > 0) {
    spdlog::info("retention: {} series with no data left removed", stats->series_removed);
  }
  if (over_size) {
    spdlog::warn("retention: data is {} bytes, above --retention.size={} bytes; dropping the oldest", total,
                 policy_.max_bytes);
  }
  return Status::OK();
}

}  // namespace tsvault::compaction
