// Converts the generated protobuf Histogram messages of both protocol versions
// (same field names and numbers) to storage::Histogram and back. Internal to
// the remote_write module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/types.h"

namespace tsvault::remote_write {

// The generated Histogram of either version -> storage::Histogram.
template <typename ProtoHistogram>
void HistogramFromProto(const ProtoHistogram& in, storage::Histogram* out) {
  out->timestamp_ms = in.timestamp();
  out->is_float = in.count_case() == ProtoHistogram::kCountFloat;
  out->count_int = in.count_int();
  out->count_float = in.count_float();
  out->sum = in.sum();
  out->schema = in.schema();
  out->zero_threshold = in.zero_threshold();
  out->zero_count_int = in.zero_count_int();
  out->zero_count_float = in.zero_count_float();
  out->negative_spans.resize(static_cast<size_t>(in.negative_spans_size()));
  for (int i = 0; i < in.negative_spans_size(); ++i) {
    out->negative_spans[i] = {in.negative_spans(i).offset(), in.negative_spans(i).length()};
  }
  out->negative_deltas.assign(in.negative_deltas().begin(), in.negative_deltas().end());
  out->negative_counts.assign(in.negative_counts().begin(), in.negative_counts().end());
  out->positive_spans.resize(static_cast<size_t>(in.positive_spans_size()));
  for (int i = 0; i < in.positive_spans_size(); ++i) {
    out->positive_spans[i] = {in.positive_spans(i).offset(), in.positive_spans(i).length()};
  }
  out->positive_deltas.assign(in.positive_deltas().begin(), in.positive_deltas().end());
  out->positive_counts.assign(in.positive_counts().begin(), in.positive_counts().end());
  const int hint = static_cast<int>(in.reset_hint());
  out->reset_hint = (hint >= 0 && hint <= 3) ? static_cast<storage::ResetHint>(hint)
                                             : storage::ResetHint::kUnknown;
  if constexpr (requires { in.custom_values(); }) {
    out->custom_values.assign(in.custom_values().begin(), in.custom_values().end());
  }
}

// storage::Histogram -> the generated Histogram of either version. Custom
// values are dropped for 1.0, whose schema has no field for them.
template <typename ProtoHistogram>
void HistogramToProto(const storage::Histogram& in, ProtoHistogram* out) {
  out->set_timestamp(in.timestamp_ms);
  if (in.is_float) {
    out->set_count_float(in.count_float);
    out->set_zero_count_float(in.zero_count_float);
  } else {
    out->set_count_int(in.count_int);
    out->set_zero_count_int(in.zero_count_int);
  }
  out->set_sum(in.sum);
  out->set_schema(in.schema);
  out->set_zero_threshold(in.zero_threshold);
  for (const storage::BucketSpan& span : in.negative_spans) {
    auto* added = out->add_negative_spans();
    added->set_offset(span.offset);
    added->set_length(span.length);
  }
  for (int64_t delta : in.negative_deltas) out->add_negative_deltas(delta);
  for (double count : in.negative_counts) out->add_negative_counts(count);
  for (const storage::BucketSpan& span : in.positive_spans) {
    auto* added = out->add_positive_spans();
    added->set_offset(span.offset);
    added->set_length(span.length);
  }
  for (int64_t delta : in.positive_deltas) out->add_positive_deltas(delta);
  for (double count : in.positive_counts) out->add_positive_counts(count);
  out->set_reset_hint(
      static_cast<decltype(out->reset_hint())>(static_cast<int>(in.reset_hint)));
  if constexpr (requires { out->add_custom_values(0.0); }) {
    for (double bound : in.custom_values) out->add_custom_values(bound);
  }
}

// Checks what storage and queries rely on: an exponential schema from
// model::kMinHistogramSchema to kMaxHistogramSchema (-4 to 8), or
// model::kCustomBucketsSchema (-53) with strictly increasing finite
// custom_values and no negative buckets; a zero threshold >= 0; and bucket
// spans that describe exactly the buckets present (the sum of span
// lengths equals the number of deltas, integer histogram, or counts, float
// histogram, for each side, and the other kind is empty). Returns an empty
// string when valid, else a description of the problem.
std::string CheckHistogram(const storage::Histogram& histogram);

// Parses each serialized Histogram message of one series (`ProtoHistogram`:
// the generated Histogram of either version, named `message_name` in errors)
// into out->histograms and checks its buckets. Returns Corruption for an
// unparsable message. Otherwise OK; on a bucket mismatch *problem_detail
// describes it ("histogram at <t>: ...") and the conversion stops.
template <typename ProtoHistogram>
Status ConvertHistograms(const std::vector<std::string_view>& messages, const char* message_name,
                         storage::SeriesWrite* out, std::string* problem_detail) {
  out->histograms.resize(messages.size());
  if (messages.empty()) return Status::OK();  // most series carry no histogram
  ProtoHistogram histogram;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!histogram.ParseFromArray(messages[i].data(), static_cast<int>(messages[i].size()))) {
      return Status::Corruption(std::string("invalid ") + message_name + " message");
    }
    HistogramFromProto(histogram, &out->histograms[i]);
    std::string mismatch = CheckHistogram(out->histograms[i]);
    if (!mismatch.empty()) {
      *problem_detail = "histogram at " + std::to_string(histogram.timestamp()) + ": " + mismatch;
      return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace tsvault::remote_write
