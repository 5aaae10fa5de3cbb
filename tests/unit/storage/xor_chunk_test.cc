// Tests of the XOR float chunk: round trips (bit-exact) of regular,
// irregular and extreme timestamps, special floats and decimal values,
// snapshots of an open chunk, the header layout and compactness. Damaged
// input is covered in xor_chunk_corruption_test.cc.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/chunkenc/chunk.h"
#include "tests/unit/storage/chunk_test_util.h"

namespace tsvault::storage {
namespace {

using chunk_test::Bits;
using chunk_test::CounterSeries;
using chunk_test::Encode;
using chunk_test::FromBits;

// Decodes with the iterator and checks every sample bit for bit.
void ExpectRoundTrip(const std::vector<Sample>& samples) {
  const std::string chunk = Encode(samples);
  ChunkIterator it(chunk);
  EXPECT_FALSE(it.is_histogram());
  size_t i = 0;
  while (it.Next()) {
    ASSERT_LT(i, samples.size());
    ASSERT_EQ(it.timestamp(), samples[i].timestamp_ms) << "sample " << i;
    ASSERT_EQ(Bits(it.value()), Bits(samples[i].value)) << "sample " << i;
    ++i;
  }
  ASSERT_TRUE(it.status().ok()) << it.status().ToString();
  EXPECT_EQ(i, samples.size());

  std::vector<Sample> decoded;
  ASSERT_TRUE(DecodeChunk(chunk, &decoded, nullptr).ok());
  ASSERT_EQ(decoded.size(), samples.size());
  for (size_t j = 0; j < samples.size(); ++j) {
    EXPECT_EQ(decoded[j].timestamp_ms, samples[j].timestamp_ms);
    EXPECT_EQ(Bits(decoded[j].value), Bits(samples[j].value));
  }
}

TEST(XorChunkTest, EmptyChunk) {
  XorChunkAppender appender;
  EXPECT_EQ(appender.num_samples(), 0);
  ASSERT_EQ(appender.bytes().size(), kChunkHeaderBytes);
  EXPECT_EQ(appender.bytes()[0], static_cast<char>(ChunkEncoding::kXor));
  ChunkIterator it(appender.bytes());
  EXPECT_FALSE(it.Next());
  EXPECT_TRUE(it.status().ok());
}

TEST(XorChunkTest, SingleSample) {
  ExpectRoundTrip({{1700000000123, 42.5}});
  ExpectRoundTrip({{0, 0.0}});
  ExpectRoundTrip({{-1, -1.0}});
}

TEST(XorChunkTest, HeaderAndTimes) {
  XorChunkAppender appender;
  for (int i = 0; i < 300; ++i) appender.Append(1000 + i * 15000, i);
  const std::string& bytes = appender.bytes();
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 1);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]), 300 >> 8);
  EXPECT_EQ(static_cast<uint8_t>(bytes[2]), 300 & 0xff);
  EXPECT_EQ(appender.num_samples(), 300);
  EXPECT_EQ(appender.min_time(), 1000);
  EXPECT_EQ(appender.max_time(), 1000 + 299 * 15000);
  EXPECT_FALSE(appender.full());
}

TEST(XorChunkTest, RegularCounter) { ExpectRoundTrip(CounterSeries(120, 1)); }

TEST(XorChunkTest, IrregularTimestampsAndRandomValues) {
  std::mt19937_64 rng(7);
  std::vector<Sample> samples;
  int64_t t = -5000000;
  for (int i = 0; i < 2000; ++i) {
    const int kind = static_cast<int>(rng() % 4);
    t += kind == 0 ? 1 : kind == 1 ? static_cast<int64_t>(rng() % 100000)
                                   : static_cast<int64_t>(rng() % 10000000000) + 1;
    const double v = (rng() % 3 == 0) ? FromBits(rng()) : static_cast<double>(rng() % 1000) / 7;
    samples.push_back({t, v});
  }
  ExpectRoundTrip(samples);
}

TEST(XorChunkTest, TimestampExtremes) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  ExpectRoundTrip({{kMin, 1}, {kMax, 2}});
  ExpectRoundTrip({{kMin, 1}, {kMin + 1, 2}, {-1, 3}, {0, 4}, {kMax - 1, 5}, {kMax, 6}});
  ExpectRoundTrip({{kMax, 1}});
  ExpectRoundTrip({{kMin, 1}});
  ExpectRoundTrip({{-9000000000000, 1}, {-8999999985000, 2}, {-8999999970000, 3}});
  ExpectRoundTrip({{kMin, 0}, {kMin + 1, 0}, {kMax, 0}});
}

// Exercises every delta-of-delta class at and beyond its boundaries.
TEST(XorChunkTest, DeltaOfDeltaBoundaries) {
  const int64_t dods[] = {0,       1,       -1,         7,           8,           -8,
                          -9,      127,     128,        -128,        -129,        8191,
                          8192,    32767,   32768,      -32768,      -32769,      524288,
                          2147483647LL,     2147483648LL,            -2147483648LL,
                          -2147483649LL,    1LL << 40,  -(1LL << 40)};
  std::vector<Sample> samples;
  const int64_t base_delta = 1LL << 42;
  int64_t t = 1000;
  int64_t delta = base_delta;
  samples.push_back({t, 0});
  for (int64_t dod : dods) {
    // Go up by dod, then back down, so the delta stays positive.
    for (int64_t step : {dod, -dod}) {
      delta += step;
      t += delta;
      samples.push_back({t, static_cast<double>(samples.size())});
    }
  }
  ExpectRoundTrip(samples);
}

TEST(XorChunkTest, SpecialFloatsBitExact) {
  const uint64_t patterns[] = {
      kStaleNaNBits,          0x7ff8000000000000ULL,  0xfff8000000000000ULL,
      0x7ff0000000000001ULL,  0x7ff4000000000000ULL,  0xffffffffffffffffULL,
      0x7ff0000000000000ULL,  0xfff0000000000000ULL,  0x8000000000000000ULL,
      0x0000000000000000ULL,  0x0000000000000001ULL,  0x000fffffffffffffULL,
      0x8000000000000001ULL,  0x0010000000000000ULL,  0x7fefffffffffffffULL,
      0xffefffffffffffffULL,  0x7ff8000000000001ULL,  0x7ff00000000000ffULL};
  std::vector<Sample> samples;
  int64_t t = 1000;
  for (int round = 0; round < 3; ++round) {
    for (uint64_t p : patterns) {
      samples.push_back({t, FromBits(p)});
      t += 15000;
    }
  }
  // Repeats, to exercise the "same value" and window-reuse paths on NaNs.
  for (int i = 0; i < 5; ++i, t += 15000) samples.push_back({t, FromBits(kStaleNaNBits)});
  ExpectRoundTrip(samples);

  std::mt19937_64 rng(99);
  std::vector<Sample> random;
  for (int i = 0; i < 5000; ++i) random.push_back({i * 1000LL, FromBits(rng())});
  ExpectRoundTrip(random);
}

// Decimal-looking values take the decimal path; everything must still come
// back bit for bit, including values that merely look decimal.
TEST(XorChunkTest, DecimalValues) {
  std::mt19937_64 rng(31);
  std::vector<Sample> samples;
  int64_t t = 1700000000000;
  double cpu_seconds = 12345.67;
  for (int i = 0; i < 3000; ++i, t += 15000) {
    double v;
    switch (i / 200 % 8) {
      case 0:  // a counter with 2 decimals, as parsed from the text format
        cpu_seconds = std::round((cpu_seconds + static_cast<double>(rng() % 2000) / 100) * 100) / 100;
        v = cpu_seconds;
        break;
      case 1:  // accumulated decimals: not exactly k/100 any more
        cpu_seconds += 0.01 * static_cast<double>(rng() % 300);
        v = cpu_seconds;
        break;
      case 2:  // negative gauge with 3 decimals
        v = -static_cast<double>(rng() % 100000) / 1000;
        break;
      case 3:  // exponents changing from value to value, up to 7 decimals
        v = static_cast<double>(rng() % 100000) / std::pow(10.0, static_cast<double>(rng() % 9));
        break;
      case 4:  // around the 2^53 mantissa limit
        v = static_cast<double>((int64_t{1} << 53) - static_cast<int64_t>(rng() % 3)) *
            (rng() % 2 ? 1 : -1);
        if (rng() % 4 == 0) v = 9007199254740992.0 + 2 * static_cast<double>(rng() % 3);
        break;
      case 5:  // decimals interrupted by staleness markers, -0.0 and NaN
        v = rng() % 3 == 0 ? FromBits(rng() % 2 ? kStaleNaNBits : 0x8000000000000000ULL)
                           : static_cast<double>(rng() % 1000) / 10;
        break;
      case 6:  // integers with large steps
        v = static_cast<double>(static_cast<int64_t>(rng() % (int64_t{1} << 52)) - (int64_t{1} << 51));
        break;
      default:  // tiny and denormal decimals-to-be
        v = rng() % 2 ? 1e-7 * static_cast<double>(rng() % 10) : FromBits(rng() % 100);
        break;
    }
    if (rng() % 5 == 0 && !samples.empty()) v = samples.back().value;  // repeats
    samples.push_back({t, v});
  }
  ExpectRoundTrip(samples);
}

TEST(XorChunkTest, MaxSamples) {
  std::vector<Sample> samples = CounterSeries(kMaxSamplesPerChunk, 3);
  XorChunkAppender appender;
  for (const Sample& s : samples) appender.Append(s.timestamp_ms, s.value);
  EXPECT_TRUE(appender.full());
  EXPECT_EQ(appender.num_samples(), kMaxSamplesPerChunk);
  EXPECT_EQ(static_cast<uint8_t>(appender.bytes()[1]), 0xff);
  EXPECT_EQ(static_cast<uint8_t>(appender.bytes()[2]), 0xff);
  ExpectRoundTrip(samples);
}

TEST(XorChunkTest, SnapshotWhileAppending) {
  const std::vector<Sample> samples = CounterSeries(200, 5);
  XorChunkAppender appender;
  for (size_t i = 0; i < samples.size(); ++i) {
    appender.Append(samples[i].timestamp_ms, samples[i].value);
    if (i % 17 != 0 && i != samples.size() - 1) continue;
    const std::string snapshot = appender.bytes();
    std::vector<Sample> decoded;
    ASSERT_TRUE(DecodeChunk(snapshot, &decoded, nullptr).ok()) << "after " << i + 1;
    ASSERT_EQ(decoded.size(), i + 1);
    for (size_t j = 0; j <= i; ++j) {
      ASSERT_EQ(decoded[j].timestamp_ms, samples[j].timestamp_ms);
      ASSERT_EQ(Bits(decoded[j].value), Bits(samples[j].value));
    }
  }
}

// Size guards: each bound is ~10% above what the current encoder produces,
// so a regression in the timestamp classes, the XOR window choice or the
// decimal path fails.
TEST(XorChunkTest, Compactness) {
  // Perfectly regular and constant: 1 bit of timestamp + 1 bit of value.
  XorChunkAppender constant;
  for (int i = 0; i < 120; ++i) constant.Append(1700000000000 + i * 15000LL, 1.0);
  // 3 header + 6 first timestamp + 2 first value + 3 first delta + 119 * 2 bits.
  EXPECT_LE(constant.bytes().size(), 3u + 6 + 2 + 3 + 30 + 1);

  // Regular scrapes of an integer counter rising by 0..40: ~1.55 bytes/sample.
  std::vector<Sample> regular = CounterSeries(120, 11);
  for (size_t i = 0; i < regular.size(); ++i) regular[i].timestamp_ms = 1700000000000 + i * 15000;
  EXPECT_LT(Encode(regular).size(), 120u * 1.7);

  // The same with +-5 ms of scrape jitter: ~2.35 bytes/sample.
  EXPECT_LT(Encode(CounterSeries(120, 11)).size(), 120u * 2.6);

  // A CPU-seconds counter with 2 decimals rising by up to 15.00 per scrape:
  // ~2.35 bytes/sample (XOR alone needs ~5: binary fractions of decimals
  // look random).
  std::mt19937_64 rng(5);
  std::vector<Sample> cpu;
  double seconds = 81234.56;
  for (int i = 0; i < 120; ++i) {
    cpu.push_back({1700000000000 + i * 15000LL, seconds});
    seconds = std::round((seconds + static_cast<double>(rng() % 1500) / 100) * 100) / 100;
  }
  EXPECT_LT(Encode(cpu).size(), 120u * 2.6);
}

TEST(XorChunkTest, DecodeChunkNeedsFloatOutput) {
  const std::string chunk = Encode(CounterSeries(3, 1));
  std::vector<Histogram> histograms;
  EXPECT_TRUE(DecodeChunk(chunk, nullptr, &histograms).IsInvalidArgument());
}

}  // namespace
}  // namespace tsvault::storage
