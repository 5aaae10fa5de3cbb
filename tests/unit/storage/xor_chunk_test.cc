// Tests of the XOR float chunk: round trips (bit-exact), timestamp extremes,
// snapshots of an open chunk, header layout, compactness and robustness of
// the decoder against truncated, mutated and random input.
#include <cmath>
#include <cstdint>
#include <algorithm>
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

std::string Encode(const std::vector<Sample>& samples) {
  XorChunkAppender appender;
  for (const Sample& s : samples) appender.Append(s.timestamp_ms, s.value);
  return appender.bytes();
}

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

// A counter scraped every 15 s with a few ms of jitter.
std::vector<Sample> CounterSeries(size_t n, uint32_t seed) {
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
// so a regression in the timestamp classes or the XOR window choice fails.
TEST(XorChunkTest, Compactness) {
  // Perfectly regular and constant: 1 bit of timestamp + 1 bit of value.
  XorChunkAppender constant;
  for (int i = 0; i < 120; ++i) constant.Append(1700000000000 + i * 15000LL, 1.0);
  // 3 header + 6 first timestamp + 2 first value + 3 first delta + 119 * 2 bits.
  EXPECT_LE(constant.bytes().size(), 3u + 6 + 2 + 3 + 30 + 1);

  // Regular scrapes of a counter rising by 0..40: ~1.85 bytes/sample.
  std::vector<Sample> regular = CounterSeries(120, 11);
  for (size_t i = 0; i < regular.size(); ++i) regular[i].timestamp_ms = 1700000000000 + i * 15000;
  EXPECT_LT(Encode(regular).size(), 120u * 2.05);

  // The same with +-5 ms of scrape jitter: ~2.65 bytes/sample.
  EXPECT_LT(Encode(CounterSeries(120, 11)).size(), 120u * 2.9);
}

TEST(XorChunkTest, DecodeChunkNeedsFloatOutput) {
  const std::string chunk = Encode(CounterSeries(3, 1));
  std::vector<Histogram> histograms;
  EXPECT_TRUE(DecodeChunk(chunk, nullptr, &histograms).IsInvalidArgument());
}

// --- Malformed input ---------------------------------------------------------

TEST(XorChunkCorruptionTest, BadHeaders) {
  for (std::string chunk : {std::string(), std::string("\x01", 1), std::string("\x01\x00", 2),
                            std::string("\x00\x00\x00", 3), std::string("\x03\x00\x00", 3),
                            std::string("\xff\x00\x01\x00", 4)}) {
    ChunkIterator it(chunk);
    EXPECT_FALSE(it.Next());
    EXPECT_TRUE(it.status().IsCorruption()) << chunk.size();
    std::vector<Sample> floats;
    std::vector<Histogram> histograms;
    EXPECT_TRUE(DecodeChunk(chunk, &floats, &histograms).IsCorruption());
  }
}

size_t CountUntilEnd(std::string_view chunk, Status* status) {
  ChunkIterator it(chunk);
  size_t n = 0;
  while (it.Next()) ++n;
  *status = it.status();
  return n;
}

TEST(XorChunkCorruptionTest, EveryTruncationIsDetected) {
  const std::string chunk = Encode(CounterSeries(120, 13));
  for (size_t length = 0; length < chunk.size(); ++length) {
    Status status;
    CountUntilEnd(std::string_view(chunk).substr(0, length), &status);
    EXPECT_TRUE(status.IsCorruption()) << "length " << length;
  }
}

TEST(XorChunkCorruptionTest, WrongSampleCountIsDetected) {
  for (size_t n : {1, 2, 5, 120}) {
    for (int change : {-1, +1, +2, +7}) {
      if (static_cast<int>(n) + change < 0) continue;
      std::string chunk = Encode(CounterSeries(n, 17));
      const uint16_t count = static_cast<uint16_t>(n + change);
      chunk[1] = static_cast<char>(count >> 8);
      chunk[2] = static_cast<char>(count & 0xff);
      Status status;
      CountUntilEnd(chunk, &status);
      EXPECT_TRUE(status.IsCorruption()) << "n " << n << " change " << change;
    }
  }
}

TEST(XorChunkCorruptionTest, TrailingBytesAreDetected) {
  std::string chunk = Encode(CounterSeries(10, 19));
  chunk.push_back('\xff');
  Status status;
  EXPECT_EQ(CountUntilEnd(chunk, &status), 10u);
  EXPECT_TRUE(status.IsCorruption());
}

// Random bit flips, byte changes and cuts: never crash, never report more
// samples than the header announces, status is OK or Corruption.
TEST(XorChunkCorruptionTest, MutatedInputLoop) {
  const std::string original = Encode(CounterSeries(120, 23));
  std::mt19937_64 rng(2024);
  for (int iteration = 0; iteration < 100000; ++iteration) {
    std::string chunk = original;
    const int mutations = 1 + static_cast<int>(rng() % 4);
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
    ChunkIterator it(chunk);
    size_t n = 0;
    while (it.Next()) ++n;
    ASSERT_LE(n, it.num_samples());
    ASSERT_TRUE(it.status().ok() || it.status().IsCorruption());
    if (only_cut && chunk.size() < original.size()) {
      ASSERT_FALSE(it.status().ok()) << "truncated chunk decoded cleanly";
    }
  }
}

TEST(XorChunkCorruptionTest, RandomInputLoop) {
  std::mt19937_64 rng(77);
  for (int iteration = 0; iteration < 100000; ++iteration) {
    std::string chunk(rng() % 64, '\0');
    for (char& c : chunk) c = static_cast<char>(rng());
    if (!chunk.empty() && rng() % 2) chunk[0] = static_cast<char>(ChunkEncoding::kXor);
    ChunkIterator it(chunk);
    size_t n = 0;
    while (it.Next()) ++n;
    ASSERT_LE(n, it.num_samples());
    ASSERT_TRUE(it.status().ok() || it.status().IsCorruption());
  }
}

}  // namespace
}  // namespace tsvault::storage
