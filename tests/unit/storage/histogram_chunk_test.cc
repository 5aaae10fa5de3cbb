// Tests of the histogram chunk: lossless round trips of integer and float
// native histograms (every field, bit for bit), span reuse, unusual field
// combinations, snapshots of an open chunk, compactness, and robustness of
// the decoder against truncated, crafted, mutated and random input.
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/chunk.h"

namespace tsvault::storage {
namespace {

uint64_t Bits(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return bits;
}

double FromBits(uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

std::vector<uint64_t> AllBits(const std::vector<double>& values) {
  std::vector<uint64_t> out;
  for (double v : values) out.push_back(Bits(v));
  return out;
}

// Field-by-field, bit-exact comparison (operator== treats NaN != NaN and
// -0.0 == 0.0, which is not what "lossless" means).
void ExpectIdentical(const Histogram& want, const Histogram& got, size_t index) {
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

std::string Encode(const std::vector<Histogram>& histograms) {
  HistogramChunkAppender appender;
  for (const Histogram& h : histograms) appender.Append(h);
  EXPECT_EQ(appender.num_samples(), histograms.size());
  return appender.bytes();
}

void ExpectRoundTrip(const std::vector<Histogram>& histograms) {
  const std::string chunk = Encode(histograms);
  ChunkIterator it(chunk);
  EXPECT_TRUE(it.is_histogram());
  size_t i = 0;
  while (it.Next()) {
    ASSERT_LT(i, histograms.size());
    EXPECT_EQ(it.timestamp(), histograms[i].timestamp_ms);
    ExpectIdentical(histograms[i], it.histogram(), i);
    ++i;
  }
  ASSERT_TRUE(it.status().ok()) << it.status().ToString();
  EXPECT_EQ(i, histograms.size());

  std::vector<Histogram> decoded;
  ASSERT_TRUE(DecodeChunk(chunk, nullptr, &decoded).ok());
  ASSERT_EQ(decoded.size(), histograms.size());
  for (size_t j = 0; j < decoded.size(); ++j) ExpectIdentical(histograms[j], decoded[j], j);
}

// A classic counter histogram (schema 3, two positive spans, one negative
// span) observed every 15 s; integer or float.
std::vector<Histogram> CounterHistograms(size_t n, bool is_float, uint32_t seed) {
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
    uint64_t count = zero_count;
    for (uint64_t b : positive) count += b;
    for (uint64_t b : negative) count += b;
    h.sum = sum;
    if (is_float) {
      h.count_float = static_cast<double>(count);
      h.zero_count_float = static_cast<double>(zero_count);
      for (uint64_t b : positive) h.positive_counts.push_back(static_cast<double>(b));
      for (uint64_t b : negative) h.negative_counts.push_back(static_cast<double>(b));
    } else {
      h.count_int = count;
      h.zero_count_int = zero_count;
      int64_t previous = 0;
      for (uint64_t b : positive) {
        h.positive_deltas.push_back(static_cast<int64_t>(b) - previous);
        previous = static_cast<int64_t>(b);
      }
      previous = 0;
      for (uint64_t b : negative) {
        h.negative_deltas.push_back(static_cast<int64_t>(b) - previous);
        previous = static_cast<int64_t>(b);
      }
    }
    out.push_back(h);
  }
  return out;
}

// Anything a Histogram can hold, including combinations a well-formed
// remote-write request would never carry.
Histogram RandomHistogram(std::mt19937_64& rng, int64_t timestamp) {
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

TEST(HistogramChunkTest, EmptyChunk) {
  HistogramChunkAppender appender;
  ASSERT_EQ(appender.bytes().size(), kChunkHeaderBytes);
  EXPECT_EQ(static_cast<uint8_t>(appender.bytes()[0]), 2);
  ChunkIterator it(appender.bytes());
  EXPECT_TRUE(it.is_histogram());
  EXPECT_FALSE(it.Next());
  EXPECT_TRUE(it.status().ok());
}

TEST(HistogramChunkTest, HeaderAndTimes) {
  const auto histograms = CounterHistograms(300, false, 1);
  HistogramChunkAppender appender;
  for (const Histogram& h : histograms) appender.Append(h);
  EXPECT_EQ(static_cast<uint8_t>(appender.bytes()[1]), 300 >> 8);
  EXPECT_EQ(static_cast<uint8_t>(appender.bytes()[2]), 300 & 0xff);
  EXPECT_EQ(appender.min_time(), histograms.front().timestamp_ms);
  EXPECT_EQ(appender.max_time(), histograms.back().timestamp_ms);
}

TEST(HistogramChunkTest, SingleSample) {
  ExpectRoundTrip(CounterHistograms(1, false, 2));
  ExpectRoundTrip(CounterHistograms(1, true, 2));
  ExpectRoundTrip({Histogram{}});
}

TEST(HistogramChunkTest, IntegerCounterSeries) { ExpectRoundTrip(CounterHistograms(120, false, 3)); }

TEST(HistogramChunkTest, FloatCounterSeries) { ExpectRoundTrip(CounterHistograms(120, true, 4)); }

TEST(HistogramChunkTest, EmptyAndChangingSpans) {
  std::vector<Histogram> hs = CounterHistograms(40, false, 5);
  hs[3].positive_spans.clear();  // no buckets at all
  hs[3].positive_deltas.clear();
  hs[3].negative_spans.clear();
  hs[3].negative_deltas.clear();
  hs[10].positive_spans = {{0, 2}, {5, 1}, {-3, 4}};  // layout change, negative offset
  hs[10].positive_deltas = {1, -1, 3, 0, 0, -2, 7};
  hs[11].positive_spans = hs[10].positive_spans;  // reused after the change
  hs[11].positive_deltas = {2, -1, 3, 1, 0, -2, 9};
  hs[20].negative_spans = {{std::numeric_limits<int32_t>::min(), 1},
                           {std::numeric_limits<int32_t>::max(), 1}};
  hs[20].negative_deltas = {5, -5};
  ExpectRoundTrip(hs);
}

TEST(HistogramChunkTest, CustomValuesAndResetHints) {
  std::vector<Histogram> hs = CounterHistograms(12, true, 6);
  for (size_t i = 0; i < hs.size(); ++i) {
    hs[i].schema = -53;
    hs[i].custom_values = {0.005, 0.01, 0.025, 0.1, 0.5, 1, 2.5, 10};
    hs[i].reset_hint = static_cast<ResetHint>(i % 4);
  }
  hs[5].custom_values.push_back(60);  // changes mid-chunk
  hs[7].custom_values.clear();
  hs[8].custom_values = {-0.0, FromBits(kStaleNaNBits), std::numeric_limits<double>::infinity()};
  ExpectRoundTrip(hs);
}

TEST(HistogramChunkTest, SpecialFloatsBitExact) {
  const double specials[] = {FromBits(kStaleNaNBits),
                             FromBits(0x7ff8000000000001ULL),
                             FromBits(0xfff0000000000001ULL),
                             -0.0,
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::denorm_min(),
                             -std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(),
                             0.0};
  std::vector<Histogram> hs = CounterHistograms(30, true, 7);
  for (size_t i = 0; i < hs.size(); ++i) {
    const double special = specials[i % std::size(specials)];
    hs[i].sum = special;
    hs[i].zero_threshold = specials[(i + 3) % std::size(specials)];
    hs[i].count_float = specials[(i + 5) % std::size(specials)];
    hs[i].positive_counts[i % hs[i].positive_counts.size()] = special;
  }
  std::vector<Histogram> ints = CounterHistograms(10, false, 8);
  for (size_t i = 0; i < ints.size(); ++i) ints[i].sum = specials[i];
  hs.insert(hs.end(), ints.begin(), ints.end());
  for (size_t i = 0; i < hs.size(); ++i) hs[i].timestamp_ms = 1000 + static_cast<int64_t>(i);
  ExpectRoundTrip(hs);
}

TEST(HistogramChunkTest, MixedKindsAndUnusualFields) {
  std::vector<Histogram> hs;
  const auto ints = CounterHistograms(10, false, 9);
  const auto floats = CounterHistograms(10, true, 9);
  for (size_t i = 0; i < 10; ++i) hs.push_back(i % 2 ? floats[i] : ints[i]);
  hs[2].count_float = 3.5;        // float field on an integer histogram
  hs[3].zero_count_int = 17;      // integer field on a float histogram
  hs[4].positive_counts = {1.5};  // float buckets on an integer histogram
  hs[5].negative_deltas = {-4};   // integer buckets on a float histogram
  hs[6].positive_deltas.pop_back();  // fewer buckets than the spans describe
  hs[7].positive_counts.push_back(9);  // more buckets than the spans describe
  hs[8].positive_spans[0].length = 0xffffffffu;  // huge span, few buckets
  for (size_t i = 0; i < hs.size(); ++i) hs[i].timestamp_ms = 5000 + 15000 * static_cast<int64_t>(i);
  ExpectRoundTrip(hs);
}

TEST(HistogramChunkTest, IntegerExtremes) {
  std::vector<Histogram> hs = CounterHistograms(6, false, 10);
  hs[0].timestamp_ms = std::numeric_limits<int64_t>::min();
  hs[1].timestamp_ms = -1;
  hs[2].timestamp_ms = 0;
  hs[3].timestamp_ms = 1;
  hs[4].timestamp_ms = std::numeric_limits<int64_t>::max() - 1;
  hs[5].timestamp_ms = std::numeric_limits<int64_t>::max();
  hs[1].count_int = std::numeric_limits<uint64_t>::max();
  hs[2].count_int = 0;
  hs[3].zero_count_int = std::numeric_limits<uint64_t>::max();
  hs[2].positive_deltas[0] = std::numeric_limits<int64_t>::min();
  hs[3].positive_deltas[0] = std::numeric_limits<int64_t>::max();
  hs[4].schema = std::numeric_limits<int32_t>::min();
  hs[5].schema = std::numeric_limits<int32_t>::max();
  ExpectRoundTrip(hs);
}

TEST(HistogramChunkTest, RandomHistograms) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 50; ++round) {
    std::vector<Histogram> hs;
    int64_t t = static_cast<int64_t>(rng() % 2000000000000) - 1000000000000;
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      hs.push_back(RandomHistogram(rng, t));
      // Repeat the previous layout often, to exercise the "same as before" flags.
      if (i > 0 && rng() % 2) {
        const Histogram& prev = hs[hs.size() - 2];
        Histogram& cur = hs.back();
        cur.schema = prev.schema;
        cur.zero_threshold = prev.zero_threshold;
        cur.custom_values = prev.custom_values;
        if (cur.is_float == prev.is_float) {
          cur.positive_spans = prev.positive_spans;
          cur.negative_spans = prev.negative_spans;
          cur.positive_deltas = prev.positive_deltas;
          cur.positive_counts = prev.positive_counts;
          cur.negative_deltas = prev.negative_deltas;
          cur.negative_counts = prev.negative_counts;
          for (auto& d : cur.positive_deltas) {  // wrapping, as extremes occur
            d = static_cast<int64_t>(static_cast<uint64_t>(d) + rng() % 3);
          }
        }
      }
      t += 1 + static_cast<int64_t>(rng() % 100000);
    }
    ExpectRoundTrip(hs);
    if (HasFailure()) return;
  }
}

TEST(HistogramChunkTest, MaxSamples) {
  std::vector<Histogram> hs = CounterHistograms(kMaxSamplesPerChunk, false, 12);
  HistogramChunkAppender appender;
  for (const Histogram& h : hs) appender.Append(h);
  EXPECT_TRUE(appender.full());
  std::vector<Histogram> decoded;
  ASSERT_TRUE(DecodeChunk(appender.bytes(), nullptr, &decoded).ok());
  ASSERT_EQ(decoded.size(), hs.size());
  ExpectIdentical(hs.back(), decoded.back(), hs.size() - 1);
  ExpectIdentical(hs[30000], decoded[30000], 30000);
}

TEST(HistogramChunkTest, SnapshotWhileAppending) {
  const auto hs = CounterHistograms(60, true, 13);
  HistogramChunkAppender appender;
  for (size_t i = 0; i < hs.size(); ++i) {
    appender.Append(hs[i]);
    if (i % 7 != 0 && i + 1 != hs.size()) continue;
    const std::string snapshot = appender.bytes();
    std::vector<Histogram> decoded;
    ASSERT_TRUE(DecodeChunk(snapshot, nullptr, &decoded).ok());
    ASSERT_EQ(decoded.size(), i + 1);
    for (size_t j = 0; j <= i; ++j) ExpectIdentical(hs[j], decoded[j], j);
  }
}

// Size guards, ~13% above what the current encoder produces, so that a
// regression in span reuse or bucket packing fails.
TEST(HistogramChunkTest, Compactness) {
  // 10 buckets rising slowly: ~18 bytes per sample, 8 of them for the sum.
  EXPECT_LT(Encode(CounterHistograms(120, false, 14)).size(), 120u * 20.5);
  // The float version packs its integer-valued counts the same way: ~21.
  EXPECT_LT(Encode(CounterHistograms(120, true, 14)).size(), 120u * 23.5);

  // Nothing changes but the time: 7 bytes (flags, time, count, zero count,
  // sum, one width byte per bucket vector).
  for (bool is_float : {false, true}) {
    std::vector<Histogram> hs = CounterHistograms(120, is_float, 15);
    for (size_t i = 1; i < hs.size(); ++i) {
      const int64_t t = hs[i].timestamp_ms;
      hs[i] = hs[0];
      hs[i].timestamp_ms = t;
    }
    EXPECT_LT(Encode(hs).size(), 120u * 7 + 64) << is_float;
    ExpectRoundTrip(hs);
  }
}

TEST(HistogramChunkTest, DecodeChunkNeedsHistogramOutput) {
  const std::string chunk = Encode(CounterHistograms(2, false, 15));
  std::vector<Sample> floats;
  EXPECT_TRUE(DecodeChunk(chunk, &floats, nullptr).IsInvalidArgument());
}

// --- Malformed input ---------------------------------------------------------

Status Drain(std::string_view chunk, size_t* count = nullptr) {
  ChunkIterator it(chunk);
  size_t n = 0;
  while (it.Next()) {
    const Histogram& h = it.histogram();
    // Whatever was decoded is backed by input bytes (a packed bucket takes at
    // least one bit when first seen), not by claimed sizes.
    for (size_t size : {h.positive_spans.size(), h.negative_spans.size(),
                        h.positive_deltas.size(), h.negative_deltas.size(),
                        h.positive_counts.size(), h.negative_counts.size(),
                        h.custom_values.size()}) {
      EXPECT_LE(size, 8 * chunk.size());
    }
    ++n;
  }
  EXPECT_LE(n, it.num_samples());
  if (count != nullptr) *count = n;
  return it.status();
}

TEST(HistogramChunkCorruptionTest, EveryTruncationIsDetected) {
  const std::string chunk = Encode(CounterHistograms(20, false, 16));
  for (size_t length = 0; length < chunk.size(); ++length) {
    EXPECT_TRUE(Drain(std::string_view(chunk).substr(0, length)).IsCorruption()) << length;
  }
}

TEST(HistogramChunkCorruptionTest, WrongSampleCountIsDetected) {
  for (int change : {-1, 1, 5}) {
    std::string chunk = Encode(CounterHistograms(10, true, 17));
    chunk[2] = static_cast<char>(10 + change);
    EXPECT_TRUE(Drain(chunk).IsCorruption()) << change;
  }
}

TEST(HistogramChunkCorruptionTest, TrailingBytesAreDetected) {
  std::string chunk = Encode(CounterHistograms(3, false, 18));
  chunk.push_back(0);
  size_t n = 0;
  EXPECT_TRUE(Drain(chunk, &n).IsCorruption());
  EXPECT_EQ(n, 3u);
}

TEST(HistogramChunkCorruptionTest, CraftedInput) {
  const std::string header("\x02\x00\x01", 3);
  // Extended flags that are zero or use reserved bits.
  EXPECT_TRUE(Drain(header + std::string("\x80\x00", 2) + std::string(20, '\0')).IsCorruption());
  EXPECT_TRUE(Drain(header + std::string("\x80\x10", 2) + std::string(20, '\0')).IsCorruption());
  // A span count of 2^40 must fail fast, without allocating for it.
  // flags, dod, schema, zero threshold, count, zero count, sum, span count.
  std::string huge = header + std::string("\x00\x00\x00\x00\x00\x00\x00", 7);
  huge += std::string("\x80\x80\x80\x80\x80\x20", 6);
  EXPECT_TRUE(Drain(huge).IsCorruption());
  // A varint longer than 10 bytes.
  EXPECT_TRUE(Drain(header + std::string(1, '\0') + std::string(12, '\xff')).IsCorruption());
  // An xor-bytes field claiming 9 significant bytes.
  EXPECT_TRUE(Drain(header + std::string("\x00\x00\x00\x09", 4) + std::string(12, '\x01'))
                  .IsCorruption());
}

TEST(HistogramChunkCorruptionTest, MutatedInputLoop) {
  std::mt19937_64 rng(4242);
  std::vector<std::string> originals = {Encode(CounterHistograms(30, false, 19)),
                                        Encode(CounterHistograms(30, true, 20))};
  std::vector<Histogram> random;
  for (int i = 0; i < 30; ++i) random.push_back(RandomHistogram(rng, i * 1000));
  originals.push_back(Encode(random));
  for (int iteration = 0; iteration < 100000; ++iteration) {
    const std::string& original = originals[iteration % originals.size()];
    std::string chunk = original;
    bool only_cut = true;
    for (int m = 1 + static_cast<int>(rng() % 3); m > 0; --m) {
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
    const Status status = Drain(chunk);
    ASSERT_TRUE(status.ok() || status.IsCorruption());
    if (only_cut && chunk.size() < original.size()) {
      ASSERT_TRUE(status.IsCorruption()) << "truncated chunk decoded cleanly";
    }
  }
}

TEST(HistogramChunkCorruptionTest, RandomInputLoop) {
  std::mt19937_64 rng(99);
  for (int iteration = 0; iteration < 100000; ++iteration) {
    std::string chunk(rng() % 96, '\0');
    for (char& c : chunk) c = static_cast<char>(rng() % 4 == 0 ? rng() % 4 : rng());
    if (chunk.size() > 0) chunk[0] = static_cast<char>(ChunkEncoding::kHistogram);
    if (chunk.size() > 2) chunk[1] = 0;
    const Status status = Drain(chunk);
    ASSERT_TRUE(status.ok() || status.IsCorruption());
  }
}

}  // namespace
}  // namespace tsvault::storage
