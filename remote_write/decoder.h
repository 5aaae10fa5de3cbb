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
#include "remote_write/ingest_batch.h"
#include "remote_write/protocol.h"
#include "model/label_validation.h"
#include "remote_write/reject_reason.h"
#include "remote_write/series_ref_cache.h"
#include "storage/types.h"

namespace tsvault::remote_write {

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
Status DecodeWriteRequest(Protocol protocol, std::string_view protobuf, const model::LabelLimits& limits,
                          const SeriesRefCache* cache, IngestBatch* out);

// DecodeWriteRequest without a cache.
inline Status DecodeWriteRequest(Protocol protocol, std::string_view protobuf, const model::LabelLimits& limits,
                                 IngestBatch* out) {
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
// A rejected series (or metadata entry): why, for the metric, and a short
// human-readable detail for the answer.
struct SeriesProblem {
  RejectReason reason = RejectReason::kInvalidUtf8;
  std::string detail;
};
// Rejects (false, *problem filled) a series that carries both float samples
// and native histograms, which Prometheus does not allow in one series.
bool CheckOneSampleKind(bool has_samples, bool has_histograms, SeriesProblem* problem);
// Canonicalizes an exemplar's labels; a problem's detail names the exemplar.
bool CanonicalizeExemplarLabels(Labels* labels, const model::LabelLimits& limits, bool utf8_already_checked,
                                SeriesProblem* problem);
// model::CanonicalizeLabels with the problem stated as a SeriesProblem.
bool CanonicalizeSeriesLabels(Labels* labels, const model::LabelLimits& limits, model::LabelSetKind kind,
                              bool utf8_already_checked, SeriesProblem* problem);
// Version-specific halves of DecodeWriteRequest (decoder_v1.cc, decoder_v2.cc).
// `cache` is null or enabled.
Status DecodeV1(std::string_view protobuf, const model::LabelLimits& limits, const SeriesRefCache* cache,
                IngestBatch* out);
Status DecodeV2(std::string_view protobuf, const model::LabelLimits& limits, const SeriesRefCache* cache,
                IngestBatch* out);
// Storage metric type from a wire enum value (0..7; anything else is unknown).
storage::MetricType MetricTypeFromWire(int value);
// Reads a Sample message (same field numbers in 1.0 and 2.0: value=1 double,
// timestamp=2 int64; others skipped). False when malformed.
bool ParseSample(std::string_view bytes, storage::Sample* sample);
}  // namespace internal

}  // namespace tsvault::remote_write
