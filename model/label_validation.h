// Canonicalization and validation of label sets (series and exemplar
// labels): the rules every sample's labels pass on the one ingest path,
// whatever its source (Remote Write 1.0/2.0 decoders, imports).
#pragma once

#include <cstdint>
#include <string>

#include "common/labels.h"

namespace tsvault::model {

// What is wrong with a rejected label set. The ingest path maps each kind to
// its rejection reason (remote_write/reject_reason.h).
enum class LabelProblemKind : uint8_t {
  kInvalidUtf8,        // a name or value is not valid UTF-8
  kEmptyLabelName,     // a label with an empty name and a non-empty value
  kLabelTooLong,       // a name or value longer than its byte limit
  kTooManyLabels,      // more labels than max_labels_per_series
  kDuplicateLabel,     // a name appears more than once
  kMissingMetricName,  // a series label set without __name__
};

// Limits that apply to every label set ingested.
struct LabelLimits {
  uint32_t max_labels_per_series = 64;
  uint32_t max_label_name_bytes = 1024;
  uint32_t max_label_value_bytes = 4096;
};

// What a label set belongs to: series labels must carry __name__, exemplar
// labels need not.
enum class LabelSetKind { kSeries, kExemplar };

// A rejected label set: what is wrong and a short human-readable detail
// naming the offending label, e.g. `label name "job" appears twice`.
struct LabelProblem {
  LabelProblemKind kind = LabelProblemKind::kInvalidUtf8;
  std::string detail;
};

// Brings `labels` into canonical form and checks it:
//  - drops labels whose value is empty (an empty value means "absent", as in
//    Prometheus); a label with an empty name and a non-empty value is an error;
//  - unless `utf8_already_checked`, every name and value must be valid UTF-8
//    (any valid UTF-8 name is accepted, as the 2.0 spec allows);
//  - names and values must fit the byte limits, the set the label-count limit;
//  - sorts by name only when the input is not already sorted;
//  - names must be unique; series label sets must contain __name__.
// Returns true when valid. On failure returns false and fills *problem; the
// labels are then left in an unspecified (but valid) order.
bool CanonicalizeLabels(Labels* labels, const LabelLimits& limits, LabelSetKind kind,
                        bool utf8_already_checked, LabelProblem* problem);

// A label set for error messages: {__name__="x", a="b"} with quotes,
// backslashes, control bytes and invalid UTF-8 escaped, long values cut and the
// whole text bounded to a few hundred bytes. Never fails.
std::string DescribeLabelsForError(const Labels& labels);

// Quotes and escapes one string for an error message, cutting it at
// `max_bytes` (followed by "..." when cut).
std::string QuoteForError(std::string_view text, size_t max_bytes);

}  // namespace tsvault::model
