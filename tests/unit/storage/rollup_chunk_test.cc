// Rollup chunks: windows round-trip bit for bit, and damaged input is
// reported, never trusted.
#include "storage/chunkenc/rollup_chunk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "model/value.h"

namespace tsvault::storage {
namespace {

using model::FloatWindow;

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

bool SameWindow(const FloatWindow& a, const FloatWindow& b) {
  return a.end_ms == b.end_ms && a.count == b.count && a.ends_stale == b.ends_stale &&
         a.has_histograms == b.has_histograms &&
         (a.count == 0 ||
          (a.first_t == b.first_t && a.last_t == b.last_t && SameBits(a.first_v, b.first_v) &&
           SameBits(a.last_v, b.last_v) && SameBits(a.min, b.min) && SameBits(a.max, b.max) &&
           SameBits(a.sum, b.sum) && SameBits(a.sum_compensation, b.sum_compensation) &&
           SameBits(a.reset_compensation, b.reset_compensation) && a.resets == b.resets && a.changes == b.changes));
}

// Windows of a realistic mix: counters with resets, gauges, NaN, stale
// markers, gaps.
std::vector<FloatWindow> Windows(uint64_t seed, int64_t resolution, size_t samples) {
  std::mt19937_64 rng(seed);
  model::FloatWindowBuilder builder(resolution);
  double stale;
  std::memcpy(&stale, &model::kStaleNaNBits, sizeof(stale));
  double counter = 0;
  int64_t t = 1'700'000'000'123;
  for (size_t i = 0; i < samples; ++i) {
    const uint64_t roll = rng() % 100;
    double value = roll < 2 ? stale : roll < 4 ? NAN : roll < 8 ? (counter = 3) : (counter += (rng() % 1000) / 4.0);
    if (rng() % 500 == 0) {
      builder.AddHistogram(t, rng() % 2 == 0);
    } else {
      builder.Add(t, value);
    }
    t += 15'000 + static_cast<int64_t>(rng() % 5);
    if (rng() % 300 == 0) t += 3 * resolution;
  }
  return builder.Finish();
}

TEST(RollupChunkTest, RoundTripsEveryFieldBitForBit) {
  for (int64_t resolution : {model::kResolution5m, model::kResolution1h, model::kResolution1d}) {
    std::vector<FloatWindow> windows = Windows(static_cast<uint64_t>(resolution), resolution, 20'000);
    ASSERT_GT(windows.size(), 2u);
    std::string chunk;
    ASSERT_TRUE(EncodeRollupChunk(resolution, windows, &chunk).ok());
    int64_t decoded_resolution = 0;
    std::vector<FloatWindow> decoded;
    Status status = DecodeRollupChunk(chunk, &decoded_resolution, &decoded);
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(decoded_resolution, resolution);
    ASSERT_EQ(decoded.size(), windows.size());
    for (size_t i = 0; i < windows.size(); ++i) ASSERT_TRUE(SameWindow(decoded[i], windows[i])) << i;
    std::cout << "rollup chunk at " << resolution / 60000 << " min: " << windows.size() << " windows, "
              << static_cast<double>(chunk.size()) / static_cast<double>(windows.size()) << " bytes per window\n";
  }
}

TEST(RollupChunkTest, NegativeTimesAndExtremeValues) {
  std::vector<FloatWindow> windows(3);
  windows[0].end_ms = -2 * model::kResolution5m;
  windows[0].count = 1;
  windows[0].first_t = windows[0].last_t = windows[0].end_ms;
  windows[0].first_v = windows[0].last_v = windows[0].min = windows[0].max = -0.0;
  windows[1].end_ms = 0;
  windows[1].ends_stale = true;  // markers only
  windows[2].end_ms = 7 * model::kResolution5m;
  windows[2].count = 3;
  windows[2].first_t = windows[2].end_ms - model::kResolution5m + 1;
  windows[2].last_t = windows[2].end_ms;
  windows[2].first_v = INFINITY;
  windows[2].last_v = 1e-310;
  windows[2].min = 1e-310;
  windows[2].max = INFINITY;
  windows[2].sum = INFINITY;
  windows[2].sum_compensation = NAN;
  windows[2].reset_compensation = INFINITY;
  windows[2].resets = 2;
  windows[2].changes = 2;
  std::string chunk;
  ASSERT_TRUE(EncodeRollupChunk(model::kResolution5m, windows, &chunk).ok());
  int64_t resolution;
  std::vector<FloatWindow> decoded;
  ASSERT_TRUE(DecodeRollupChunk(chunk, &resolution, &decoded).ok());
  ASSERT_EQ(decoded.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(SameWindow(decoded[i], windows[i])) << i;
}

TEST(RollupChunkTest, EncoderRefusesInconsistentWindows) {
  std::string chunk;
  FloatWindow w;
  w.end_ms = model::kResolution5m;
  w.count = 1;
  w.first_t = w.last_t = 0;  // outside (0, 5m]
  EXPECT_TRUE(EncodeRollupChunk(model::kResolution5m, {w}, &chunk).IsInvalidArgument());
  w.first_t = w.last_t = 1;
  EXPECT_TRUE(EncodeRollupChunk(7 * 60'000, {w}, &chunk).IsInvalidArgument());  // no such resolution
  EXPECT_TRUE(EncodeRollupChunk(model::kResolution5m, {w, w}, &chunk).IsInvalidArgument());  // not increasing
  EXPECT_TRUE(EncodeRollupChunk(model::kResolution5m, {}, &chunk).IsInvalidArgument());
  FloatWindow empty;
  empty.end_ms = model::kResolution5m;
  EXPECT_TRUE(EncodeRollupChunk(model::kResolution5m, {empty}, &chunk).IsInvalidArgument());  // neither samples nor marker
  w.end_ms = model::kResolution5m + 1;
  EXPECT_TRUE(EncodeRollupChunk(model::kResolution5m, {w}, &chunk).IsInvalidArgument());  // not aligned
}

TEST(RollupChunkTest, DamagedChunksAreReportedNotTrusted) {
  const std::vector<FloatWindow> windows = Windows(9, model::kResolution5m, 3000);
  std::string chunk;
  ASSERT_TRUE(EncodeRollupChunk(model::kResolution5m, windows, &chunk).ok());
  int64_t resolution;
  std::vector<FloatWindow> decoded;
  for (size_t length = 0; length < chunk.size(); ++length) {
    EXPECT_TRUE(DecodeRollupChunk(std::string_view(chunk).substr(0, length), &resolution, &decoded).IsCorruption())
        << length;
  }
  EXPECT_TRUE(DecodeRollupChunk(chunk + std::string(1, '\0'), &resolution, &decoded).IsCorruption());
  // Every single-byte change either fails cleanly or decodes to windows that
  // still obey the format's rules (no crash, no out-of-window times).
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 20'000; ++trial) {
    std::string damaged = chunk;
    damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    Status status = DecodeRollupChunk(damaged, &resolution, &decoded);
    if (!status.ok()) {
      EXPECT_TRUE(status.IsCorruption()) << status.ToString();
      continue;
    }
    for (size_t i = 0; i < decoded.size(); ++i) {
      const FloatWindow& w = decoded[i];
      if (i > 0) {
        ASSERT_GT(w.end_ms, decoded[i - 1].end_ms);
      }
      if (w.count == 0) continue;
      ASSERT_GT(w.first_t, w.end_ms - resolution);
      ASSERT_LE(w.last_t, w.end_ms);
      ASSERT_LE(w.first_t, w.last_t);
    }
  }
}

}  // namespace
}  // namespace tsvault::storage
