// Prometheus' XOR chunk and CRC32C: fixed vectors, every timestamp class at
// its bounds, special values, random round trips and damaged input.
#include "storage/prometheus_tsdb/xor_chunk.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "storage/prometheus_tsdb/crc32c.h"

namespace tsvault::prometheus_tsdb {
namespace {

std::string Hex(const std::string& bytes) {
  std::string out;
  char buffer[4];
  for (unsigned char c : bytes) {
    std::snprintf(buffer, sizeof(buffer), "%02x ", c);
    out += buffer;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

std::string Encode(const std::vector<model::Sample>& samples) {
  XorChunkEncoder encoder;
  for (const model::Sample& s : samples) encoder.Append(s.timestamp_ms, s.value);
  return encoder.Finish();
}

void ExpectRoundTrip(const std::vector<model::Sample>& samples) {
  std::vector<model::Sample> decoded;
  const std::string chunk = Encode(samples);
  const Status status = DecodeXorChunk(chunk, &decoded);
  ASSERT_TRUE(status.ok()) << status.ToString() << ": " << Hex(chunk);
  ASSERT_EQ(decoded.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(decoded[i].timestamp_ms, samples[i].timestamp_ms) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(decoded[i].value), std::bit_cast<uint64_t>(samples[i].value)) << i;
  }
}

TEST(Crc32cTest, CheckValueAndIncremental) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  Crc32cBuilder builder;
  builder.Update("1234");
  builder.Update("");
  builder.Update("56789");
  EXPECT_EQ(builder.value(), 0xE3069283u);
}

// Worked out bit by bit from tsdb/chunkenc/xor.go (docs/prometheus-formats.md).
TEST(PrometheusXorChunkTest, KnownBytes) {
  const std::string chunk = Encode({{1700000000000, 1.0}, {1700000015000, 1.0}, {1700000030002, 3.0}});
  EXPECT_EQ(Hex(chunk), "00 03 80 a0 ab fe f9 62 3f f0 00 00 00 00 00 00 98 75 40 01 61 33 ff c0");
  EXPECT_EQ(Hex(Encode({})), "00 00");
  EXPECT_EQ(Hex(Encode({{0, 0.0}})), "00 01 00 00 00 00 00 00 00 00 00");
}

TEST(PrometheusXorChunkTest, EveryTimestampClassAtItsBounds) {
  // dod values at the class edges (Prometheus' bitRange is asymmetric) and one past.
  for (int64_t dod : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{8192}, int64_t{-8191}, int64_t{8193},
                      int64_t{-8192}, int64_t{65536}, int64_t{-65535}, int64_t{65537}, int64_t{-65536},
                      int64_t{524288}, int64_t{-524287}, int64_t{524289}, int64_t{-524288},
                      int64_t{1} << 40, -(int64_t{1} << 40)}) {
    const int64_t base = 2'000'000'000'000;
    const int64_t first_delta = int64_t{1} << 41;  // so that every dod keeps timestamps increasing
    ExpectRoundTrip({{base, 1}, {base + first_delta, 2}, {base + 2 * first_delta + dod, 3}});
  }
  ExpectRoundTrip({{std::numeric_limits<int64_t>::min() / 4, 1}, {0, 2}, {std::numeric_limits<int64_t>::max() / 4, 3}});
  ExpectRoundTrip({{-5000, 1}, {-4000, 2}, {-1, 3}, {0, 4}});
}

TEST(PrometheusXorChunkTest, SpecialValuesKeepTheirBits) {
  const double stale = std::bit_cast<double>(uint64_t{0x7ff0000000000002});
  const double values[] = {std::nan(""), stale, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(), -0.0, 0.0,
                           std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::lowest(), 1e-300, 42.5};
  std::vector<model::Sample> samples;
  int64_t t = 1000;
  for (double a : values) {
    for (double b : values) {
      samples.push_back({t += 15000, a});
      samples.push_back({t += 15000, b});
    }
  }
  samples.resize(120);
  ExpectRoundTrip(samples);
}

TEST(PrometheusXorChunkTest, RandomRoundTrips) {
  std::mt19937_64 random(7);
  for (int round = 0; round < 300; ++round) {
    std::vector<model::Sample> samples;
    int64_t t = static_cast<int64_t>(random() % 4'000'000'000'000) - 1'000'000'000'000;
    double v = static_cast<double>(random() % 1000);
    const int count = 1 + static_cast<int>(random() % 200);
    for (int i = 0; i < count; ++i) {
      switch (random() % 4) {
        case 0: t += 15000; break;
        case 1: t += 1 + static_cast<int64_t>(random() % 100000); break;
        case 2: t += 15000 + static_cast<int64_t>(random() % 7) - 3; break;
        default: t += 1 + static_cast<int64_t>(random() % (int64_t{1} << 36)); break;
      }
      switch (random() % 4) {
        case 0: break;
        case 1: v += 1; break;
        case 2: v = std::bit_cast<double>(random()); break;
        default: v = static_cast<double>(random() % 100) / 7; break;
      }
      samples.push_back({t, v});
    }
    ExpectRoundTrip(samples);
  }
}

TEST(PrometheusXorChunkTest, DamagedInputIsRefusedWithoutReadingOutside) {
  std::vector<model::Sample> samples;
  for (int i = 0; i < 120; ++i) samples.push_back({1'700'000'000'000 + i * 15'000 + (i % 3), i * 1.5});
  const std::string chunk = Encode(samples);
  std::vector<model::Sample> decoded;
  for (size_t length = 0; length < chunk.size(); ++length) {
    EXPECT_FALSE(DecodeXorChunk(chunk.substr(0, length), &decoded).ok()) << length;
  }
  EXPECT_FALSE(DecodeXorChunk(chunk + '\0', &decoded).ok());
  std::mt19937 random(3);
  for (int round = 0; round < 3000; ++round) {
    std::string damaged = chunk;
    damaged[random() % damaged.size()] ^= static_cast<char>(1 + random() % 255);
    (void)DecodeXorChunk(damaged, &decoded);  // must not crash (ASan checks reads)
  }
  EXPECT_FALSE(DecodeXorChunk(std::string("\xff\xff", 2), &decoded).ok());
}

}  // namespace
}  // namespace tsvault::prometheus_tsdb
