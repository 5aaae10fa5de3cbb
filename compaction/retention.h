// The retention policy of `tsvault serve` and `tsvault compact`: how long
// each resolution is kept (Thanos compactor's --retention.resolution-*
// flags) and a bound on disk (--retention.size), turned into cutoffs for
// storage::DB::ApplyRetention. The mechanism (what may be dropped safely,
// the compaction filter) lives in storage/.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/db.h"

namespace prometheus {
class Registry;
}

namespace tsvault::compaction {

// How long each level is kept; zero keeps it forever.
struct RetentionPolicy {
  // Index 0 raw, 1 5m, 2 1h, 3 1d (storage::kRetentionLevels).
  std::chrono::milliseconds keep[storage::kRetentionLevels] = {
      std::chrono::hours(24 * 30),       // raw: 30 days
      std::chrono::hours(24 * 180),      // 5m: 180 days
      std::chrono::hours(24 * 365 * 2),  // 1h: 2 years
      std::chrono::milliseconds(0),      // 1d: forever
  };
  // Total bytes of the data (all column families) above which the oldest
  // raw data is dropped first, then the oldest 5m, 1h and 1d; 0: no bound.
  uint64_t max_bytes = 0;
};

// The flag of a level: "retention.resolution-raw", "-5m", "-1h", "-1d".
const char* RetentionFlagName(int level);

// Parses the four durations ("30d", "0" = forever, Prometheus duration
// syntax) and the size ("0" = none; "500MB", "10GB", "1TB": B, KB, MB, GB,
// TB, PB in powers of 1024, as Prometheus' --storage.tsdb.retention.size).
// A coarser resolution is kept at least as long as a finer one (a shorter
// one is raised to it; `--retention.resolution-raw=0` alone keeps
// everything), since finer data is only dropped once it is rolled up and
// the storage never keeps less at a coarser level. Errors name the flag.
Status ParseRetentionPolicy(const std::string (&keep)[storage::kRetentionLevels], std::string_view size,
                            RetentionPolicy* policy);

// "raw 30d, 5m 180d, 1h 730d, 1d forever, no size bound": for the log.
std::string DescribeRetentionPolicy(const RetentionPolicy& policy);

// Parses a byte size as above.
Status ParseByteSize(std::string_view text, uint64_t* bytes);

// Applies a RetentionPolicy to a DB. Not thread-safe: one caller (the
// downsampler thread, or `tsvault compact`).
class RetentionEnforcer {
 public:
  // `db` must outlive the enforcer. `registry` (may be null) receives
  // tsvault_retention_* metrics.
  RetentionEnforcer(storage::DB* db, RetentionPolicy policy, prometheus::Registry* registry);
  ~RetentionEnforcer();
  RetentionEnforcer(const RetentionEnforcer&) = delete;
  RetentionEnforcer& operator=(const RetentionEnforcer&) = delete;

  // Drops what the policy expires at `now_ms`. With `reclaim_space`, a
  // level's column families are compacted when its cutoff moved by a tenth
  // of its retention (at least a day) since the last compaction this
  // enforcer asked for, or at once when over --retention.size; without it,
  // RocksDB frees the space in its own time (`tsvault compact` compacts
  // everything afterwards anyway).
  Status RunOnce(int64_t now_ms, bool reclaim_space, storage::RetentionStats* stats);

 private:
  struct Metrics;
  storage::DB* const db_;
  const RetentionPolicy policy_;
  std::unique_ptr<Metrics> metrics_;
  int64_t reclaimed_cutoff_[storage::kRetentionLevels];
};

}  // namespace tsvault::compaction
