// Micro-benchmarks of the chunk encodings: XOR float chunks and histogram
// chunks, encode and decode, on 120-sample chunks (30 min at a 15 s scrape
// interval) of synthetic but realistic data. Reports samples/s
// (items_per_second) and the encoded size as bytes_per_sample.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "storage/chunkenc/chunk.h"
#include "tests/support/sample_series.h"

namespace tsvault::storage {
namespace {

constexpr int kSamplesPerChunk = 120;
constexpr int kChunks = 256;  // distinct series per benchmark iteration
constexpr int64_t kIntervalMs = 15000;
constexpr int64_t kStartMs = 1700000000000;

enum Dataset {
  kCounter = 0,
  kGauge,
  kMostlyConstant,
  kDecimalGauge,
  kCpuSeconds,
  kHistogramSum,
  kDatasetCount
};

const char* DatasetName(int dataset) {
  switch (dataset) {
    case kCounter: return "counter";
    case kGauge: return "gauge";
    case kMostlyConstant: return "mostly_constant";
    case kDecimalGauge: return "decimal_gauge";
    case kCpuSeconds: return "cpu_seconds";
    default: return "histogram_sum";
  }
}

// kChunks series of kSamplesPerChunk samples, scraped every 15 s with up to
// +-`jitter_ms` of scrape jitter (0: perfectly regular, as Prometheus' own
// timestamps often are, and as in the seed workload):
//   counter          rises by 0..40 per scrape (requests_total)
//   gauge            integer random walk (queue length, goroutines)
//   mostly_constant  changes on 5% of scrapes (up, build info, limits)
//   decimal_gauge    random walk rounded to 0.1 (temperature, latency)
//   cpu_seconds      counter with 2 decimals (node_cpu_seconds_total)
//   histogram_sum    sum of observed latencies: full-precision floats
std::vector<std::vector<Sample>> MakeSeries(int dataset, int jitter_ms) {
  std::mt19937_64 rng(42 + dataset);
  std::vector<std::vector<Sample>> series(kChunks);
  for (int c = 0; c < kChunks; ++c) {
    int64_t t = kStartMs + static_cast<int64_t>(rng() % kIntervalMs);
    double v = dataset == kDecimalGauge ? 20.0 : static_cast<double>(rng() % 100000);
    if (dataset == kCpuSeconds) v /= 100;
    for (int i = 0; i < kSamplesPerChunk; ++i) {
      const int64_t jitter =
          static_cast<int64_t>(rng() % (2 * jitter_ms + 1)) - jitter_ms;
      series[c].push_back({t + jitter, v});
      t += kIntervalMs;
      switch (dataset) {
        case kCounter: v += static_cast<double>(rng() % 41); break;
        case kGauge: v = std::max(0.0, v + static_cast<double>(rng() % 21) - 10); break;
        case kMostlyConstant: if (rng() % 20 == 0) v += 1; break;
        case kDecimalGauge:
          v = std::round((v + static_cast<double>(rng() % 11) / 10 - 0.5) * 10) / 10;
          break;
        case kCpuSeconds:
          v = std::round((v + static_cast<double>(rng() % 1500) / 100) * 100) / 100;
          break;
        default: v += 0.05 * std::exp(static_cast<double>(rng() % 1000) / 250); break;
      }
    }
  }
  return series;
}

void BM_XorEncode(benchmark::State& state) {
  const auto series =
      MakeSeries(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (const auto& samples : series) {
      XorChunkAppender appender;
      for (const Sample& s : samples) appender.Append(s.timestamp_ms, s.value);
      bytes += appender.bytes().size();
      benchmark::DoNotOptimize(appender.bytes().data());
    }
  }
  state.SetItemsProcessed(state.iterations() * kChunks * kSamplesPerChunk);
  state.counters["bytes_per_sample"] =
      static_cast<double>(bytes) / (kChunks * kSamplesPerChunk);
  state.SetLabel(std::string(DatasetName(static_cast<int>(state.range(0)))) +
                 (state.range(1) ? " jitter" : " regular"));
}
// Args: dataset, jitter in ms.
BENCHMARK(BM_XorEncode)
    ->ArgsProduct({benchmark::CreateDenseRange(0, kDatasetCount - 1, 1), {0, 3}});

void BM_XorDecode(benchmark::State& state) {
  const auto series =
      MakeSeries(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  std::vector<std::string> chunks;
  size_t bytes = 0;
  for (const auto& samples : series) {
    XorChunkAppender appender;
    for (const Sample& s : samples) appender.Append(s.timestamp_ms, s.value);
    chunks.push_back(appender.bytes());
    bytes += appender.bytes().size();
  }
  for (auto _ : state) {
    for (const std::string& chunk : chunks) {
      ChunkIterator it(chunk);
      int64_t t = 0;
      double sum = 0;
      while (it.Next()) {
        t ^= it.timestamp();
        sum += it.value();
      }
      if (!it.status().ok()) state.SkipWithError("decode failed");
      benchmark::DoNotOptimize(t);
      benchmark::DoNotOptimize(sum);
    }
  }
  state.SetItemsProcessed(state.iterations() * kChunks * kSamplesPerChunk);
  state.counters["bytes_per_sample"] =
      static_cast<double>(bytes) / (kChunks * kSamplesPerChunk);
  state.SetLabel(std::string(DatasetName(static_cast<int>(state.range(0)))) +
                 (state.range(1) ? " jitter" : " regular"));
}
BENCHMARK(BM_XorDecode)
    ->ArgsProduct({benchmark::CreateDenseRange(0, kDatasetCount - 1, 1), {0, 3}});

// A native histogram series: schema 3, two positive spans and one negative
// span (20 buckets), a slowly growing distribution; integer or float.
std::vector<Histogram> MakeHistograms(bool is_float) {
  std::mt19937_64 rng(7);
  std::vector<Histogram> out;
  std::vector<uint64_t> positive(14, 0), negative(6, 0);
  uint64_t zero_count = 0;
  double sum = 0;
  int64_t t = kStartMs;
  for (int i = 0; i < kSamplesPerChunk; ++i) {
    Histogram h;
    h.timestamp_ms = t + static_cast<int64_t>(rng() % 7) - 3;
    t += kIntervalMs;
    h.is_float = is_float;
    h.schema = 3;
    h.zero_threshold = 1e-128;
    h.reset_hint = ResetHint::kNo;
    for (auto& bucket : positive) bucket += rng() % 5;
    for (auto& bucket : negative) bucket += rng() % 2;
    zero_count += rng() % 3;
    sum += static_cast<double>(rng() % 100000) / 1000;
    h.positive_spans = {{-2, 10}, {3, 4}};
    h.negative_spans = {{0, 6}};
    h.sum = sum;
    testing::SetHistogramBucketCounts(positive, negative, zero_count, &h);
    out.push_back(std::move(h));
  }
  return out;
}

void BM_HistogramEncode(benchmark::State& state) {
  const auto histograms = MakeHistograms(state.range(0) != 0);
  size_t bytes = 0;
  for (auto _ : state) {
    HistogramChunkAppender appender;
    for (const Histogram& h : histograms) appender.Append(h);
    bytes = appender.bytes().size();
    benchmark::DoNotOptimize(appender.bytes().data());
  }
  state.SetItemsProcessed(state.iterations() * kSamplesPerChunk);
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / kSamplesPerChunk;
  state.SetLabel(state.range(0) ? "float" : "integer");
}
BENCHMARK(BM_HistogramEncode)->Arg(0)->Arg(1);

void BM_HistogramDecode(benchmark::State& state) {
  const auto histograms = MakeHistograms(state.range(0) != 0);
  HistogramChunkAppender appender;
  for (const Histogram& h : histograms) appender.Append(h);
  const std::string chunk = appender.bytes();
  for (auto _ : state) {
    ChunkIterator it(chunk);
    double sum = 0;
    while (it.Next()) sum += it.histogram().sum;
    if (!it.status().ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kSamplesPerChunk);
  state.counters["bytes_per_sample"] = static_cast<double>(chunk.size()) / kSamplesPerChunk;
  state.SetLabel(state.range(0) ? "float" : "integer");
}
BENCHMARK(BM_HistogramDecode)->Arg(0)->Arg(1);

}  // namespace
}  // namespace tsvault::storage

BENCHMARK_MAIN();
