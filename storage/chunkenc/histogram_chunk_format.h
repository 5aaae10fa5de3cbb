// Constants and helpers shared by the histogram chunk encoder and decoder
// (ChunkEncoding::kHistogram). Internal to storage/; the byte layout is
// specified in docs/chunk-format.md and must never change.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "model/value.h"

namespace tsvault::storage::histogram_format {

// First flags byte of every sample.
inline constexpr uint8_t kFloat = 0x01;             // float histogram
inline constexpr int kResetHintShift = 1;           // bits 1..2: ResetHint
inline constexpr uint8_t kResetHintMask = 0x06;
inline constexpr uint8_t kSameSchema = 0x08;        // schema + zero_threshold as before
inline constexpr uint8_t kSamePositiveSpans = 0x10;
inline constexpr uint8_t kSameNegativeSpans = 0x20;
inline constexpr uint8_t kSameCustomValues = 0x40;
inline constexpr uint8_t kExtended = 0x80;          // an extended flags byte follows

// Extended flags byte (present only with kExtended; never zero when present).
inline constexpr uint8_t kPositiveLength = 0x01;    // explicit positive bucket count
inline constexpr uint8_t kNegativeLength = 0x02;    // explicit negative bucket count
inline constexpr uint8_t kOtherScalars = 0x04;      // the other kind's count/zero count
inline constexpr uint8_t kOtherBuckets = 0x08;      // the other kind's bucket vectors
inline constexpr uint8_t kExtendedReserved = 0xf0;  // must be zero

// First byte of a non-empty primary bucket vector: 0..64 is the bit width of
// the packed zig-zag integers that follow; this value selects "xor bytes"
// floats (float histograms only).
inline constexpr uint8_t kBucketsAsXorBytes = 0xff;

// True for doubles that are integers of magnitude <= 2^53 other than -0.0:
// converting them to int64_t and back is exact, bit for bit.
inline bool IsExactInteger(double x) {
  constexpr double kLimit = 9007199254740992.0;  // 2^53
  if (!(x >= -kLimit && x <= kLimit)) return false;  // also rejects NaN
  const int64_t i = static_cast<int64_t>(x);
  return static_cast<double>(i) == x && !(i == 0 && std::signbit(x));
}

// Sum of the span lengths: the number of buckets the spans describe.
inline uint64_t SpanBucketCount(const std::vector<model::BucketSpan>& spans) {
  uint64_t total = 0;
  for (const model::BucketSpan& span : spans) total += span.length;
  return total;
}

// True when both vectors hold the same doubles bit for bit (unlike ==, which
// treats -0.0 == 0.0 and NaN != NaN).
inline bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace tsvault::storage::histogram_format
