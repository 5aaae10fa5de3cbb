// Tests of the histogram chunk: lossless round trips of integer and float
// native histograms (every field, bit for bit), span reuse, unusual field
// combinations, snapshots of an open chunk and compactness. Damaged input is
// covered in histogram_chunk_corruption_test.cc.
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

using chunk_test::CounterHistograms;
using chunk_test::Encode;
using chunk_test::ExpectIdentical;
using chunk_test::FromBits;
using chunk_test::RandomHistogram;

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

}  // namespace
}  // namespace tsvault::storage
