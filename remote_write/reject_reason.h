// Why the receiver rejected (part of) a remote-write request. Each reason is
// one value of the `reason` label of tsvault_remote_write_rejected_total.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/label_validation.h"

namespace tsvault::remote_write {

enum class RejectReason : uint8_t {
  // Whole-request reasons: counted once per request.
  kBadContentType,   // 415: unsupported media type or proto= message
  kBadEncoding,      // 415: Content-Encoding other than snappy
  kCorruptSnappy,    // 400: body is not a valid snappy block
  kCorruptProtobuf,  // 400: decoded body is not a valid protobuf message
  kTooLarge,         // 400: decoded size above --remote-write.max-request-bytes
  kQueueFull,        // 429: in-flight byte budget or storage back-pressure
  kStorageError,     // 500: the storage engine failed the append
  // Per-series reasons: counted once per rejected series (or metadata entry).
  kMissingMetricName,
  kDuplicateLabel,
  kEmptyLabelName,
  kBadLabelsRefs,         // 2.0: odd-length or out-of-range symbol references
  kSamplesAndHistograms,  // a series carries both kinds of samples
  kTooManyLabels,
  kLabelTooLong,
  kInvalidUtf8,
  kInvalidHistogram,  // bad schema or zero threshold, or spans that do not match the buckets
  // Per-sample reasons: counted once per sample the storage refused.
  kDuplicateTimestamp,  // same timestamp, different value (see storage-format.md)
  kTooOld,              // before the raw retention cutoff (--retention.resolution-raw)
  kSeriesLimit,         // of a new series beyond --storage.max-series
  kOutOfBounds,         // timestamp outside years 0001-9999 (storage::kMinTimestampMs..kMaxTimestampMs)
};

inline constexpr size_t kRejectReasonCount = static_cast<size_t>(RejectReason::kOutOfBounds) + 1;

// The per-series reason for a label set that failed validation.
RejectReason RejectReasonFor(model::LabelProblemKind kind);

// The metric label value for a reason, e.g. "missing_metric_name".
const char* RejectReasonName(RejectReason reason);

}  // namespace tsvault::remote_write
