// The histogram chunk encoder (ChunkEncoding::kHistogram). Each sample is a
// byte-aligned record of flags, varints, "xor bytes" floats and bit-packed
// bucket blocks, delta-encoded against the previous sample. Layout in
// docs/chunk-format.md; the decoder is in histogram_chunk_iterator.cc.
#include <bit>
#include <cassert>

#include "storage/chunkenc/chunk.h"
#include "storage/chunkenc/histogram_chunk_format.h"

namespace tsvault::storage {

using chunk_coding::DoubleBits;
using chunk_coding::PutPacked;
using chunk_coding::PutUvarint;
using chunk_coding::PutXorBytes;
using chunk_coding::ZigZagEncode;
namespace {

namespace layout = histogram_format;

void PutVarint(std::string* out, int64_t value) { PutUvarint(out, ZigZagEncode(value)); }

// Difference of two unsigned counters, modulo 2^64, as a signed number.
int64_t WrappingDifference(uint64_t current, uint64_t previous) {
  return static_cast<int64_t>(current - previous);
}

void PutSpans(std::string* out, const std::vector<model::BucketSpan>& spans) {
  PutUvarint(out, spans.size());
  for (const model::BucketSpan& span : spans) {
    PutVarint(out, span.offset);
    PutUvarint(out, span.length);
  }
}

// Appends zig-zag `values` as a bucket block: a width byte, then the values
// bit-packed at that width. Without a delta reference the width is at least
// 1, which lets the decoder bound the bucket count by the input size.
void PutPackedBlock(std::string* out, const std::vector<uint64_t>& values, bool has_reference) {
  uint64_t all = 0;
  for (uint64_t v : values) all |= v;
  int width = 64 - std::countl_zero(all);
  if (!has_reference && width == 0) width = 1;
  out->push_back(static_cast<char>(width));
  PutPacked(out, values.data(), values.size(), width);
}

// Integer buckets: each delta minus the previous sample's delta at the same
// index when `previous` is given, else the delta itself.
void PutIntBuckets(std::string* out, const std::vector<int64_t>& deltas,
                   const std::vector<int64_t>* previous, std::vector<uint64_t>* scratch) {
  if (deltas.empty()) return;
  scratch->resize(deltas.size());
  for (size_t i = 0; i < deltas.size(); ++i) {
    const uint64_t reference = previous ? static_cast<uint64_t>((*previous)[i]) : 0;
    (*scratch)[i] = ZigZagEncode(WrappingDifference(static_cast<uint64_t>(deltas[i]), reference));
  }
  PutPackedBlock(out, *scratch, previous != nullptr);
}

// Float buckets: integer-valued counts (the usual case) as packed integer
// differences to the previous sample's counts (or to 0); anything else as
// "xor bytes" against the same reference.
void PutFloatBuckets(std::string* out, const std::vector<double>& counts,
                     const std::vector<double>* previous, std::vector<uint64_t>* scratch) {
  if (counts.empty()) return;
  scratch->resize(counts.size());
  bool integers = true;
  for (size_t i = 0; i < counts.size() && integers; ++i) {
    const double reference = previous ? (*previous)[i] : 0.0;
    integers = layout::IsExactInteger(counts[i]) && layout::IsExactInteger(reference);
    if (integers) {
      (*scratch)[i] = ZigZagEncode(static_cast<int64_t>(counts[i]) - static_cast<int64_t>(reference));
    }
  }
  if (integers) {
    PutPackedBlock(out, *scratch, previous != nullptr);
    return;
  }
  out->push_back(static_cast<char>(layout::kBucketsAsXorBytes));
  for (size_t i = 0; i < counts.size(); ++i) {
    PutXorBytes(out, DoubleBits(counts[i]), previous ? DoubleBits((*previous)[i]) : 0);
  }
}

// Vectors that are rare (the other kind's buckets, custom bucket bounds):
// plain zig-zag varints and "xor bytes" against 0.
void PutPlainInts(std::string* out, const std::vector<int64_t>& values) {
  for (int64_t v : values) PutVarint(out, v);
}
void PutPlainDoubles(std::string* out, const std::vector<double>& values) {
  for (double v : values) PutXorBytes(out, DoubleBits(v), 0);
}

// The bucket vector that holds this histogram kind's counts, and its
// previous-sample counterpart when usable as a delta reference.
template <typename T>
const std::vector<T>* Reference(bool same_spans, const std::vector<T>& current,
                                const std::vector<T>& previous) {
  return same_spans && previous.size() == current.size() ? &previous : nullptr;
}

}  // namespace

HistogramChunkAppender::HistogramChunkAppender() {
  bytes_.reserve(512);
  bytes_.push_back(static_cast<char>(ChunkEncoding::kHistogram));
  bytes_.push_back(0);
  bytes_.push_back(0);
}

void HistogramChunkAppender::Append(const model::Histogram& h) {
  assert(!full());
  if (full()) return;
  assert(num_samples_ == 0 || h.timestamp_ms > previous_.timestamp_ms);
  assert(static_cast<uint8_t>(h.reset_hint) <= 3);
  const model::Histogram& prev = previous_;

  uint8_t flags = static_cast<uint8_t>((static_cast<uint8_t>(h.reset_hint) & 3)
                                       << layout::kResetHintShift);
  if (h.is_float) flags |= layout::kFloat;
  const bool same_schema =
      h.schema == prev.schema && DoubleBits(h.zero_threshold) == DoubleBits(prev.zero_threshold);
  const bool same_positive = h.positive_spans == prev.positive_spans;
  const bool same_negative = h.negative_spans == prev.negative_spans;
  const bool same_custom = layout::SameBits(h.custom_values, prev.custom_values);
  if (same_schema) flags |= layout::kSameSchema;
  if (same_positive) flags |= layout::kSamePositiveSpans;
  if (same_negative) flags |= layout::kSameNegativeSpans;
  if (same_custom) flags |= layout::kSameCustomValues;

  const size_t positive_size = h.is_float ? h.positive_counts.size() : h.positive_deltas.size();
  const size_t negative_size = h.is_float ? h.negative_counts.size() : h.negative_deltas.size();
  uint8_t extended = 0;
  if (positive_size != layout::SpanBucketCount(h.positive_spans)) extended |= layout::kPositiveLength;
  if (negative_size != layout::SpanBucketCount(h.negative_spans)) extended |= layout::kNegativeLength;
  if (h.is_float ? (h.count_int != 0 || h.zero_count_int != 0)
                 : (DoubleBits(h.count_float) != 0 || DoubleBits(h.zero_count_float) != 0)) {
    extended |= layout::kOtherScalars;
  }
  if (h.is_float ? (!h.positive_deltas.empty() || !h.negative_deltas.empty())
                 : (!h.positive_counts.empty() || !h.negative_counts.empty())) {
    extended |= layout::kOtherBuckets;
  }
  if (extended != 0) flags |= layout::kExtended;

  std::string* out = &bytes_;
  out->push_back(static_cast<char>(flags));
  if (extended != 0) out->push_back(static_cast<char>(extended));

  // Timestamp: delta of deltas, modulo 2^64 (the first sample's reference
  // timestamp and delta are both 0).
  const uint64_t delta =
      static_cast<uint64_t>(h.timestamp_ms) - static_cast<uint64_t>(prev.timestamp_ms);
  PutVarint(out, static_cast<int64_t>(delta - previous_delta_));
  previous_delta_ = delta;

  if (!same_schema) {
    PutVarint(out, h.schema);
    PutXorBytes(out, DoubleBits(h.zero_threshold), DoubleBits(prev.zero_threshold));
  }
  if (h.is_float) {
    PutXorBytes(out, DoubleBits(h.count_float), DoubleBits(prev.count_float));
    PutXorBytes(out, DoubleBits(h.zero_count_float), DoubleBits(prev.zero_count_float));
  } else {
    PutVarint(out, WrappingDifference(h.count_int, prev.count_int));
    PutVarint(out, WrappingDifference(h.zero_count_int, prev.zero_count_int));
  }
  PutXorBytes(out, DoubleBits(h.sum), DoubleBits(prev.sum));
  if (!same_positive) PutSpans(out, h.positive_spans);
  if (!same_negative) PutSpans(out, h.negative_spans);

  if (extended & layout::kPositiveLength) PutUvarint(out, positive_size);
  if (h.is_float) {
    PutFloatBuckets(out, h.positive_counts,
                    Reference(same_positive, h.positive_counts, prev.positive_counts), &scratch_);
  } else {
    PutIntBuckets(out, h.positive_deltas,
                  Reference(same_positive, h.positive_deltas, prev.positive_deltas), &scratch_);
  }
  if (extended & layout::kNegativeLength) PutUvarint(out, negative_size);
  if (h.is_float) {
    PutFloatBuckets(out, h.negative_counts,
                    Reference(same_negative, h.negative_counts, prev.negative_counts), &scratch_);
  } else {
    PutIntBuckets(out, h.negative_deltas,
                  Reference(same_negative, h.negative_deltas, prev.negative_deltas), &scratch_);
  }

  if (!same_custom) {
    PutUvarint(out, h.custom_values.size());
    PutPlainDoubles(out, h.custom_values);
  }

  // Fields of the other histogram kind, normally zero/empty.
  if (extended & layout::kOtherScalars) {
    if (h.is_float) {
      PutUvarint(out, h.count_int);
      PutUvarint(out, h.zero_count_int);
    } else {
      PutXorBytes(out, DoubleBits(h.count_float), 0);
      PutXorBytes(out, DoubleBits(h.zero_count_float), 0);
    }
  }
  if (extended & layout::kOtherBuckets) {
    if (h.is_float) {
      PutUvarint(out, h.positive_deltas.size());
      PutPlainInts(out, h.positive_deltas);
      PutUvarint(out, h.negative_deltas.size());
      PutPlainInts(out, h.negative_deltas);
    } else {
      PutUvarint(out, h.positive_counts.size());
      PutPlainDoubles(out, h.positive_counts);
      PutUvarint(out, h.negative_counts.size());
      PutPlainDoubles(out, h.negative_counts);
    }
  }

  if (num_samples_ == 0) min_time_ = h.timestamp_ms;
  previous_ = h;  // reuses the vectors' capacity in steady state
  ++num_samples_;
  bytes_[1] = static_cast<char>(num_samples_ >> 8);
  bytes_[2] = static_cast<char>(num_samples_ & 0xff);
}

}  // namespace tsvault::storage
