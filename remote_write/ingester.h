// The one ingest path. Every sample that enters tsvault, whatever brought it
// (Remote Write 1.0/2.0 today; CSV, OpenMetrics and PostgreSQL imports and
// the forwarding queue's replays next), passes through an Ingester: label
// validation and canonical labels (IngestBatch::AddValidatedSeries, or the
// Remote Write decoders, which apply the same rules), the bound on bytes in
// flight, the series-reference cache, the append to storage with its retry
// when storage refuses a stale cached reference, and the ingestion metrics.
// The Ingester knows nothing of HTTP: the Remote Write handler is
// headers -> decode -> Ingester, and so will every other source be.
#pragma once

#include <chrono>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "model/label_validation.h"
#include "remote_write/ingest_batch.h"
#include "remote_write/reject_reason.h"
#include "storage/db.h"

namespace prometheus {
class Registry;
}

namespace tsvault::remote_write {

class ReceiverMetrics;
class SeriesRefCache;

struct IngesterOptions {
  // Rules every label set must pass.
  model::LabelLimits label_limits;
  // Decoded bytes being ingested at once; a reservation beyond it is refused
  // so that memory stays bounded (Remote Write answers 429).
  uint64_t max_inflight_bytes = 512ull << 20;
  // Series-reference cache: series seen before skip label decoding and
  // validation and are appended by storage reference. At most this many
  // entries and about this many bytes; either 0 turns it off.
  uint64_t max_cached_series = 4'000'000;
  uint64_t max_series_cache_bytes = 1ull << 30;
  std::chrono::milliseconds series_cache_max_age{std::chrono::hours(1)};  // 0: never emptied by age
};

// Holds part of the in-flight byte budget until destroyed.
class InflightReservation {
 public:
  InflightReservation() = default;
  ~InflightReservation();
  InflightReservation(const InflightReservation&) = delete;
  InflightReservation& operator=(const InflightReservation&) = delete;

  // True when the bytes were granted.
  bool granted() const { return granted_; }
  // With !granted(): the bytes in flight when the reservation was refused.
  uint64_t in_flight_seen() const { return in_flight_seen_; }

 private:
  friend class Ingester;
  std::atomic<uint64_t>* inflight_ = nullptr;
  uint64_t bytes_ = 0;
  uint64_t in_flight_seen_ = 0;
  bool granted_ = false;
};

// What one Ingest call did.
struct IngestOutcome {
  storage::WriteResult result;  // what storage wrote and refused
  bool source_failed = false;   // the non-OK status came from the BatchBuilder
  bool has_rejections = false;      // validation left something out
  uint64_t conflicts = 0;           // samples storage refused (duplicate timestamp)
  uint64_t too_old = 0;             // samples storage refused (before the raw retention cutoff)
  uint64_t series_limited = 0;      // samples of new series refused (--storage.max-series)
  uint64_t out_of_bounds = 0;       // samples refused for a timestamp outside storage's window
  std::string partial_write_text;   // when has_rejections or conflicts: what was not written
};

// Bounds, appends and accounts for batches of series. Thread-safe.
class Ingester {
 public:
  // Fills `batch` with the series to append. `cache` is the ingester's
  // series-reference cache (series found in it may be emitted by reference,
  // see IngestBatch), or null when every series must carry its labels.
  // Returns Corruption or InvalidArgument when the source is unusable as a
  // whole (nothing is appended); per-series problems go into the batch.
  using BatchBuilder = std::function<Status(const SeriesRefCache* cache, IngestBatch* batch)>;

  // `db` must outlive the ingester. `registry` (may be null) receives the
  // ingestion metrics.
  Ingester(storage::DB* db, IngesterOptions options, prometheus::Registry* registry);
  ~Ingester();
  Ingester(const Ingester&) = delete;
  Ingester& operator=(const Ingester&) = delete;

  // Reserves `bytes` of the in-flight budget into *reservation (which must
  // be fresh); check reservation->granted().
  void Reserve(uint64_t bytes, InflightReservation* reservation);

  // Builds a batch with `build` (timed as decode time), counts what it
  // rejected, appends it, and feeds the series cache. When storage refuses a
  // cached reference, the cache is cleared and the batch is built again
  // without it. Returns the builder's error, ResourceExhausted when storage
  // pushes back (retry later), another non-OK status when storage failed
  // (nothing written); OK otherwise, with *outcome filled. A builder error
  // sets outcome->source_failed.
  Status Ingest(const BatchBuilder& build, IngestOutcome* outcome);

  // Counts a whole source (request, file) refused before it reached Ingest.
  void CountRejectedSource(RejectReason reason);

  const model::LabelLimits& label_limits() const;
  // IngesterOptions::max_inflight_bytes.
  uint64_t max_inflight_bytes() const;
  // Entries in the series-reference cache (takes every shard lock in turn).
  uint64_t CachedSeries() const;
  // The metrics object shared with the Remote Write handler.
  ReceiverMetrics* metrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::remote_write
