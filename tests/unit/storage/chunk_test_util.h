// Helpers shared by the chunk tests: bit-exact comparisons, generators of
// realistic and of arbitrary float and histogram series, and random damage
// to encoded chunks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "storage/chunkenc/chunk.h"
#include "tests/support/sample_series.h"

namespace tsvault::storage::chunk_test {

// The raw bits of a double, and back.
inline uint64_t Bits(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return bits;
}

inline double FromBits(uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

// The raw bits of every element.
inline std::vector<uint64_t> AllBits(const std::vector<double>& values) {
  std::vector<uint64_t> out;
  for (double v : values) out.push_back(Bits(v));
  return out;
}

// One chunk holding `samples` / `histograms`.
inline std::string Encode(const std::vector<Sample>& samples) {
  XorChunkAppender appender;
  for (const Sample& s : samples) appender.Append(s.timestamp_ms, s.value);
  return appender.bytes();
}

inline std::string Encode(const std::vector<Histogram>& histograms) {
  HistogramChunkAppender appender;
  for (const Histogram& h : histograms) appender.Append(h);
  EXPECT_EQ(appender.num_samples(), histograms.size());
  return appender.bytes();
}

// A counter scraped every 15 s with a few ms of jitter.
inline std::vector<Sample> CounterSeries(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> jitter(-5, 5);
  std::uniform_int_distribution<int> increase(0, 40);
  std::vector<Sample> samples;
  int64_t t = 1700000000000;
  double v = 12345;
  for (size_t i = 0; i < n; ++i) {
    samples.push_back({t + jitter(rng), v});
    t += 15000;
    v += increase(rng);
  }
  return samples;
}

// Field-by-field, bit-exact comparison (operator== treats NaN != NaN and
// -0.0 == 0.0, which is not what "lossless" means).
inline void ExpectIdentical(const Histogram& want, const Histogram& got, size_t index) {
  SCOPED_TRACE("histogram " + std::to_string(index));
  EXPECT_EQ(got.timestamp_ms, want.timestamp_ms);
  EXPECT_EQ(got.is_float, want.is_float);
  EXPECT_EQ(got.count_int, want.count_int);
  EXPECT_EQ(Bits(got.count_float), Bits(want.count_float));
  EXPECT_EQ(Bits(got.sum), Bits(want.sum));
  EXPECT_EQ(got.schema, want.schema);
  EXPECT_EQ(Bits(got.zero_threshold), Bits(want.zero_threshold));
  EXPECT_EQ(got.zero_count_int, want.zero_count_int);
  EXPECT_EQ(Bits(got.zero_count_float), Bits(want.zero_count_float));
  EXPECT_EQ(got.negative_spans, want.negative_spans);
  EXPECT_EQ(got.negative_deltas, want.negative_deltas);
  EXPECT_EQ(AllBits(got.negative_counts), AllBits(want.negative_counts));
  EXPECT_EQ(got.positive_spans, want.positive_spans);
  EXPECT_EQ(got.positive_deltas, want.positive_deltas);
  EXPECT_EQ(AllBits(got.positive_counts), AllBits(want.positive_counts));
  EXPECT_EQ(got.reset_hint, want.reset_hint);
  EXPECT_EQ(AllBits(got.custom_values), AllBits(want.custom_values));
}

// A classic counter histogram (schema 3, two positive spans, one negative
// span) observed every 15 s; integer or float.
inline std::vector<Histogram> CounterHistograms(size_t n, bool is_float, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> positive(7, 0), negative(3, 0);
  uint64_t zero_count = 0;
  double sum = 0;
  std::vector<Histogram> out;
  for (size_t i = 0; i < n; ++i) {
    Histogram h;
    h.timestamp_ms = 1700000000000 + static_cast<int64_t>(i) * 15000 + static_cast<int>(rng() % 5);
    h.is_float = is_float;
    h.schema = 3;
    h.zero_threshold = 1e-128;
    h.reset_hint = i == 0 ? ResetHint::kUnknown : ResetHint::kNo;
    h.positive_spans = {{-2, 4}, {3, 3}};
    h.negative_spans = {{1, 3}};
    for (auto& b : positive) b += rng() % 6;
    for (auto& b : negative) b += rng() % 2;
    zero_count += rng() % 3;
    sum += static_cast<double>(rng() % 10000) / 100;
    h.sum = sum;
    testing::SetHistogramBucketCounts(positive, negative, zero_count, &h);
    out.push_back(h);
  }
  return out;
}

// Anything a Histogram can hold, including combinations a well-formed
// remote-write request would never carry.
inline Histogram RandomHistogram(std::mt19937_64& rng, int64_t timestamp) {
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  auto random_double = [&]() -> double {
    switch (rng() % 6) {
      case 0: return FromBits(rng());
      case 1: return static_cast<double>(rng() % 1000);
      case 2: return static_cast<double>(rng() % 100000) / 1000;
      case 3: return FromBits(kStaleNaNBits);
      case 4: return chance(50) ? -0.0 : std::numeric_limits<double>::infinity();
      default: return 0.0;
    }
  };
  auto random_int = [&]() -> int64_t {
    switch (rng() % 4) {
      case 0: return static_cast<int64_t>(rng());
      case 1: return chance(50) ? std::numeric_limits<int64_t>::min()
                                : std::numeric_limits<int64_t>::max();
      default: return static_cast<int64_t>(rng() % 21) - 10;
    }
  };
  auto random_spans = [&](std::vector<BucketSpan>* spans, uint64_t* buckets) {
    *buckets = 0;
    for (int n = static_cast<int>(rng() % 4); n > 0; --n) {
      BucketSpan span;
      span.offset = chance(10) ? static_cast<int32_t>(rng()) : static_cast<int32_t>(rng() % 9) - 4;
      span.length = static_cast<uint32_t>(rng() % 5);
      *buckets += span.length;
      spans->push_back(span);
    }
  };

  Histogram h;
  h.timestamp_ms = timestamp;
  h.is_float = chance(50);
  h.schema = chance(10) ? static_cast<int32_t>(rng()) : chance(10) ? -53 : static_cast<int>(rng() % 13) - 4;
  h.zero_threshold = chance(70) ? 1e-128 : random_double();
  h.sum = random_double();
  h.reset_hint = static_cast<ResetHint>(rng() % 4);
  uint64_t positive_buckets, negative_buckets;
  random_spans(&h.positive_spans, &positive_buckets);
  random_spans(&h.negative_spans, &negative_buckets);
  if (chance(10)) positive_buckets = rng() % 3;  // disagrees with the spans
  if (chance(10)) negative_buckets = rng() % 3;
  if (chance(10) && !h.positive_spans.empty()) h.positive_spans[0].length = 0xffffffffu;
  if (h.is_float) {
    h.count_float = random_double();
    h.zero_count_float = random_double();
    for (uint64_t i = 0; i < positive_buckets; ++i) h.positive_counts.push_back(random_double());
    for (uint64_t i = 0; i < negative_buckets; ++i) h.negative_counts.push_back(random_double());
    if (chance(10)) h.count_int = rng();
    if (chance(10)) h.positive_deltas.push_back(random_int());
  } else {
    h.count_int = chance(80) ? rng() % 1000 : rng();
    h.zero_count_int = rng() % 100;
    for (uint64_t i = 0; i < positive_buckets; ++i) h.positive_deltas.push_back(random_int());
    for (uint64_t i = 0; i < negative_buckets; ++i) h.negative_deltas.push_back(random_int());
    if (chance(10)) h.zero_count_float = random_double();
    if (chance(10)) h.negative_counts.push_back(random_double());
  }
  if (chance(20)) {
    for (int n = static_cast<int>(rng() % 5); n > 0; --n) h.custom_values.push_back(random_double());
  }
  return h;
}

// A damaged copy of a chunk, from MutateChunk.
struct MutatedChunk {
  std::string bytes;
  // True when the damage only shortened the chunk (every overwritten byte
  // kept its value), so a decoder must report it as Corruption.
  bool only_truncated = false;
};

// Applies `mutations` random changes to a copy of `original` (at least one
// byte long): each flips one bit, overwrites one byte with a random value or
// cuts the chunk at a random position (keeping at least one byte).
inline MutatedChunk MutateChunk(const std::string& original, int mutations, std::mt19937_64& rng) {
  std::string chunk = original;
  bool only_cut = true;
  for (int m = 0; m < mutations; ++m) {
    const size_t pos = rng() % chunk.size();
    switch (rng() % 3) {
      case 0:
        chunk[pos] = static_cast<char>(chunk[pos] ^ (1 << (rng() % 8)));
        only_cut = false;
        break;
      case 1:
        chunk[pos] = static_cast<char>(rng());
        only_cut = only_cut && chunk[pos] == original[pos];
        break;
      default:
        chunk.resize(std::max<size_t>(pos, 1));
        break;
    }
  }
  const bool only_truncated = only_cut && chunk.size() < original.size();
  return {std::move(chunk), only_truncated};
}

}  // namespace tsvault::storage::chunk_test
