// Ingest-path benchmarks: Remote Write 1.0 decode + validate + append of a
// 2000-series x 10-label request of already known series (the steady state
// of a Prometheus sender), per WAL sync mode. Reports samples/s.
#include <benchmark/benchmark.h>

#include "http/http.h"
#include "remote_write/encoder.h"
#include "remote_write/receiver.h"
#include "storage/db.h"
#include "tests/support/temp_dir.h"
#include "workload/seed_workload.h"

namespace tsvault {
namespace {

constexpr size_t kSeriesPerRequest = 2000;
constexpr int kRequests = 300;

// 2000 seed-workload series padded to 10 labels, as a real scrape target's
// external and target labels would.
std::vector<Labels> RequestSeries() {
  workload::WorkloadOptions options;
  workload::SeedWorkload workload(options);
  std::vector<Labels> out;
  for (size_t i = 0; i < workload.num_series() && out.size() < kSeriesPerRequest; ++i) {
    Labels labels = workload.labels(i);
    const char* extra[][2] = {{"cluster", "prod-eu-1"}, {"env", "production"}, {"region", "eu-west"},
                              {"namespace", "apps"}, {"pod", "web-7d9f8c6b5-x2x9z"}, {"team", "platform"},
                              {"replica", "a"}};
    for (auto& [name, value] : extra) {
      if (labels.size() >= 10) break;
      labels.push_back(Label{name, value});
    }
    SortLabels(&labels);
    out.push_back(std::move(labels));
  }
  return out;
}

void BM_RemoteWriteV1DecodeAppend(benchmark::State& state) {
  const auto mode = static_cast<storage::WalSyncMode>(state.range(0));
  testing::TempDir dir;
  storage::Options options;
  options.data_dir = dir.path();
  options.wal_sync = mode;
  std::unique_ptr<storage::DB> db;
  if (!storage::DB::Open(options, &db).ok()) {
    state.SkipWithError("open failed");
    return;
  }
  remote_write::Receiver receiver(db.get(), remote_write::ReceiverOptions(), nullptr);
  const std::vector<Labels> series = RequestSeries();

  // Bodies prepared up front: request 0 creates the series, the rest are timed.
  std::vector<http::Request> requests(kRequests + 1);
  for (int r = 0; r <= kRequests; ++r) {
    storage::WriteInput input;
    for (size_t i = 0; i < series.size(); ++i) {
      input.series.push_back(storage::SeriesWrite{series[i], {{int64_t(r) * 15000, double(r * 7 + i)}}, {}, {}});
    }
    http::Request& request = requests[r];
    request.method = "POST";
    request.path = request.target = "/api/v1/write";
    request.headers = {{"content-type", remote_write::ContentType(remote_write::Protocol::kV1)},
                       {"content-encoding", "snappy"},
                       {"x-prometheus-remote-write-version", "0.1.0"}};
    remote_write::EncodeWriteRequest(input, remote_write::Protocol::kV1, &request.body);
  }
  http::Response response;
  receiver.Handle(requests[0], &response);
  if (response.status != 204) state.SkipWithError(("warm-up request failed: " + response.body).c_str());

  int next = 1;
  for (auto _ : state) {
    if (next > kRequests) {
      state.SkipWithError("ran out of prepared requests");
      break;
    }
    receiver.Handle(requests[next++], &response);
    if (response.status != 204) {
      state.SkipWithError(("request failed: " + response.body).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kSeriesPerRequest);
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kSeriesPerRequest),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RemoteWriteV1DecodeAppend)
    ->Arg(static_cast<int>(storage::WalSyncMode::kNone))
    ->Arg(static_cast<int>(storage::WalSyncMode::kBatch))
    ->ArgName("wal_sync(0=always,1=batch,2=none)")
    ->Iterations(kRequests)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace tsvault

BENCHMARK_MAIN();
