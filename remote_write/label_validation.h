// Canonicalization and validation of decoded label sets (series and exemplar
// labels), shared by the 1.0 and 2.0 decoders.
#pragma once

#include <cstdint>
#include <string>

#include "common/labels.h"
#include "remote_write/reject_reason.h"

namespace tsvault::remote_write {

// Receiver limits that apply to every label set.
struct LabelLimits {
  uint32_t max_labels_per_series = 64;
  uint32_t max_label_name_bytes = 1024;
  uint32_t max_label_value_bytes = 4096;
};

// What a label set belongs to: series labels must carry __name__, exemplar
// labels need not.
enum class LabelSetKind { kSeries, kExemplar };

// A rejected label set: the reason (metric label) and a short human-readable
// detail naming the offending label, e.g. `label name "job" appears twice`.
struct LabelProblem {
  RejectReason reason = RejectReason::kInvalidUtf8;
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

}  // namespace tsvault::remote_write
