// The downsampler's cost per raw sample against the cost of appending that
// sample, for float and native histogram series (issue 10: the downsampler
// should cost well under 10% of ingest). One iteration each: a day of 15 s
// samples for a set of series is ingested scrape by scrape through the
// Remote Write 1.0 receiver (decode, validate, append; requests encoded up
// front), checkpointed, then sealed at every resolution (DB::Downsample).
// Reported as ns per sample.
#include <benchmark/benchmark.h>

#include <chrono>

#include "bench/bench_db.h"
#include "http/http.h"
#include "model/rollup.h"
#include "remote_write/encoder.h"
#include "remote_write/receiver.h"
#include "tests/support/histogram_series.h"

namespace tsvault::bench {
namespace {

constexpr int64_t kStart = 1'700'000'000'000 / model::kResolution1d * model::kResolution1d;
constexpr int64_t kStep = 15'000;
constexpr int kSeries = 40;

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

void BM_DownsampleVersusIngest(benchmark::State& state) {
  const bool histograms = state.range(0) != 0;
  std::vector<std::vector<storage::Histogram>> series_histograms;
  testing::HistogramSeriesOptions options;
  options.stale_marker = false;
  for (int s = 0; s < kSeries && histograms; ++s) {
    series_histograms.push_back(
        testing::RandomHistogramSeries(static_cast<uint64_t>(s), kStart + 1, kStart + model::kResolution1d, kStep, options));
  }
  // One request per scrape, encoded before anything is timed.
  std::vector<http::Request> requests;
  uint64_t samples = 0;
  std::vector<size_t> next(kSeries, 0);
  for (int64_t t = kStart + 1; t <= kStart + model::kResolution1d; t += kStep) {
    storage::WriteInput input;
    for (int s = 0; s < kSeries; ++s) {
      storage::SeriesWrite write;
      write.labels = {{"__name__", histograms ? "latency_seconds" : "requests_total"},
                      {"instance", "host-" + std::to_string(s)}};
      if (histograms) {
        const auto& all = series_histograms[s];
        while (next[s] < all.size() && all[next[s]].timestamp_ms <= t) write.histograms.push_back(all[next[s]++]);
        if (write.histograms.empty()) continue;
      } else {
        write.samples.push_back({t, static_cast<double>((t - kStart) / kStep * (s + 1))});
      }
      samples += write.histograms.size() + write.samples.size();
      input.series.push_back(std::move(write));
    }
    http::Request& request = requests.emplace_back();
    request.method = "POST";
    request.path = request.target = "/api/v1/write";
    request.headers = {{"content-type", remote_write::ContentType(remote_write::Protocol::kV1)},
                       {"content-encoding", "snappy"},
                       {"x-prometheus-remote-write-version", "0.1.0"}};
    remote_write::EncodeWriteRequest(input, remote_write::Protocol::kV1, &request.body);
  }
  series_histograms.clear();
  for (auto _ : state) {
    BenchDB bench;
    if (!OpenBenchDB(&bench).ok()) {
      state.SkipWithError("open failed");
      return;
    }
    remote_write::Receiver receiver(bench.db.get(), remote_write::ReceiverOptions(), nullptr);
    const auto append_start = std::chrono::steady_clock::now();
    for (const http::Request& request : requests) {
      http::Response response;
      receiver.Handle(request, &response);
      if (response.status != 204) {
        state.SkipWithError(("request failed: " + response.body).c_str());
        return;
      }
    }
    const auto append_end = std::chrono::steady_clock::now();
    if (!bench.db->Checkpoint().ok()) {
      state.SkipWithError("checkpoint failed");
      return;
    }
    storage::DownsampleStats stats;
    const auto downsample_start = std::chrono::steady_clock::now();
    if (!bench.db->Downsample(kStart + model::kResolution1d, &stats).ok()) {
      state.SkipWithError("downsample failed");
      return;
    }
    const auto downsample_end = std::chrono::steady_clock::now();
    const double append_ns = Seconds(append_end - append_start) * 1e9 / static_cast<double>(samples);
    const double downsample_ns = Seconds(downsample_end - downsample_start) * 1e9 / static_cast<double>(samples);
    state.counters["ingest_ns_per_sample"] = append_ns;
    state.counters["downsample_ns_per_sample"] = downsample_ns;
    state.counters["downsample_share"] = downsample_ns / append_ns;
    state.counters["windows"] = static_cast<double>(stats.windows_written);
  }
}
BENCHMARK(BM_DownsampleVersusIngest)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tsvault::bench

BENCHMARK_MAIN();
