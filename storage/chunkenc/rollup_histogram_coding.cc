#include "storage/chunkenc/rollup_histogram_coding.h"

#include <algorithm>
#include <cmath>

namespace tsvault::storage::rollup_coding {

namespace {

using chunk_coding::ByteReader;
using chunk_coding::DoubleBits;
using chunk_coding::PutUvarint;
using chunk_coding::PutXorBytes;

// h_flags bits.
constexpr uint8_t kHasResets = 0x01;      // resets and the compensation follow
constexpr uint8_t kMinSchemaBelow = 0x02; // min_schema is below min(first, last schema) and follows
constexpr uint8_t kIrregularZero = 0x04;
constexpr uint8_t kReservedFlags = 0xf8;

// Bucket indices ToFloatHistogram accepts.
constexpr int64_t kMaxBucketIndex = INT32_MAX / 2;
constexpr int64_t kMinBucketIndex = INT32_MIN / 2;

void PutVarint(std::string* out, int64_t value) { PutUvarint(out, chunk_coding::ZigZagEncode(value)); }

// Histogram header bits (besides the reset hint in bits 0-1).
constexpr uint8_t kHintMask = 0x03;
constexpr uint8_t kIntegerCounts = 0x04;
constexpr uint8_t kReservedHeader = 0xf8;

constexpr double kMaxIntegerCount = 9007199254740992.0;  // 2^53

// A count stored as an integer: whole, in [0, 2^53], not -0.0.
bool IsIntegerCount(double v) {
  return v >= 0 && v <= kMaxIntegerCount && v == static_cast<double>(static_cast<int64_t>(v)) &&
         !std::signbit(v);
}

bool AllIntegerCounts(const model::FloatHistogram& h) {
  auto integer = [](const std::vector<model::HistogramBucket>& buckets) {
    return std::all_of(buckets.begin(), buckets.end(), [](const model::HistogramBucket& b) { return IsIntegerCount(b.count); });
  };
  return IsIntegerCount(h.zero_count) && IsIntegerCount(h.count) && integer(h.positive) && integer(h.negative);
}

// The reference for a count: the reference histogram's value, as an
// integer when it is one (integer counts) or as bits (float counts).
double ReferenceCount(double reference, bool integer) {
  if (!integer) return reference;
  return IsIntegerCount(reference) ? reference : 0;
}

void PutCount(double count, double reference, bool integer, std::string* out) {
  if (integer) {
    PutVarint(out, static_cast<int64_t>(count) - static_cast<int64_t>(ReferenceCount(reference, true)));
  } else {
    PutXorBytes(out, DoubleBits(count), DoubleBits(reference));
  }
}

bool GetCount(ByteReader* reader, double reference, bool integer, double* count) {
  if (!integer) {
    uint64_t bits;
    if (!reader->GetXorBytes(DoubleBits(reference), &bits)) return false;
    *count = chunk_coding::BitsToDouble(bits);
    return true;
  }
  int64_t delta;
  if (!reader->GetVarint(&delta)) return false;
  const int64_t base = static_cast<int64_t>(ReferenceCount(reference, true));
  constexpr int64_t kMax = int64_t{1} << 53;
  if (delta < -base || delta > kMax - base) return false;  // outside [0, 2^53]
  *count = static_cast<double>(base + delta);
  return true;
}

// Walks `reference` (sorted by index) alongside increasing indices.
class ReferenceBuckets {
 public:
  explicit ReferenceBuckets(const std::vector<model::HistogramBucket>* buckets) : buckets_(buckets) {}
  double At(int32_t index) {
    if (buckets_ == nullptr) return 0;
    while (next_ < buckets_->size() && (*buckets_)[next_].index < index) ++next_;
    return next_ < buckets_->size() && (*buckets_)[next_].index == index ? (*buckets_)[next_].count : 0;
  }

 private:
  const std::vector<model::HistogramBucket>* buckets_;
  size_t next_ = 0;
};

void PutBuckets(const std::vector<model::HistogramBucket>& buckets, const std::vector<model::HistogramBucket>* reference,
                bool integer, std::string* out) {
  PutUvarint(out, buckets.size());
  ReferenceBuckets references(reference);
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (i == 0) {
      PutVarint(out, buckets[i].index);
    } else {
      PutUvarint(out, static_cast<uint64_t>(static_cast<int64_t>(buckets[i].index) - buckets[i - 1].index - 1));
    }
    PutCount(buckets[i].count, references.At(buckets[i].index), integer, out);
  }
}

// Most buckets per side, as ToFloatHistogram accepts.
constexpr uint64_t kMaxBuckets = uint64_t{1} << 20;

// What the decoder accepts of a histogram, checked by the encoder too.
std::string CheckHistogram(const model::FloatHistogram& h) {
  if (h.schema < model::kMinHistogramSchema || h.schema > model::kMaxHistogramSchema) return "schema out of range";
  if (!std::isfinite(h.zero_threshold) || h.zero_threshold < 0) return "bad zero threshold";
  for (const auto* buckets : {&h.positive, &h.negative}) {
    if (buckets->size() > kMaxBuckets) return "too many buckets";
    for (size_t i = 0; i < buckets->size(); ++i) {
      const int32_t index = (*buckets)[i].index;
      if (index < kMinBucketIndex || index > kMaxBucketIndex) return "bucket index out of range";
      if (i > 0 && index <= (*buckets)[i - 1].index) return "bucket indices not increasing";
    }
  }
  return "";
}

// A float histogram (docs/chunk-format.md, "Histogram rollup chunk"), its
// fields and counts relative to `reference`'s when there is one.
// REQUIRES: CheckHistogram(h) is "".
void PutHistogram(const model::FloatHistogram& h, const model::FloatHistogram* reference, std::string* out) {
  const model::FloatHistogram none;
  const model::FloatHistogram& r = reference ? *reference : none;
  const bool integer = AllIntegerCounts(h);
  PutVarint(out, h.schema);
  out->push_back(static_cast<char>(static_cast<uint8_t>(h.reset_hint) | (integer ? kIntegerCounts : 0)));
  PutXorBytes(out, DoubleBits(h.zero_threshold), DoubleBits(r.zero_threshold));
  PutXorBytes(out, DoubleBits(h.sum), DoubleBits(r.sum));
  PutCount(h.zero_count, r.zero_count, integer, out);
  PutCount(h.count, r.count, integer, out);
  PutBuckets(h.positive, reference ? &r.positive : nullptr, integer, out);
  PutBuckets(h.negative, reference ? &r.negative : nullptr, integer, out);
}

std::string GetBuckets(ByteReader* reader, const std::vector<model::HistogramBucket>* reference, bool integer,
                       std::vector<model::HistogramBucket>* buckets) {
  uint64_t size;
  if (!reader->GetUvarint(&size)) return "truncated bucket count";
  // Every bucket takes at least two bytes.
  if (size > reader->remaining() / 2 || size > kMaxBuckets) return "bucket count beyond the chunk";
  buckets->resize(size);
  ReferenceBuckets references(reference);
  int64_t index = 0;
  for (uint64_t i = 0; i < size; ++i) {
    if (i == 0) {
      if (!reader->GetVarint(&index)) return "truncated bucket index";
    } else {
      uint64_t gap;
      if (!reader->GetUvarint(&gap)) return "truncated bucket index";
      if (gap > static_cast<uint64_t>(kMaxBucketIndex - kMinBucketIndex)) return "bucket index out of range";
      index += static_cast<int64_t>(gap) + 1;
    }
    if (index < kMinBucketIndex || index > kMaxBucketIndex) return "bucket index out of range";
    double count;
    if (!GetCount(reader, references.At(static_cast<int32_t>(index)), integer, &count)) return "bad bucket count";
    (*buckets)[i] = {static_cast<int32_t>(index), count};
  }
  return "";
}

std::string GetHistogram(ByteReader* reader, const model::FloatHistogram* reference,
                         std::shared_ptr<const model::FloatHistogram>* out) {
  const model::FloatHistogram none;
  const model::FloatHistogram& r = reference ? *reference : none;
  auto h = std::make_shared<model::FloatHistogram>();
  int64_t schema;
  uint8_t header;
  if (!reader->GetVarint(&schema) || !reader->GetByte(&header)) return "truncated histogram";
  if (schema < model::kMinHistogramSchema || schema > model::kMaxHistogramSchema) return "schema out of range";
  if (header & kReservedHeader) return "reserved histogram header bits set";
  const bool integer = header & kIntegerCounts;
  h->schema = static_cast<int32_t>(schema);
  h->reset_hint = static_cast<model::CounterResetHint>(header & kHintMask);
  uint64_t bits;
  if (!reader->GetXorBytes(DoubleBits(r.zero_threshold), &bits)) return "truncated histogram";
  h->zero_threshold = chunk_coding::BitsToDouble(bits);
  if (!reader->GetXorBytes(DoubleBits(r.sum), &bits)) return "truncated histogram";
  h->sum = chunk_coding::BitsToDouble(bits);
  if (!GetCount(reader, r.zero_count, integer, &h->zero_count) || !GetCount(reader, r.count, integer, &h->count)) {
    return "bad histogram count";
  }
  if (!std::isfinite(h->zero_threshold) || h->zero_threshold < 0) return "bad zero threshold";
  std::string error = GetBuckets(reader, reference ? &r.positive : nullptr, integer, &h->positive);
  if (error.empty()) error = GetBuckets(reader, reference ? &r.negative : nullptr, integer, &h->negative);
  if (!error.empty()) return error;
  // The encoder uses integer counts whenever every count is one.
  if (!integer && AllIntegerCounts(*h)) return "integer counts stored as floats";
  *out = std::move(h);
  return "";
}

}  // namespace

std::string PutHistogramWindow(const model::HistogramWindow* window, const model::FloatHistogram* previous_last,
                               int64_t end_ms, int64_t resolution_ms, std::string* out) {
  if (window == nullptr) {
    PutUvarint(out, 0);
    return "";
  }
  const model::HistogramWindow& w = *window;
  const int64_t start = end_ms - resolution_ms;  // exclusive
  if (w.count == 0 || !w.first || !w.last) return "a histogram window without histograms";
  if (w.first_t <= start || w.first_t > end_ms || w.last_t < w.first_t || w.last_t > end_ms ||
      (w.count == 1) != (w.first_t == w.last_t)) {
    return "histogram times outside the window";
  }
  if ((w.resets == 0) != !w.reset_compensation || w.resets >= w.count) {
    return "resets and their compensation disagree";
  }
  if (w.count > static_cast<uint64_t>(w.last_t - w.first_t) + 1) return "more histograms than milliseconds";
  for (const auto* h : {w.first.get(), w.last.get(), w.reset_compensation.get()}) {
    if (h == nullptr) continue;
    const std::string error = CheckHistogram(*h);
    if (!error.empty()) return error;
  }
  const int32_t schema_floor = std::min(w.first->schema, w.last->schema);
  if (w.min_schema > schema_floor || w.min_schema < model::kMinHistogramSchema ||
      (w.min_schema < schema_floor && w.count <= 2)) {
    return "bad minimum schema";
  }
  uint8_t flags = (w.resets > 0 ? kHasResets : 0) | (w.min_schema < schema_floor ? kMinSchemaBelow : 0) |
                  (w.irregular_zero ? kIrregularZero : 0);
  PutUvarint(out, w.count);
  out->push_back(static_cast<char>(flags));
  PutUvarint(out, static_cast<uint64_t>(w.first_t - start - 1));
  PutHistogram(*w.first, previous_last, out);
  if (w.count > 1) {
    PutUvarint(out, static_cast<uint64_t>(end_ms - w.last_t));
    PutHistogram(*w.last, w.first.get(), out);
  }
  if (flags & kMinSchemaBelow) PutVarint(out, w.min_schema);
  if (flags & kHasResets) {
    PutUvarint(out, w.resets);
    PutHistogram(*w.reset_compensation, nullptr, out);
  }
  return "";
}

std::string GetHistogramWindow(ByteReader* reader, const model::FloatHistogram* previous_last, int64_t end_ms,
                               int64_t resolution_ms, std::shared_ptr<const model::HistogramWindow>* window) {
  window->reset();
  uint64_t count;
  if (!reader->GetUvarint(&count)) return "truncated histogram count";
  if (count == 0) return "";  // unknown
  if (count > UINT32_MAX) return "histogram count out of range";
  auto w = std::make_shared<model::HistogramWindow>();
  w->count = static_cast<uint32_t>(count);
  uint8_t flags;
  uint64_t offset;
  if (!reader->GetByte(&flags)) return "truncated histogram flags";
  if (flags & kReservedFlags) return "reserved histogram flag bits set";
  const int64_t start = end_ms - resolution_ms;
  if (!reader->GetUvarint(&offset) || offset >= static_cast<uint64_t>(resolution_ms)) return "bad first histogram time";
  w->first_t = w->last_t = start + 1 + static_cast<int64_t>(offset);
  std::string error = GetHistogram(reader, previous_last, &w->first);
  if (!error.empty()) return error;
  w->last = w->first;
  if (w->count > 1) {
    if (!reader->GetUvarint(&offset) || offset >= static_cast<uint64_t>(resolution_ms)) {
      return "bad last histogram time";
    }
    w->last_t = end_ms - static_cast<int64_t>(offset);
    if (w->last_t <= w->first_t) return "last histogram not after the first";
    if (w->count > static_cast<uint64_t>(w->last_t - w->first_t) + 1) return "more histograms than milliseconds";
    error = GetHistogram(reader, w->first.get(), &w->last);
    if (!error.empty()) return error;
  }
  const int32_t schema_floor = std::min(w->first->schema, w->last->schema);
  w->min_schema = schema_floor;
  if (flags & kMinSchemaBelow) {
    int64_t min_schema;
    if (!reader->GetVarint(&min_schema)) return "truncated minimum schema";
    if (w->count <= 2 || min_schema < model::kMinHistogramSchema || min_schema >= schema_floor) {
      return "bad minimum schema";
    }
    w->min_schema = static_cast<int32_t>(min_schema);
  }
  if (flags & kHasResets) {
    uint64_t resets;
    if (!reader->GetUvarint(&resets)) return "truncated histogram resets";
    if (resets == 0 || resets >= w->count) return "more histogram resets than sample pairs";
    w->resets = static_cast<uint32_t>(resets);
    error = GetHistogram(reader, nullptr, &w->reset_compensation);
    if (!error.empty()) return error;
  }
  w->irregular_zero = flags & kIrregularZero;
  *window = std::move(w);
  return "";
}

}  // namespace tsvault::storage::rollup_coding
