#include "tools/self_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "model/rollup.h"
#include "tools/process_metrics.h"

namespace tsvault::tools {

namespace {
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

struct SelfMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("tsvault_http_requests_total")
          .Help("HTTP requests answered, by route and status code.")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& request_seconds =
      prometheus::BuildHistogram()
          .Name("tsvault_http_request_duration_seconds")
          .Help("Time to handle an HTTP request, by route.")
          .Register(*registry);
  prometheus::Counter& accept_failures =
      prometheus::BuildCounter()
          .Name("tsvault_http_accept_failures_total")
          .Help("Connections the server could not accept (usually out of file descriptors: clients cannot connect "
                "meanwhile; the server retries every 100 ms).")
          .Register(*registry)
          .Add({});
  std::atomic<int64_t> last_accept_log_seconds{0};
  prometheus::Family<prometheus::Counter>& queries_by_resolution =
      prometheus::BuildCounter()
          .Name("tsvault_query_resolutions_total")
          .Help("PromQL queries by a resolution that served them (raw, 5m, 1h, 1d): a query counts once per "
                "resolution it read.")
          .Register(*registry);
  prometheus::Histogram& wal_sync_seconds =
      prometheus::BuildHistogram()
          .Name("tsvault_storage_wal_sync_duration_seconds")
          .Help("Duration of group fsyncs of the write-ahead log.")
          .Register(*registry)
          .Add({}, kLatencyBuckets);
  prometheus::Family<prometheus::Gauge>& gauges =
      prometheus::BuildGauge()
          .Name("tsvault_storage_info")
          .Help("Storage engine figures: see the 'figure' label.")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& series =
      prometheus::BuildGauge()
          .Name("tsvault_storage_series")
          .Help("Series known to the storage engine; state=active holds samples in the head, state=resident is held "
                "in memory (the rest are on disk only).")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& column_family_bytes =
      prometheus::BuildGauge()
          .Name("tsvault_storage_column_family_bytes")
          .Help("Bytes of each RocksDB column family (SST files plus memtables).")
          .Register(*registry);
  prometheus::Gauge& head_samples =
      prometheus::BuildGauge()
          .Name("tsvault_storage_head_samples")
          .Help("Samples held in memory in open chunks.")
          .Register(*registry)
          .Add({});
  prometheus::Counter& checkpoints =
      prometheus::BuildCounter()
          .Name("tsvault_storage_checkpoints_total")
          .Help("Head checkpoints completed since start.")
          .Register(*registry)
          .Add({});
  prometheus::Counter& wal_syncs =
      prometheus::BuildCounter()
          .Name("tsvault_storage_wal_syncs_total")
          .Help("Group WAL fsyncs since start.")
          .Register(*registry)
          .Add({});
  prometheus::Gauge& restart_seconds =
      prometheus::BuildGauge()
          .Name("tsvault_storage_restart_duration_seconds")
          .Help("How long opening the storage (with WAL replay) took at start-up.")
          .Register(*registry)
          .Add({});

  // Serializes scrapes (Handle): the gauges above are set and collected
  // under it. ObserveRequest and ObserveWalSync do not take it; they rely
  // on prometheus-cpp's own thread safety (Family::Add, Counter, Histogram).
  // The metric references above are immutable after construction.
  // The standard process figures (process_metrics.h), as client_golang names them.
  prometheus::Counter& process_cpu = prometheus::BuildCounter()
                                         .Name("process_cpu_seconds_total")
                                         .Help("Total user and system CPU time spent in seconds.")
                                         .Register(*registry)
                                         .Add({});
  prometheus::Gauge& process_resident = ProcessGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  prometheus::Gauge& process_virtual = ProcessGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  prometheus::Gauge& process_open_fds = ProcessGauge("process_open_fds", "Number of open file descriptors.");
  prometheus::Gauge& process_max_fds = ProcessGauge("process_max_fds", "Maximum number of open file descriptors.");
  prometheus::Gauge& process_start = ProcessGauge("process_start_time_seconds",
                                                  "Start time of the process since unix epoch in seconds.");
  prometheus::Gauge& process_threads = ProcessGauge("process_threads", "Number of OS threads in the process.");
  prometheus::Family<prometheus::Gauge>& build_info =
      prometheus::BuildGauge()
          .Name("tsvault_build_info")
          .Help("A metric with a constant '1' value labeled by version and revision of tsvault.")
          .Register(*registry);

  prometheus::Gauge& ProcessGauge(const char* name, const char* help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  }

  std::mutex mutex;
};

SelfMetrics::SelfMetrics() : impl_(std::make_unique<Impl>()) {
  impl_->build_info.Add({{"version", TSVAULT_VERSION}, {"revision", TSVAULT_REVISION}}).Set(1);
}
SelfMetrics::~SelfMetrics() = default;

prometheus::Registry* SelfMetrics::registry() { return impl_->registry.get(); }

void SelfMetrics::ObserveRequest(const std::string& route, int status, double seconds) {
  impl_->requests.Add({{"handler", route}, {"code", std::to_string(status)}}).Increment();
  impl_->request_seconds.Add({{"handler", route}}, kLatencyBuckets).Observe(seconds);
}

void SelfMetrics::ObserveWalSync(double seconds) { impl_->wal_sync_seconds.Observe(seconds); }

void SelfMetrics::ObserveAcceptError(const std::string& error) {
  impl_->accept_failures.Increment();
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = impl_->last_accept_log_seconds.load(std::memory_order_relaxed);
  if (now - last >= 60 && impl_->last_accept_log_seconds.compare_exchange_strong(last, now)) {
    spdlog::error("http: cannot accept connections: {} (out of file descriptors? raise `ulimit -n`); clients cannot "
                  "connect until it recovers; counted in tsvault_http_accept_failures_total",
                  error);
  }
}

void SelfMetrics::ObserveQueryResolutions(const std::vector<int64_t>& resolutions_used) {
  for (int64_t resolution : resolutions_used) {
    impl_->queries_by_resolution.Add({{"resolution", model::ResolutionName(resolution)}}).Increment();
  }
}

void SelfMetrics::Handle(storage::DB* db, const http::Request&, http::Response* response) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  storage::DBStats stats = db->Stats();
  impl_->series.Add({{"state", "all"}}).Set(static_cast<double>(stats.series_total));
  impl_->series.Add({{"state", "active"}}).Set(static_cast<double>(stats.head_series));
  impl_->series.Add({{"state", "resident"}}).Set(static_cast<double>(stats.resident_series));
  impl_->head_samples.Set(static_cast<double>(stats.head_samples));
  // Counters kept by storage since start: moved on by what is new.
  auto catch_up = [](prometheus::Counter& counter, double value) {
    if (value > counter.Value()) counter.Increment(value - counter.Value());
  };
  catch_up(impl_->checkpoints, static_cast<double>(stats.checkpoints));
  catch_up(impl_->wal_syncs, static_cast<double>(stats.wal_syncs));
  impl_->restart_seconds.Set(stats.restart_seconds);
  impl_->gauges.Add({{"figure", "head_min_time_ms"}}).Set(static_cast<double>(stats.head_min_time_ms));
  impl_->gauges.Add({{"figure", "head_max_time_ms"}}).Set(static_cast<double>(stats.head_max_time_ms));
  for (const auto& cf : stats.column_families) {
    impl_->column_family_bytes.Add({{"column_family", cf.name}}).Set(static_cast<double>(cf.bytes));
  }
  ProcessFigures process;
  if (ReadProcessFigures(&process)) {
    catch_up(impl_->process_cpu, process.cpu_seconds);
    impl_->process_resident.Set(process.resident_bytes);
    impl_->process_virtual.Set(process.virtual_bytes);
    impl_->process_start.Set(process.start_time_seconds);
    impl_->process_threads.Set(process.threads);
  }
  impl_->process_open_fds.Set(process.open_fds);
  impl_->process_max_fds.Set(process.max_fds);
  prometheus::TextSerializer serializer;
  response->status = 200;
  response->SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response->body = serializer.Serialize(impl_->registry->Collect());
}

}  // namespace tsvault::tools
