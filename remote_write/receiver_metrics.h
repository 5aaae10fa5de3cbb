// The receiver's Prometheus metrics (prometheus-cpp core). Every method is a
// no-op when constructed without a registry. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "remote_write/reject_reason.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace tsvault::remote_write {

// Label values of the `protocol` label.
enum class ProtocolLabel : uint8_t { kV1, kV2, kUnknown };

class ReceiverMetrics {
 public:
  // Registers (or, for a registry that already has them, reuses) the metric
  // families on `registry`; null disables metrics.
  explicit ReceiverMetrics(prometheus::Registry* registry);

  // tsvault_remote_write_requests_total{protocol,code}.
  void CountRequest(ProtocolLabel protocol, int code);
  // tsvault_remote_write_rejected_total{reason} += count.
  void CountRejected(RejectReason reason, uint64_t count);
  // tsvault_remote_write_{samples,histograms,exemplars,metadata}_ingested_total.
  void CountIngested(uint64_t samples, uint64_t histograms, uint64_t exemplars, uint64_t metadata);
  // tsvault_remote_write_decode_seconds (decompress + parse + validate).
  void ObserveDecodeSeconds(double seconds);
  // tsvault_remote_write_series_cache_{hits,misses}_total: series appended by
  // cached reference, series decoded in full with the cache on.
  void CountSeriesCache(uint64_t hits, uint64_t misses);

 private:
  static constexpr std::array<int, 5> kKnownCodes = {204, 400, 415, 429, 500};

  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  std::array<std::array<prometheus::Counter*, kKnownCodes.size()>, 3> request_counters_{};
  std::array<prometheus::Counter*, kRejectReasonCount> rejected_{};
  prometheus::Counter* samples_ = nullptr;
  prometheus::Counter* histograms_ = nullptr;
  prometheus::Counter* exemplars_ = nullptr;
  prometheus::Counter* metadata_ = nullptr;
  prometheus::Counter* cache_hits_ = nullptr;
  prometheus::Counter* cache_misses_ = nullptr;
  prometheus::Histogram* decode_seconds_ = nullptr;
};

}  // namespace tsvault::remote_write
