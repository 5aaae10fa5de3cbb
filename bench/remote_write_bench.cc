// Remote-write receive path: snappy + protobuf decode + validation, with a
// storage stub that accepts everything (the real-DB append is measured
// separately in ingest_bench). Items/s are samples/s.
//
// Variants: `*_cache_hit` = every series already in the receiver's
// series-reference cache (the steady state of a Prometheus sender);
// `*_no_cache` = cache off (max_cached_series = 0), i.e. full label decoding
// and validation of every series.
//
// Workload: one request of 2000 series x 10 labels, one sample each, shaped
// like the seed workload (http_requests_total{app,method,route,status,...}).
#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

#include "remote_write/decoder.h"
#include "remote_write/encoder.h"
#include "remote_write/receiver.h"
#include "remote_write/series_ref_cache.h"
#include "storage/db.h"
#include "tests/support/write_only_db.h"

namespace tsvault::remote_write {
namespace {

constexpr int kSeriesPerRequest = 2000;

// Accepts and counts; stores nothing. With `issue_refs` it hands out series
// references like the real engine (one per distinct label set; a write by
// reference is taken as is), so the receiver's cache fills. Reads return
// nothing (see tsvault::testing::WriteOnlyDB).
class NullDB : public ::tsvault::testing::WriteOnlyDB {
 public:
  explicit NullDB(bool issue_refs) : issue_refs_(issue_refs) {}

  Status Append(const storage::WriteInput& input, storage::WriteResult* result) override {
    *result = storage::WriteResult();
    for (const storage::SeriesWrite& series : input.series) {
      result->samples_written += series.samples.size();
      if (!issue_refs_) continue;
      if (series.series_ref != 0) {
        result->series_refs.push_back(series.series_ref);
      } else {
        auto [it, inserted] = refs_.try_emplace(series.labels, refs_.size() + 1);
        result->series_refs.push_back(it->second);
      }
    }
    return Status::OK();
  }

 private:
  const bool issue_refs_;
  std::map<Labels, uint64_t> refs_;
};

// 2000 series with 10 labels each (canonical order), one sample per series.
storage::WriteInput SeedLikeInput() {
  static const char* kApps[] = {"checkout", "catalog", "cart", "payments", "search"};
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  static const char* kRoutes[] = {"/api/v1/items", "/api/v1/items/{id}", "/api/v1/cart", "/healthz",
                                  "/api/v1/orders/{id}/status"};
  static const char* kStatus[] = {"200", "201", "400", "404", "500"};
  storage::WriteInput input;
  input.series.reserve(kSeriesPerRequest);
  for (int i = 0; i < kSeriesPerRequest; ++i) {
    storage::SeriesWrite series;
    series.labels = {
        {"__name__", "http_requests_total"},
        {"app", kApps[i % 5]},
        {"cluster", "prod-eu-west-1"},
        {"instance", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":8080"},
        {"job", "kubernetes-pods"},
        {"method", kMethods[(i / 5) % 4]},
        {"namespace", "shop"},
        {"pod", std::string(kApps[i % 5]) + "-7d9f8c6b5-" + std::to_string(10000 + i)},
        {"route", kRoutes[(i / 20) % 5]},
        {"status", kStatus[(i / 100) % 5]},
    };
    series.samples.push_back({1700000000000 + i, static_cast<double>(i) * 1.5});
    input.series.push_back(std::move(series));
  }
  input.metadata.push_back({"http_requests_total", storage::MetricType::kCounter, "HTTP requests served.", ""});
  return input;
}

http::Request MakeHttpRequest(Protocol protocol) {
  http::Request request;
  request.method = "POST";
  request.path = "/api/v1/write";
  request.headers = {{"content-type", ContentType(protocol)}, {"content-encoding", "snappy"}};
  if (!EncodeWriteRequest(SeedLikeInput(), protocol, &request.body).ok()) std::abort();
  return request;
}

// Full Receiver::Handle: headers, snappy, parse, validate, (null) append.
void BM_ReceiveRequest(benchmark::State& state, Protocol protocol, bool cache) {
  const http::Request request = MakeHttpRequest(protocol);
  NullDB db(/*issue_refs=*/cache);
  ReceiverOptions options;
  if (!cache) options.max_cached_series = 0;
  Receiver receiver(&db, options, nullptr);
  {
    http::Response warm_up;  // fills the cache
    receiver.Handle(request, &warm_up);
  }
  if (cache && receiver.CachedSeries() != static_cast<uint64_t>(kSeriesPerRequest)) {
    state.SkipWithError("the warm-up request did not fill the cache");
    return;
  }
  for (auto _ : state) {
    http::Response response;
    receiver.Handle(request, &response);
    if (response.status != 204) {
      state.SkipWithError(response.body.c_str());
      break;
    }
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations() * kSeriesPerRequest);
  state.counters["body_bytes"] = static_cast<double>(request.body.size());
}

// Protobuf decode + validation only (no snappy, no receiver); with `cache`,
// against a cache holding every series of the request.
void BM_DecodeOnly(benchmark::State& state, Protocol protocol, bool cache) {
  std::string protobuf;
  if (!SerializeWriteRequest(SeedLikeInput(), protocol, &protobuf).ok()) std::abort();
  model::LabelLimits limits;
  SeriesRefCache series_cache(cache ? 1'000'000 : 0, 1ull << 30);
  {
    IngestBatch first;
    if (!DecodeWriteRequest(protocol, protobuf, limits, &series_cache, &first).ok()) std::abort();
    for (const IngestBatch::PendingKey& pending : first.pending_keys) {
      series_cache.Insert(first.PendingKeyBytes(pending), pending.hash, pending.series_index + 1);
    }
  }
  for (auto _ : state) {
    IngestBatch decoded;
    Status status = DecodeWriteRequest(protocol, protobuf, limits, &series_cache, &decoded);
    if (!status.ok() || decoded.has_rejections() ||
        decoded.series_cache_hits != (cache ? static_cast<uint64_t>(kSeriesPerRequest) : 0)) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations() * kSeriesPerRequest);
  state.counters["protobuf_bytes"] = static_cast<double>(protobuf.size());
}

BENCHMARK_CAPTURE(BM_ReceiveRequest, v1_cache_hit, Protocol::kV1, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ReceiveRequest, v2_cache_hit, Protocol::kV2, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ReceiveRequest, v1_no_cache, Protocol::kV1, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ReceiveRequest, v2_no_cache, Protocol::kV2, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DecodeOnly, v1_cache_hit, Protocol::kV1, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DecodeOnly, v2_cache_hit, Protocol::kV2, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DecodeOnly, v1_no_cache, Protocol::kV1, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DecodeOnly, v2_no_cache, Protocol::kV2, false)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tsvault::remote_write

BENCHMARK_MAIN();
