// The Remote Write 1.0 / 2.0 receiver behind POST /api/v1/write.
// Status codes follow the Remote Write 2.0 specification; see
// docs/remote-write.md for every rule.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "http/http.h"
#include "remote_write/ingester.h"
#include "storage/db.h"

namespace prometheus {
class Registry;
}

namespace tsvault::remote_write {

struct ReceiverOptions {
  // Largest decoded (uncompressed) request; larger answers 400.
  uint64_t max_request_bytes = 32ull << 20;
  // Series with more labels are rejected (400), the rest still written.
  uint32_t max_labels_per_series = 64;
  uint32_t max_label_name_bytes = 1024;
  uint32_t max_label_value_bytes = 4096;
  // Decoded bytes of requests being processed at once; a request that would
  // go over answers 429 with Retry-After so memory stays bounded.
  uint64_t max_inflight_bytes = 512ull << 20;
  // Series-reference cache (remote_write/series_ref_cache.h): series seen
  // before skip label decoding and validation and are appended by storage
  // reference. At most this many entries and about this many bytes (per
  // entry: the labels' bytes + 6 per label + ~48); either 0 turns it off.
  uint64_t max_cached_series = 4'000'000;
  uint64_t max_series_cache_bytes = 1ull << 30;
  // A shard of the cache whose first entry is older than this is emptied
  // on its next insert, so series that ended leave it (0: never).
  std::chrono::milliseconds series_cache_max_age{std::chrono::hours(1)};
};

// The Remote Write handler: checks the headers, decompresses and decodes the
// body, and hands the series to the Ingester (remote_write/ingester.h).
// Thread-safe.
class Receiver {
 public:
  // Uses `ingester` (which must outlive the receiver, and owns the metrics)
  // for ingestion; only options.max_request_bytes is read.
  Receiver(Ingester* ingester, ReceiverOptions options);
  // Owns an Ingester built from `options` over `db` (which must outlive the
  // receiver). `registry` (may be null) receives the ingestion metrics.
  Receiver(storage::DB* db, ReceiverOptions options, prometheus::Registry* registry);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Handles POST /api/v1/write.
  void Handle(const http::Request& request, http::Response* response);

  // Entries in the series-reference cache (for tests and diagnostics; takes
  // every shard lock in turn).
  uint64_t CachedSeries() const;

  // The options of the Ingester that a receiver with these options uses.
  static IngesterOptions IngesterOptionsFrom(const ReceiverOptions& options);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::remote_write
