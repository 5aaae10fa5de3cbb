// Tests of the histogram chunk decoder on damaged input: truncation, wrong
// sample counts, trailing bytes, crafted fields (huge counts must fail
// without allocating), and 100k mutated and random inputs.
#include <cstdint>
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
using chunk_test::MutateChunk;
using chunk_test::MutatedChunk;
using chunk_test::RandomHistogram;

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
    const int mutations = 1 + static_cast<int>(rng() % 3);
    const MutatedChunk mutated = MutateChunk(original, mutations, rng);
    const Status status = Drain(mutated.bytes);
    ASSERT_TRUE(status.ok() || status.IsCorruption());
    if (mutated.only_truncated) {
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
