#include "compaction/downsampler.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <exception>

#include "model/rollup.h"

namespace tsvault::compaction {

struct Downsampler::Metrics {
  prometheus::Counter* runs = nullptr;
  prometheus::Counter* failures = nullptr;
  prometheus::Counter* windows = nullptr;
  prometheus::Counter* stale_spans = nullptr;
  prometheus::Counter* seconds = nullptr;
  prometheus::Gauge* sealed_until[3] = {nullptr, nullptr, nullptr};

  explicit Metrics(prometheus::Registry* registry) {
    if (registry == nullptr) return;
    try {
      auto counter = [&](const char* name, const char* help) {
        return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
      };
      runs = counter("tsvault_downsample_runs_total", "Downsampler runs.");
      failures = counter("tsvault_downsample_failures_total", "Downsampler runs that failed.");
      windows = counter("tsvault_downsample_windows_written_total", "Rollup windows stored, all resolutions.");
      stale_spans = counter("tsvault_downsample_stale_spans_redone_total",
                            "Rollup spans recomputed because samples arrived after they were sealed.");
      seconds = counter("tsvault_downsample_seconds_total", "Time spent downsampling.");
      auto& family = prometheus::BuildGauge()
                         .Name("tsvault_downsample_sealed_until_seconds")
                         .Help("Rollup windows ending at or before this Unix time are stored, by resolution.")
                         .Register(*registry);
      const int64_t resolutions[3] = {model::kResolution5m, model::kResolution1h, model::kResolution1d};
      for (int i = 0; i < 3; ++i) sealed_until[i] = &family.Add({{"resolution", model::ResolutionName(resolutions[i])}});
    } catch (const std::exception& error) {
      spdlog::error("downsampler: cannot register metrics: {}", error.what());
      *this = Metrics(nullptr);
    }
  }
};

int64_t DownsampleSealPoint(int64_t now_ms, std::chrono::milliseconds grace) { return now_ms - grace.count(); }

Downsampler::Downsampler(storage::DB* db, DownsamplerOptions options, prometheus::Registry* registry)
    : db_(db), options_(std::move(options)), metrics_(std::make_unique<Metrics>(registry)) {
  if (options_.retention) retention_ = std::make_unique<RetentionEnforcer>(db, *options_.retention, registry);
}

Downsampler::~Downsampler() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Downsampler::Start() { thread_ = std::thread([this] { Loop(); }); }

Status Downsampler::RunOnce(storage::DownsampleStats* stats) {
  const int64_t now = options_.now_ms
                          ? options_.now_ms()
                          : std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  const auto started = std::chrono::steady_clock::now();
  // Stale spans are redone once no late sample touched them for the grace
  // too (wall clock), so a backfill is redone once, after it passed.
  const int64_t wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  Status s = db_->Downsample(DownsampleSealPoint(now, options_.grace), wall_ms - options_.grace.count(), stats);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (metrics_->runs != nullptr) {
    metrics_->runs->Increment();
    metrics_->seconds->Increment(seconds);
    if (!s.ok()) metrics_->failures->Increment();
    metrics_->windows->Increment(static_cast<double>(stats->windows_written));
    metrics_->stale_spans->Increment(static_cast<double>(stats->stale_spans_redone));
    for (int i = 0; i < 3; ++i) {
      if (stats->sealed_until_ms[i] != INT64_MIN) metrics_->sealed_until[i]->Set(stats->sealed_until_ms[i] / 1000.0);
    }
  }
  if (!s.ok()) {
    spdlog::error("downsampling failed: {}", s.ToString());
  } else if (stats->windows_written > 0 || stats->stale_spans_redone > 0) {
    spdlog::info("downsampled in {:.2f} s: {} windows in {} spans, {} stale spans redone", seconds,
                 stats->windows_written, stats->spans_written, stats->stale_spans_redone);
  }
  if (retention_) {
    // Retention after downsampling: what was just sealed may now go.
    storage::RetentionStats retention_stats;
    Status retention_status = retention_->RunOnce(now, /*reclaim_space=*/true, &retention_stats);
    if (s.ok()) s = retention_status;
  }
  return s;
}

void Downsampler::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    storage::DownsampleStats stats;
    RunOnce(&stats);  // errors are logged and counted; the next run retries
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

}  // namespace tsvault::compaction
