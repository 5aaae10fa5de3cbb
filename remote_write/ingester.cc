#include "remote_write/ingester.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <utility>

#include "remote_write/receiver_metrics.h"
#include "remote_write/response_text.h"
#include "remote_write/series_recycler.h"
#include "remote_write/series_ref_cache.h"

namespace tsvault::remote_write {

InflightReservation::~InflightReservation() {
  if (granted_) inflight_->fetch_sub(bytes_, std::memory_order_acq_rel);
}

struct Ingester::Impl {
  Impl(storage::DB* db_in, IngesterOptions options_in, prometheus::Registry* registry)
      : db(db_in),
        options(options_in),
        metrics(registry),
        series_cache(options.max_cached_series, options.max_series_cache_bytes, options.series_cache_max_age) {}

  storage::DB* const db;
  const IngesterOptions options;
  ReceiverMetrics metrics;
  SeriesRefCache series_cache;
  std::atomic<uint64_t> inflight_bytes{0};  // atomic; no lock
};

Ingester::Ingester(storage::DB* db, IngesterOptions options, prometheus::Registry* registry)
    : impl_(std::make_unique<Impl>(db, options, registry)) {}

Ingester::~Ingester() = default;

void Ingester::Reserve(uint64_t bytes, InflightReservation* reservation) {
  const uint64_t limit = impl_->options.max_inflight_bytes;
  std::atomic<uint64_t>* inflight = &impl_->inflight_bytes;
  uint64_t current = inflight->load(std::memory_order_relaxed);
  do {
    if (bytes > limit || current > limit - bytes) {
      reservation->in_flight_seen_ = current;
      return;
    }
  } while (!inflight->compare_exchange_weak(current, current + bytes, std::memory_order_acq_rel,
                                            std::memory_order_relaxed));
  reservation->inflight_ = inflight;
  reservation->bytes_ = bytes;
  reservation->granted_ = true;
}

Status Ingester::Ingest(const BatchBuilder& build, IngestOutcome* outcome) {
  ReceiverMetrics& metrics = impl_->metrics;
  SeriesRefCache& series_cache = impl_->series_cache;
  const SeriesRefCache* cache = series_cache.enabled() ? &series_cache : nullptr;

  const auto build_start = std::chrono::steady_clock::now();
  IngestBatch batch;
  // Series buffers come from, and go back to, this thread's recycler.
  SeriesRecycler& recycler = SeriesRecycler::ForThisThread();
  recycler.Lend(&batch);
  struct ReturnBuffers {
    SeriesRecycler* recycler;
    IngestBatch* batch;
    ~ReturnBuffers() { recycler->Return(batch); }
  } return_buffers{&recycler, &batch};
  Status status = build(cache, &batch);
  metrics.ObserveDecodeSeconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - build_start).count());
  if (!status.ok()) {
    outcome->source_failed = true;
    return status;
  }
  for (size_t reason = 0; reason < kRejectReasonCount; ++reason) {
    metrics.CountRejected(static_cast<RejectReason>(reason), batch.rejected_by_reason[reason]);
  }

  storage::WriteResult& result = outcome->result;
  if (!batch.input.series.empty() || !batch.input.metadata.empty()) {
    status = impl_->db->Append(batch.input, &result);
    if (status.IsInvalidArgument() && batch.series_cache_hits > 0) {
      // Storage refused a cached reference (nothing was stored): forget every
      // reference and write this batch by labels.
      spdlog::warn("ingest: storage refused a cached series reference ({}); clearing the series cache",
                   status.ToString());
      series_cache.Clear();
      IngestBatch by_labels;
      status = build(nullptr, &by_labels);
      if (!status.ok()) {
        outcome->source_failed = true;
        return status;
      }
      {
        batch = std::move(by_labels);
        result = storage::WriteResult();
        status = impl_->db->Append(batch.input, &result);
      }
    }
    if (!status.ok()) return status;
  }
  // Series appended by labels are looked up by reference next time.
  if (result.series_refs.size() == batch.input.series.size()) {
    for (const IngestBatch::PendingKey& pending : batch.pending_keys) {
      const uint64_t ref = result.series_refs[pending.series_index];
      if (ref != 0) series_cache.Insert(batch.PendingKeyBytes(pending), pending.hash, ref);  // 0: not created
    }
  }
  metrics.CountSeriesCache(batch.series_cache_hits, batch.pending_keys.size());
  metrics.CountIngested(result.samples_written, result.histograms_written, result.exemplars_written,
                        batch.input.metadata.size());
  outcome->conflicts = result.samples_rejected;
  outcome->too_old = result.samples_too_old;
  metrics.CountRejected(RejectReason::kDuplicateTimestamp, outcome->conflicts);
  metrics.CountRejected(RejectReason::kTooOld, outcome->too_old);
  outcome->series_limited = result.samples_series_limit;
  metrics.CountRejected(RejectReason::kSeriesLimit, outcome->series_limited);
  outcome->out_of_bounds = result.samples_out_of_bounds;
  metrics.CountRejected(RejectReason::kOutOfBounds, outcome->out_of_bounds);
  if (outcome->series_limited > 0) {
    // Once a minute at most: a sender over the limit retries nothing (400),
    // but keeps sending.
    static std::atomic<int64_t> last_log_seconds{0};
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    int64_t last = last_log_seconds.load(std::memory_order_relaxed);
    if (now - last >= 60 && last_log_seconds.compare_exchange_strong(last, now)) {
      spdlog::warn("ingest: new series refused by a series limit (--storage.max-series or "
                   "--storage.max-new-series-per-write; {} samples in this request); raise it or find the series "
                   "churn (/api/v1/status/tsdb)",
                   outcome->series_limited);
    }
  }
  outcome->has_rejections = batch.has_rejections();
  if (outcome->has_rejections || outcome->conflicts > 0 || outcome->too_old > 0 || outcome->series_limited > 0 ||
      outcome->out_of_bounds > 0 ||
      !result.errors.empty()) {
    outcome->partial_write_text = PartialWriteMessage(batch, result);
  }
  return Status::OK();
}

void Ingester::CountRejectedSource(RejectReason reason) { impl_->metrics.CountRejected(reason, 1); }

const model::LabelLimits& Ingester::label_limits() const { return impl_->options.label_limits; }

uint64_t Ingester::max_inflight_bytes() const { return impl_->options.max_inflight_bytes; }

uint64_t Ingester::CachedSeries() const { return impl_->series_cache.size(); }

ReceiverMetrics* Ingester::metrics() { return &impl_->metrics; }

}  // namespace tsvault::remote_write
