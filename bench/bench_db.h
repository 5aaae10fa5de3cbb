// Shared by the index and PromQL benchmarks: a storage::DB in a temporary
// directory, the seed workload loaded into one, and matcher construction.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "bench/bench_workload.h"
#include "storage/db.h"
#include "storage/matcher.h"
#include "tests/support/temp_dir.h"
#include "workload/seed_workload.h"

namespace tsvault::bench {

// A DB that lives in its own temporary directory. Members are destroyed in
// reverse order: the DB closes before its directory is removed.
struct BenchDB {
  testing::TempDir dir;
  std::unique_ptr<storage::DB> db;
};

// Opens a fresh DB in `out->dir` with `options`, whose data_dir is replaced
// by that directory.
inline Status OpenBenchDB(storage::Options options, BenchDB* out) {
  options.data_dir = out->dir.path();
  return storage::DB::Open(options, &out->db);
}

// The engine's default options (background checkpoints, checkpoint on close)
// except that writes do not wait for fsync: for benchmarks that measure the
// footprint of the engine as deployed.
inline storage::Options NoSyncOptions() {
  storage::Options options;
  options.wal_sync = storage::WalSyncMode::kNone;
  return options;
}

// Opens a fresh DB for a benchmark: no fsync, no background checkpoints
// (the benchmark decides when to checkpoint) and no checkpoint on close.
inline Status OpenBenchDB(BenchDB* out) {
  storage::Options options = NoSyncOptions();
  options.background_checkpoints = false;
  options.checkpoint_on_close = false;
  return OpenBenchDB(options, out);
}

// The seed workload at one scale, appended to a DB for `kSeedSteps` scrapes
// 15 s apart (every series exists in the head and in the index).
struct SeedDB {
  static constexpr int kSeedSteps = 2;
  static constexpr int64_t kFirstTimestampMs = 1700000000000;
  static constexpr int64_t kScrapeIntervalMs = 15000;

  explicit SeedDB(double scale) : workload(Options(scale)) {}
  static workload::WorkloadOptions Options(double scale) { return SeedWorkloadOptions(scale); }

  BenchDB storage;
  workload::SeedWorkload workload;
  // Timestamp of the next scrape a benchmark may append (strictly after
  // every sample already stored).
  int64_t next_timestamp_ms = kFirstTimestampMs;
  Status status;  // non-OK when loading failed
};

// Every SeedDB SharedSeedDB loaded, by scale.
inline std::map<int, std::unique_ptr<SeedDB>>& SharedSeedDBs() {
  static std::map<int, std::unique_ptr<SeedDB>> loaded;
  return loaded;
}

// The seed workload at `scale`, loaded once per process and shared by every
// benchmark that asks for the same scale (loading scale 10 takes seconds).
// Check `status` before use. Not thread-safe: benchmarks here run on one thread.
inline SeedDB* SharedSeedDB(int scale) {
  std::unique_ptr<SeedDB>& slot = SharedSeedDBs()[scale];
  if (slot) return slot.get();
  slot = std::make_unique<SeedDB>(static_cast<double>(scale));
  SeedDB* seed = slot.get();
  seed->status = OpenBenchDB(&seed->storage);
  uint64_t samples = 0;
  for (int step = 0; step < SeedDB::kSeedSteps && seed->status.ok(); ++step) {
    seed->status = AppendWorkloadStep(seed->storage.db.get(), &seed->workload,
                                      seed->next_timestamp_ms, &samples);
    seed->next_timestamp_ms += SeedDB::kScrapeIntervalMs;
  }
  return seed;
}

// main() of a benchmark binary holding shared DBs: runs the selected
// benchmarks, then calls `close_shared` to close the DBs while the loggers
// they write to on close still exist (static destruction order would not
// guarantee that).
inline int RunBenchmarksThenClose(int argc, char** argv, void (*close_shared)()) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  close_shared();
  return 0;
}

// One matcher as (type, name, value).
using MatcherSpec = std::tuple<storage::MatchType, std::string, std::string>;

// Builds the matchers of `specs` into *out; fails on a bad regex.
inline Status MakeMatchers(const std::vector<MatcherSpec>& specs,
                           std::vector<storage::LabelMatcher>* out) {
  out->clear();
  for (const auto& [type, name, value] : specs) {
    storage::LabelMatcher matcher;
    Status s = storage::LabelMatcher::Create(type, name, value, &matcher);
    if (!s.ok()) return s;
    out->push_back(std::move(matcher));
  }
  return Status::OK();
}

}  // namespace tsvault::bench
