#include "remote_write/reject_reason.h"

namespace tsvault::remote_write {

RejectReason RejectReasonFor(model::LabelProblemKind kind) {
  switch (kind) {
    case model::LabelProblemKind::kInvalidUtf8: return RejectReason::kInvalidUtf8;
    case model::LabelProblemKind::kEmptyLabelName: return RejectReason::kEmptyLabelName;
    case model::LabelProblemKind::kLabelTooLong: return RejectReason::kLabelTooLong;
    case model::LabelProblemKind::kTooManyLabels: return RejectReason::kTooManyLabels;
    case model::LabelProblemKind::kDuplicateLabel: return RejectReason::kDuplicateLabel;
    case model::LabelProblemKind::kMissingMetricName: return RejectReason::kMissingMetricName;
  }
  return RejectReason::kInvalidUtf8;
}

const char* RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kBadContentType: return "bad_content_type";
    case RejectReason::kBadEncoding: return "bad_encoding";
    case RejectReason::kCorruptSnappy: return "corrupt_snappy";
    case RejectReason::kCorruptProtobuf: return "corrupt_protobuf";
    case RejectReason::kTooLarge: return "too_large";
    case RejectReason::kQueueFull: return "queue_full";
    case RejectReason::kStorageError: return "storage_error";
    case RejectReason::kMissingMetricName: return "missing_metric_name";
    case RejectReason::kDuplicateLabel: return "duplicate_label";
    case RejectReason::kEmptyLabelName: return "empty_label_name";
    case RejectReason::kBadLabelsRefs: return "bad_labels_refs";
    case RejectReason::kSamplesAndHistograms: return "samples_and_histograms";
    case RejectReason::kTooManyLabels: return "too_many_labels";
    case RejectReason::kLabelTooLong: return "label_too_long";
    case RejectReason::kInvalidUtf8: return "invalid_utf8";
    case RejectReason::kInvalidHistogram: return "invalid_histogram";
    case RejectReason::kDuplicateTimestamp: return "duplicate_timestamp";
    case RejectReason::kTooOld: return "too_old";
    case RejectReason::kSeriesLimit: return "series_limit";
    case RejectReason::kOutOfBounds: return "out_of_bounds";
  }
  return "unknown";
}

}  // namespace tsvault::remote_write
