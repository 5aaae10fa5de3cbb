// Turns an uncompressed remote-write protobuf (1.0 or 2.0) into the
// storage::WriteInput to append, validating every series on the way. Invalid
// series are left out and described; the valid ones are kept, so a request
// can be partially written as the 2.0 spec allows.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "remote_write/encoder.h"
#include "remote_write/label_validation.h"
#include "remote_write/reject_reason.h"
#include "remote_write/series_ref_cache.h"
#include "storage/types.h"

namespace tsvault::remote_write {

// How many per-series problems are described in full; the rest are counted.
inline constexpr size_t kMaxReportedProblems = 10;

// Everything decoding produced: the valid data and an account of the rest.
struct DecodedRequest {
  storage::WriteInput input;  // valid series and metadata, canonical labels

  // Totals in the request as received (valid and invalid).
  uint64_t series_received = 0;
  uint64_t samples_received = 0;
  uint64_t histograms_received = 0;
  uint64_t exemplars_received = 0;

  // What was left out because of validation.
  uint64_t series_rejected = 0;
  uint64_t metadata_rejected = 0;
  uint64_t samples_rejected = 0;
  uint64_t histograms_rejected = 0;
  uint64_t exemplars_rejected = 0;
  std::array<uint64_t, kRejectReasonCount> rejected_by_reason{};
  // The first kMaxReportedProblems problems, e.g.
  // "duplicate_label: label name \"job\" appears more than once in series {...}".
  std::vector<std::string> problems;

  // True when something in the request was rejected by validation.
  bool has_rejections() const { return series_rejected + metadata_rejected > 0; }

  // Series-reference cache bookkeeping, filled only when decoding with a
  // cache. Series of `input` found in the cache carry a series_ref and no
  // labels; they are counted here.
  uint64_t series_cache_hits = 0;
  // A series of `input` decoded in full (a cache miss) whose key is to be
  // inserted once DB::Append has returned its reference.
  struct PendingKey {
    size_t series_index = 0;  // into input.series
    size_t offset = 0;        // of the key in pending_key_bytes
    size_t size = 0;
    uint64_t hash = 0;        // SeriesRefCache::Hash of the key
  };
  std::vector<PendingKey> pending_keys;
  std::string pending_key_bytes;  // the keys of pending_keys, back to back

  // Cleared series objects (buffers kept) that the decoder moves into
  // input.series before constructing new ones; see SeriesRecycler.
  std::vector<storage::SeriesWrite> spare_series;

  // A new, empty entry at the end of input.series, recycled when possible.
  storage::SeriesWrite& AddSeries() {
    if (spare_series.empty()) return input.series.emplace_back();
    storage::SeriesWrite& series = input.series.emplace_back(std::move(spare_series.back()));
    spare_series.pop_back();
    return series;
  }

  // The key of a pending series.
  std::string_view PendingKeyBytes(const PendingKey& key) const {
    return std::string_view(pending_key_bytes).substr(key.offset, key.size);
  }
};

// Parses `protobuf` as `protocol`'s message and validates it.
// Returns Corruption when the bytes are not a valid protobuf message of that
// type, InvalidArgument for request-level violations that make the whole
// request unusable (a 2.0 symbols table not starting with ""); *out is then
// unspecified. Per-series problems never fail the call: they are recorded in
// *out. Metadata is deduplicated by metric family name within a request.
//
// With a non-null, enabled `cache`, every series' key (series_ref_cache.h) is
// looked up first: a hit emits a SeriesWrite with the cached series_ref and
// empty labels, skipping label decoding and label validation (the same
// labels passed validation when cached, and the limits never change for one
// cache); the rest of the series (samples, histograms, exemplars, 2.0
// metadata) is validated as usual. Misses are decoded in full and listed in
// out->pending_keys for the caller to insert after the append. The cache is
// only read here.
Status DecodeWriteRequest(Protocol protocol, std::string_view protobuf, const LabelLimits& limits,
                          const SeriesRefCache* cache, DecodedRequest* out);

// DecodeWriteRequest without a cache.
inline Status DecodeWriteRequest(Protocol protocol, std::string_view protobuf, const LabelLimits& limits,
                                 DecodedRequest* out) {
  return DecodeWriteRequest(protocol, protobuf, limits, nullptr, out);
}

// The metric family name Remote Write 2.0 per-series metadata belongs to:
// the series' metric name, minus the _bucket/_count/_sum/_created suffix of a
// classic histogram or summary series (the suffixes Prometheus' scrape
// metadata lookup strips). Counter names keep _total, as in Prometheus' text
// format and its /api/v1/metadata output.
// Returns a view into `metric_name`.
std::string_view MetricFamilyName(std::string_view metric_name, storage::MetricType type);

namespace internal {
// Version-specific halves of DecodeWriteRequest (decoder_v1.cc, decoder_v2.cc).
// `cache` is null or enabled.
Status DecodeV1(std::string_view protobuf, const LabelLimits& limits, const SeriesRefCache* cache,
                DecodedRequest* out);
Status DecodeV2(std::string_view protobuf, const LabelLimits& limits, const SeriesRefCache* cache,
                DecodedRequest* out);
// Records one rejected series (or metadata entry) in *out.
void RecordProblem(DecodedRequest* out, RejectReason reason, const std::string& detail,
                   const std::string& labels_description);
// Storage metric type from a wire enum value (0..7; anything else is unknown).
storage::MetricType MetricTypeFromWire(int value);
// Reads a Sample message (same field numbers in 1.0 and 2.0: value=1 double,
// timestamp=2 int64; others skipped). False when malformed.
bool ParseSample(std::string_view bytes, storage::Sample* sample);
}  // namespace internal

}  // namespace tsvault::remote_write
