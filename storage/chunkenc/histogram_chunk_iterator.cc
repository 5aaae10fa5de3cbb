// The histogram half of ChunkIterator: decodes ChunkEncoding::kHistogram
// records written by HistogramChunkAppender. Every count read from the input
// is checked against the bytes that remain before anything is allocated.
#include <limits>
#include <utility>

#include "storage/chunkenc/chunk.h"
#include "storage/chunkenc/histogram_chunk_format.h"

namespace tsvault::storage {

using chunk_coding::BitsToDouble;
using chunk_coding::ByteReader;
using chunk_coding::DoubleBits;
using chunk_coding::GetPacked;
using chunk_coding::ZigZagDecode;
namespace {

namespace layout = histogram_format;

bool GetInt32(ByteReader* reader, int32_t* out) {
  int64_t value;
  if (!reader->GetVarint(&value)) return false;
  if (value < std::numeric_limits<int32_t>::min() ||
      value > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  *out = static_cast<int32_t>(value);
  return true;
}

bool GetDouble(ByteReader* reader, double reference, double* out) {
  uint64_t bits;
  if (!reader->GetXorBytes(DoubleBits(reference), &bits)) return false;
  *out = BitsToDouble(bits);
  return true;
}

// A counter stored as the signed difference to `previous`, modulo 2^64.
bool GetCounter(ByteReader* reader, uint64_t previous, uint64_t* out) {
  int64_t difference;
  if (!reader->GetVarint(&difference)) return false;
  *out = previous + static_cast<uint64_t>(difference);
  return true;
}

bool GetSpans(ByteReader* reader, std::vector<model::BucketSpan>* spans) {
  uint64_t count;
  if (!reader->GetUvarint(&count)) return false;
  if (count > reader->remaining() / 2) return false;  // a span takes >= 2 bytes
  spans->resize(count);
  for (model::BucketSpan& span : *spans) {
    uint64_t length;
    if (!GetInt32(reader, &span.offset) || !reader->GetUvarint(&length)) return false;
    if (length > std::numeric_limits<uint32_t>::max()) return false;
    span.length = static_cast<uint32_t>(length);
  }
  return true;
}

// Checks the width byte of a packed bucket block for `count` values.
// Without a reference the width is at least 1, so `count` is bounded by 8x
// the remaining input; with one, `count` equals the previous sample's
// (already decoded) vector size.
bool CheckPackedWidth(const ByteReader& reader, uint64_t count, int width, bool has_reference) {
  if (width > 64 || (width == 0 && !has_reference)) return false;
  return width == 0 || count <= reader.remaining() * 8 / width;
}

// Runs GetPacked on the block at the reader's position and consumes it.
template <typename Sink>
bool ReadPacked(ByteReader* reader, uint64_t count, int width, Sink&& sink) {
  return GetPacked(reader->rest(), count, width, sink) &&
         reader->Skip((count * width + 7) / 8);
}

// Reads `count` integer buckets; `previous` (same size) is the delta
// reference or null.
bool GetIntBuckets(ByteReader* reader, uint64_t count, const std::vector<int64_t>* previous,
                   std::vector<int64_t>* out) {
  if (count == 0) {
    out->clear();
    return true;
  }
  uint8_t width;
  if (!reader->GetByte(&width) || !CheckPackedWidth(*reader, count, width, previous != nullptr)) {
    return false;
  }
  out->resize(count);
  int64_t* values = out->data();
  auto store = [&](size_t i, uint64_t zigzag) {
    const uint64_t reference = previous ? static_cast<uint64_t>((*previous)[i]) : 0;
    values[i] = static_cast<int64_t>(reference + static_cast<uint64_t>(ZigZagDecode(zigzag)));
  };
  if (width == 0) {
    for (size_t i = 0; i < count; ++i) store(i, 0);
    return true;
  }
  return ReadPacked(reader, count, width, store);
}

// Reads `count` float buckets: packed integer differences to `previous`
// (same size, or 0 when null), or "xor bytes" against the same reference.
bool GetFloatBuckets(ByteReader* reader, uint64_t count, const std::vector<double>* previous,
                     std::vector<double>* out) {
  if (count == 0) {
    out->clear();
    return true;
  }
  uint8_t mode;
  if (!reader->GetByte(&mode)) return false;
  if (mode == layout::kBucketsAsXorBytes) {
    if (count > reader->remaining()) return false;  // a value takes >= 1 byte
    out->resize(count);
    for (size_t i = 0; i < count; ++i) {
      if (!GetDouble(reader, previous ? (*previous)[i] : 0.0, &(*out)[i])) return false;
    }
    return true;
  }
  if (!CheckPackedWidth(*reader, count, mode, previous != nullptr)) return false;
  out->resize(count);
  double* values = out->data();
  bool valid = true;
  auto store = [&](size_t i, uint64_t zigzag) {
    const double reference = previous ? (*previous)[i] : 0.0;
    if (!layout::IsExactInteger(reference)) {
      valid = false;  // the encoder never packs against a non-integer
      return;
    }
    const int64_t value =
        static_cast<int64_t>(static_cast<uint64_t>(static_cast<int64_t>(reference)) +
                             static_cast<uint64_t>(ZigZagDecode(zigzag)));
    constexpr int64_t kLimit = int64_t{1} << 53;
    if (value < -kLimit || value > kLimit) valid = false;
    values[i] = static_cast<double>(value);
  };
  if (mode == 0) {
    for (size_t i = 0; i < count; ++i) store(i, 0);
  } else if (!ReadPacked(reader, count, mode, store)) {
    return false;
  }
  return valid;
}

// Rare vectors (the other kind's buckets, custom bucket bounds): `count`
// plain zig-zag varints or "xor bytes" against 0.
bool GetPlainInts(ByteReader* reader, uint64_t count, std::vector<int64_t>* out) {
  if (count > reader->remaining()) return false;  // a value takes >= 1 byte
  out->resize(count);
  for (int64_t& v : *out) {
    if (!reader->GetVarint(&v)) return false;
  }
  return true;
}
bool GetPlainDoubles(ByteReader* reader, uint64_t count, std::vector<double>* out) {
  if (count > reader->remaining()) return false;  // a value takes >= 1 byte
  out->resize(count);
  for (double& v : *out) {
    if (!GetDouble(reader, 0.0, &v)) return false;
  }
  return true;
}

// Bucket count: explicit when `explicit_length`, else the spans' total.
bool GetBucketCount(ByteReader* reader, bool explicit_length,
                    const std::vector<model::BucketSpan>& spans, uint64_t* count) {
  if (explicit_length) return reader->GetUvarint(count);
  *count = layout::SpanBucketCount(spans);
  return true;
}

template <typename T>
const std::vector<T>* Reference(bool same_spans, uint64_t count, const std::vector<T>& previous) {
  return same_spans && previous.size() == count ? &previous : nullptr;
}

}  // namespace

bool ChunkIterator::NextHistogram() {
  if (decoded_ == total_) {
    done_ = true;
    if (bytes_.remaining() != 0) return Fail("histogram chunk: data after the last sample");
    return false;
  }
  std::swap(current_, previous_);  // previous_ is now the last decoded sample

  uint8_t flags;
  if (!bytes_.GetByte(&flags)) return Fail("histogram chunk: truncated sample");
  uint8_t extended = 0;
  if (flags & layout::kExtended) {
    if (!bytes_.GetByte(&extended)) return Fail("histogram chunk: truncated sample");
    if (extended == 0 || (extended & layout::kExtendedReserved) != 0) {
      return Fail("histogram chunk: bad extended flags");
    }
  }
  if (!DecodeHistogramBody(flags, extended)) return Fail("histogram chunk: malformed sample");
  ++decoded_;
  return true;
}

bool ChunkIterator::DecodeHistogramBody(uint8_t flags, uint8_t extended) {
  ByteReader* in = &bytes_;
  const model::Histogram& prev = previous_;
  model::Histogram& h = current_;

  int64_t dod;
  if (!in->GetVarint(&dod)) return false;
  previous_delta_ += static_cast<uint64_t>(dod);
  timestamp_ = static_cast<int64_t>(static_cast<uint64_t>(timestamp_) + previous_delta_);
  h.timestamp_ms = timestamp_;
  h.is_float = (flags & layout::kFloat) != 0;
  h.reset_hint = static_cast<model::ResetHint>((flags & layout::kResetHintMask) >> layout::kResetHintShift);

  if (flags & layout::kSameSchema) {
    h.schema = prev.schema;
    h.zero_threshold = prev.zero_threshold;
  } else if (!GetInt32(in, &h.schema) || !GetDouble(in, prev.zero_threshold, &h.zero_threshold)) {
    return false;
  }

  if (h.is_float) {
    if (!GetDouble(in, prev.count_float, &h.count_float) ||
        !GetDouble(in, prev.zero_count_float, &h.zero_count_float)) {
      return false;
    }
  } else if (!GetCounter(in, prev.count_int, &h.count_int) ||
             !GetCounter(in, prev.zero_count_int, &h.zero_count_int)) {
    return false;
  }
  if (!GetDouble(in, prev.sum, &h.sum)) return false;

  const bool same_positive = (flags & layout::kSamePositiveSpans) != 0;
  const bool same_negative = (flags & layout::kSameNegativeSpans) != 0;
  if (same_positive) {
    h.positive_spans = prev.positive_spans;
  } else if (!GetSpans(in, &h.positive_spans)) {
    return false;
  }
  if (same_negative) {
    h.negative_spans = prev.negative_spans;
  } else if (!GetSpans(in, &h.negative_spans)) {
    return false;
  }

  uint64_t positive_count;
  if (!GetBucketCount(in, extended & layout::kPositiveLength, h.positive_spans, &positive_count)) {
    return false;
  }
  if (h.is_float) {
    if (!GetFloatBuckets(in, positive_count,
                         Reference(same_positive, positive_count, prev.positive_counts),
                         &h.positive_counts)) {
      return false;
    }
  } else if (!GetIntBuckets(in, positive_count,
                            Reference(same_positive, positive_count, prev.positive_deltas),
                            &h.positive_deltas)) {
    return false;
  }
  uint64_t negative_count;
  if (!GetBucketCount(in, extended & layout::kNegativeLength, h.negative_spans, &negative_count)) {
    return false;
  }
  if (h.is_float) {
    if (!GetFloatBuckets(in, negative_count,
                         Reference(same_negative, negative_count, prev.negative_counts),
                         &h.negative_counts)) {
      return false;
    }
  } else if (!GetIntBuckets(in, negative_count,
                            Reference(same_negative, negative_count, prev.negative_deltas),
                            &h.negative_deltas)) {
    return false;
  }

  if (flags & layout::kSameCustomValues) {
    h.custom_values = prev.custom_values;
  } else {
    uint64_t count;
    if (!in->GetUvarint(&count) || !GetPlainDoubles(in, count, &h.custom_values)) {
      return false;
    }
  }

  // Fields of the other histogram kind: zero/empty unless flagged.
  if (extended & layout::kOtherScalars) {
    if (h.is_float) {
      if (!in->GetUvarint(&h.count_int) || !in->GetUvarint(&h.zero_count_int)) return false;
    } else if (!GetDouble(in, 0.0, &h.count_float) || !GetDouble(in, 0.0, &h.zero_count_float)) {
      return false;
    }
  } else if (h.is_float) {
    h.count_int = 0;
    h.zero_count_int = 0;
  } else {
    h.count_float = 0;
    h.zero_count_float = 0;
  }
  if (extended & layout::kOtherBuckets) {
    uint64_t count;
    if (h.is_float) {
      if (!in->GetUvarint(&count) || !GetPlainInts(in, count, &h.positive_deltas) ||
          !in->GetUvarint(&count) || !GetPlainInts(in, count, &h.negative_deltas)) {
        return false;
      }
    } else if (!in->GetUvarint(&count) || !GetPlainDoubles(in, count, &h.positive_counts) ||
               !in->GetUvarint(&count) || !GetPlainDoubles(in, count, &h.negative_counts)) {
      return false;
    }
  } else if (h.is_float) {
    h.positive_deltas.clear();
    h.negative_deltas.clear();
  } else {
    h.positive_counts.clear();
    h.negative_counts.clear();
  }
  return true;
}

}  // namespace tsvault::storage
