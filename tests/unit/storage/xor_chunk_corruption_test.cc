// Tests of the XOR chunk decoder on damaged input: bad headers, crafted
// value codes, truncation, wrong sample counts, trailing bytes, and 100k
// mutated and random inputs (no crash, no over-read, Corruption where the
// damage is detectable).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/chunkenc/chunk.h"
#include "tests/unit/storage/chunk_test_util.h"

namespace tsvault::storage {
namespace {

using chunk_test::CounterSeries;
using chunk_test::Encode;
using chunk_test::MutateChunk;
using chunk_test::MutatedChunk;

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

// Decodes `chunk` and returns the status message (empty when OK).
std::string DecodeError(const std::string& chunk) {
  std::vector<Sample> floats;
  const Status status = DecodeChunk(chunk, &floats, nullptr);
  EXPECT_TRUE(status.ok() || status.IsCorruption());
  return status.message();
}

TEST(XorChunkCorruptionTest, CraftedValueCodes) {
  const std::string one_sample_at_zero("\x01\x00\x01\x00", 4);
  // '10' + class '0' + 000001 (a decimal step with no decimal start), then
  // padding ones.
  EXPECT_NE(DecodeError(one_sample_at_zero + "\x80\xff").find("decimal step"),
            std::string::npos);
  // '1111' + exponent 000 + class '111' + 56 one bits: a mantissa beyond
  // 2^53.
  EXPECT_NE(DecodeError(one_sample_at_zero + "\xf1" + std::string(8, '\xff'))
                .find("out of range"),
            std::string::npos);
  // '110': an XOR window reuse before any window.
  EXPECT_NE(DecodeError(one_sample_at_zero + std::string("\xc0\x00\xff", 3))
                .find("missing window"),
            std::string::npos);
  // '1110' + leading 31 + width 63: more than 64 bits.
  EXPECT_NE(DecodeError(one_sample_at_zero + "\xef" + std::string(9, '\xff'))
                .find("bad value window"),
            std::string::npos);
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
    const int mutations = 1 + static_cast<int>(rng() % 4);
    const MutatedChunk mutated = MutateChunk(original, mutations, rng);
    ChunkIterator it(mutated.bytes);
    size_t n = 0;
    while (it.Next()) ++n;
    ASSERT_LE(n, it.num_samples());
    ASSERT_TRUE(it.status().ok() || it.status().IsCorruption());
    if (mutated.only_truncated) {
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
