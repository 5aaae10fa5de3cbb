#include "remote_write/receiver_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <string>

namespace tsvault::remote_write {

namespace {

const char* ProtocolName(size_t index) {
  switch (index) {
    case 0: return "1.0";
    case 1: return "2.0";
    default: return "unknown";
  }
}

}  // namespace

ReceiverMetrics::ReceiverMetrics(prometheus::Registry* registry) {
  if (registry == nullptr) return;
  // prometheus-cpp reports registration problems (name clash with another
  // metric type) by throwing; keep that inside this constructor.
  try {
    requests_ = &prometheus::BuildCounter()
                     .Name("tsvault_remote_write_requests_total")
                     .Help("Remote-write requests handled, by protocol version and HTTP status code.")
                     .Register(*registry);
    for (size_t protocol = 0; protocol < request_counters_.size(); ++protocol) {
      for (size_t code = 0; code < kKnownCodes.size(); ++code) {
        request_counters_[protocol][code] = &requests_->Add(
            {{"protocol", ProtocolName(protocol)}, {"code", std::to_string(kKnownCodes[code])}});
      }
    }
    auto& rejected = prometheus::BuildCounter()
                         .Name("tsvault_remote_write_rejected_total")
                         .Help("Remote-write rejections by reason: whole requests for request-level "
                               "reasons, series for label/series reasons, samples for "
                               "duplicate_timestamp, too_old, series_limit and out_of_bounds.")
                         .Register(*registry);
    for (size_t reason = 0; reason < kRejectReasonCount; ++reason) {
      rejected_[reason] = &rejected.Add({{"reason", RejectReasonName(static_cast<RejectReason>(reason))}});
    }
    auto counter = [&](const char* name, const char* help) {
      return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
    };
    samples_ = counter("tsvault_remote_write_samples_ingested_total",
                       "Float samples written to storage through remote write.");
    histograms_ = counter("tsvault_remote_write_histograms_ingested_total",
                          "Native histogram samples written to storage through remote write.");
    exemplars_ = counter("tsvault_remote_write_exemplars_ingested_total",
                         "Exemplars written to storage through remote write.");
    metadata_ = counter("tsvault_remote_write_metadata_ingested_total",
                        "Metric metadata entries written to storage through remote write.");
    cache_hits_ = counter("tsvault_remote_write_series_cache_hits_total",
                          "Series appended by their cached storage reference, without label decoding.");
    cache_misses_ = counter("tsvault_remote_write_series_cache_misses_total",
                            "Series decoded in full while the series-reference cache is on.");
    decode_seconds_ =
        &prometheus::BuildHistogram()
             .Name("tsvault_remote_write_decode_seconds")
             .Help("Time to decompress, parse and validate one remote-write request.")
             .Register(*registry)
             .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                              0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                              0.5, 1, 2.5});
  } catch (const std::exception& error) {
    spdlog::error("remote write: cannot register metrics: {}", error.what());
    *this = ReceiverMetrics(nullptr);
  }
}

void ReceiverMetrics::CountRequest(ProtocolLabel protocol, int code) {
  if (requests_ == nullptr) return;
  const size_t protocol_index = static_cast<size_t>(protocol);
  for (size_t i = 0; i < kKnownCodes.size(); ++i) {
    if (kKnownCodes[i] == code) {
      request_counters_[protocol_index][i]->Increment();
      return;
    }
  }
  try {
    requests_->Add({{"protocol", ProtocolName(protocol_index)}, {"code", std::to_string(code)}}).Increment();
  } catch (const std::exception&) {
    // A metric is never worth failing a write for.
  }
}

void ReceiverMetrics::CountRejected(RejectReason reason, uint64_t count) {
  if (count == 0) return;
  prometheus::Counter* counter = rejected_[static_cast<size_t>(reason)];
  if (counter != nullptr) counter->Increment(static_cast<double>(count));
}

void ReceiverMetrics::CountIngested(uint64_t samples, uint64_t histograms, uint64_t exemplars,
                                    uint64_t metadata) {
  if (samples_ == nullptr) return;
  if (samples > 0) samples_->Increment(static_cast<double>(samples));
  if (histograms > 0) histograms_->Increment(static_cast<double>(histograms));
  if (exemplars > 0) exemplars_->Increment(static_cast<double>(exemplars));
  if (metadata > 0) metadata_->Increment(static_cast<double>(metadata));
}

void ReceiverMetrics::CountSeriesCache(uint64_t hits, uint64_t misses) {
  if (cache_hits_ == nullptr) return;
  if (hits > 0) cache_hits_->Increment(static_cast<double>(hits));
  if (misses > 0) cache_misses_->Increment(static_cast<double>(misses));
}

void ReceiverMetrics::ObserveDecodeSeconds(double seconds) {
  if (decode_seconds_ != nullptr) decode_seconds_->Observe(seconds);
}

}  // namespace tsvault::remote_write
