// Disk bytes per sample: one day of the seed workload at a 15 s scrape
// interval, appended through the storage API in 2000-series requests, then
// checkpointed and fully compacted. Reports bytes/sample over all column
// families (index included) and the append rate of the whole day.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>

#include "bench/bench_db.h"
#include "bench/bench_workload.h"
#include "storage/db.h"
#include "workload/seed_workload.h"

namespace tsvault {
namespace {

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    // RocksDB's own logs and option files are not data.
    if (name.rfind("LOG", 0) == 0 || name.rfind("OPTIONS", 0) == 0) continue;
    total += entry.file_size();
  }
  return total;
}

void BM_DiskBytesPerSampleOneDay(benchmark::State& state) {
  const double scale = static_cast<double>(state.range(0)) / 100.0;
  const int64_t hours = state.range(1);
  for (auto _ : state) {
    bench::BenchDB bench_db;
    if (!bench::OpenBenchDB(bench::NoSyncOptions(), &bench_db).ok()) {
      state.SkipWithError("open failed");
      return;
    }
    std::unique_ptr<storage::DB>& db = bench_db.db;
    workload::SeedWorkload workload(bench::SeedWorkloadOptions(scale));
    uint64_t samples = 0;
    const int64_t start = 1700000000000;
    const int64_t steps = hours * 3600 / 15;
    for (int64_t step = 0; step < steps; ++step) {
      if (!bench::AppendWorkloadStep(db.get(), &workload, start + step * 15000, &samples).ok()) {
        state.SkipWithError("append failed");
        return;
      }
    }
    if (!db->CompactAll().ok()) {
      state.SkipWithError("compaction failed");
      return;
    }
    storage::DBStats stats = db->Stats();
    for (const auto& cf : stats.column_families) {
      if (cf.bytes > 0) state.counters["cf_" + cf.name + "_bytes"] = static_cast<double>(cf.bytes);
    }
    db.reset();
    const uint64_t bytes = DirectoryBytes(bench_db.dir.path());
    state.counters["series"] = static_cast<double>(stats.series_total);
    state.counters["samples"] = static_cast<double>(samples);
    state.counters["disk_bytes"] = static_cast<double>(bytes);
    state.counters["bytes_per_sample"] = static_cast<double>(bytes) / static_cast<double>(samples);
    state.SetItemsProcessed(static_cast<int64_t>(samples));
  }
}
// Args: scale in percent, hours of data. The recorded figure is {100, 24}.
BENCHMARK(BM_DiskBytesPerSampleOneDay)
    ->Args({100, 24})
    ->Args({10, 24})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace tsvault

BENCHMARK_MAIN();
