// Resident memory per active series: the growth of the process RSS when the
// seed workload's series (scaled up) are created and each holds an open chunk
// of samples, divided by the number of series.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "bench/bench_db.h"
#include "bench/bench_workload.h"
#include "storage/db.h"
#include "workload/seed_workload.h"

namespace tsvault {
namespace {

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void BM_ResidentBytesPerActiveSeries(benchmark::State& state) {
  const double scale = static_cast<double>(state.range(0));
  const int64_t samples_per_series = state.range(1);
  for (auto _ : state) {
    bench::BenchDB bench_db;
    storage::Options options = bench::NoSyncOptions();
    options.block_cache_bytes = 8 << 20;  // keep the cache out of the figure
    if (!bench::OpenBenchDB(options, &bench_db).ok()) {
      state.SkipWithError("open failed");
      return;
    }
    std::unique_ptr<storage::DB>& db = bench_db.db;
    workload::SeedWorkload workload(bench::SeedWorkloadOptions(scale));
    // Labels held by the generator are not the engine's: measure after the
    // workload exists.
    const uint64_t before = ResidentBytes();
    uint64_t samples = 0;
    for (int64_t step = 0; step < samples_per_series; ++step) {
      if (!bench::AppendWorkloadStep(db.get(), &workload, 1700000000000 + step * 15000, &samples).ok()) {
        state.SkipWithError("append failed");
        return;
      }
      if (step % 20 == 19) db->Checkpoint();  // the WAL memtable is not head memory
    }
    db->Checkpoint();
    malloc_trim(0);
    const uint64_t with_memtables = ResidentBytes();
    // RocksDB's memtables are bounded by their write buffers whatever the
    // series count; flushing them (and returning freed heap to the OS)
    // leaves the head's own per-series memory.
    db->CompactAll();
    malloc_trim(0);
    const uint64_t after = ResidentBytes();
    const double series = static_cast<double>(workload.num_series());
    state.counters["series"] = series;
    state.counters["rss_growth_bytes"] = static_cast<double>(after - before);
    state.counters["bytes_per_series"] = static_cast<double>(after - before) / series;
    state.counters["bytes_per_series_with_memtables"] =
        static_cast<double>(with_memtables - before) / series;
  }
}
// Args: scale (x 8744 series), samples per series already in the open chunk.
BENCHMARK(BM_ResidentBytesPerActiveSeries)->Args({20, 1})->Args({20, 120})->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace tsvault

BENCHMARK_MAIN();
