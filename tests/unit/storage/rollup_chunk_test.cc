// Rollup chunks: windows round-trip bit for bit, and damaged input is
// reported, never trusted.
#include "storage/chunkenc/rollup_chunk.h"

#include "storage/chunkenc/chunk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "model/value.h"
#include "tests/support/histogram_series.h"

namespace tsvault::storage {
namespace {

using model::FloatWindow;

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

bool SameWindow(const FloatWindow& a, const FloatWindow& b) {
  return a.end_ms == b.end_ms && a.count == b.count && a.ends_stale == b.ends_stale &&
         a.has_histograms == b.has_histograms && !a.histograms == !b.histograms &&
         (!a.histograms || *a.histograms == *b.histograms) &&
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
      // A histogram stale marker (float series end with one when they turn
      // into histograms) or a malformed histogram: both only end the window stale.
      model::Histogram marker;
      std::memcpy(&marker.sum, &model::kStaleNaNBits, sizeof(marker.sum));
      if (rng() % 2 == 0) {
        marker.schema = 99;
        marker.sum = 0;
      }
      builder.AddHistogram(t, marker);
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

// Windows of native histogram series (model/rollup.h) with every case the
// generator has, plus float windows in between.
std::vector<FloatWindow> HistogramWindows(uint64_t seed, int64_t resolution, int64_t days) {
  testing::HistogramSeriesOptions options;
  options.zero_threshold_change = true;
  options.custom_buckets = true;
  const int64_t start = 1'700'000'000'000 / model::kResolution1d * model::kResolution1d;
  std::vector<model::Histogram> series =
      testing::RandomHistogramSeries(seed, start, start + days * model::kResolution1d, 15'000, options);
  model::FloatWindowBuilder builder(resolution);
  for (const model::Histogram& h : series) {
    builder.AddHistogram(h.timestamp_ms, h);
    // A float sample 1 ms later in a few windows: windows with both kinds.
    if (h.timestamp_ms % (7 * 15'000) == 0) builder.Add(h.timestamp_ms + 1, static_cast<double>(h.timestamp_ms % 13));
  }
  return builder.Finish();
}

TEST(RollupChunkTest, HistogramWindowsRoundTripAsEncoding4) {
  {
    // What the raw samples of the same series take, for comparison: chunks
    // of 120 samples, as the head cuts them.
    testing::HistogramSeriesOptions options;
    options.zero_threshold_change = true;
    const std::vector<model::Histogram> raw =
        testing::RandomHistogramSeries(11, 0, 2 * model::kResolution1d, 15'000, options);
    size_t bytes = 0;
    for (size_t begin = 0; begin < raw.size(); begin += 120) {
      HistogramChunkAppender appender;
      for (size_t i = begin; i < std::min(begin + 120, raw.size()); ++i) appender.Append(raw[i]);
      bytes += appender.bytes().size();
    }
    std::cout << "raw histogram chunks: " << static_cast<double>(bytes) / static_cast<double>(raw.size())
              << " bytes per sample\n";
  }
  for (int64_t resolution : {model::kResolution5m, model::kResolution1h, model::kResolution1d}) {
    const std::vector<FloatWindow> windows = HistogramWindows(11, resolution, resolution == model::kResolution1d ? 41 : 2);
    size_t with_resets = 0, with_floats = 0, irregular = 0;
    for (const FloatWindow& w : windows) {
      if (w.histograms && w.histograms->resets > 0) ++with_resets;
      if (w.histograms && w.count > 0) ++with_floats;
      if (w.histograms && w.histograms->irregular_zero) ++irregular;
    }
    EXPECT_GT(with_resets, 0u);
    EXPECT_GT(with_floats, 0u);
    EXPECT_GT(irregular, 0u);
    for (size_t begin = 0; begin < windows.size(); begin += 288) {
      const std::vector<FloatWindow> part(windows.begin() + static_cast<ptrdiff_t>(begin),
                                          windows.begin() + static_cast<ptrdiff_t>(std::min(begin + 288, windows.size())));
      std::string chunk;
      Status status = EncodeRollupChunk(resolution, part, &chunk);
      ASSERT_TRUE(status.ok()) << status.ToString();
      const bool described = std::any_of(part.begin(), part.end(), [](const FloatWindow& w) { return w.histograms; });
      ASSERT_EQ(chunk[0], described ? 4 : 3);
      int64_t decoded_resolution = 0;
      std::vector<FloatWindow> decoded;
      status = DecodeRollupChunk(chunk, &decoded_resolution, &decoded);
      ASSERT_TRUE(status.ok()) << status.ToString();
      ASSERT_EQ(decoded.size(), part.size());
      for (size_t i = 0; i < part.size(); ++i) ASSERT_TRUE(decoded[i] == part[i]) << resolution << " " << begin + i;
      if (begin == 0) {
        std::cout << "histogram rollup chunk at " << resolution / 60000 << " min: "
                  << static_cast<double>(chunk.size()) / static_cast<double>(part.size()) << " bytes per window\n";
      }
    }
  }
}

TEST(RollupChunkTest, FloatOnlyChunksStayEncoding3AndUnknownHistogramsSurvive) {
  std::vector<FloatWindow> windows = Windows(5, model::kResolution5m, 2000);
  std::string chunk;
  ASSERT_TRUE(EncodeRollupChunk(model::kResolution5m, windows, &chunk).ok());
  EXPECT_EQ(chunk[0], 3);
  // Windows written before histogram rollups: the flag without a record.
  windows[1].has_histograms = true;
  ASSERT_TRUE(EncodeRollupChunk(model::kResolution5m, windows, &chunk).ok());
  EXPECT_EQ(chunk[0], 3);
  int64_t resolution;
  std::vector<FloatWindow> decoded;
  ASSERT_TRUE(DecodeRollupChunk(chunk, &resolution, &decoded).ok());
  EXPECT_TRUE(decoded[1].histograms_unknown());
  // Beside described histograms, an unknown window stays unknown in encoding 4.
  std::vector<FloatWindow> mixed = HistogramWindows(3, model::kResolution5m, 1);
  mixed.resize(100);
  mixed[7].histograms.reset();
  ASSERT_TRUE(mixed[7].has_histograms);
  ASSERT_TRUE(EncodeRollupChunk(model::kResolution5m, mixed, &chunk).ok());
  EXPECT_EQ(chunk[0], 4);
  ASSERT_TRUE(DecodeRollupChunk(chunk, &resolution, &decoded).ok());
  ASSERT_EQ(decoded.size(), mixed.size());
  for (size_t i = 0; i < mixed.size(); ++i) EXPECT_TRUE(decoded[i] == mixed[i]) << i;
  EXPECT_TRUE(decoded[7].histograms_unknown());
}

TEST(RollupChunkTest, EncoderRefusesInconsistentHistogramWindows) {
  std::vector<FloatWindow> windows = HistogramWindows(4, model::kResolution5m, 1);
  windows.resize(1);
  std::string chunk;
  ASSERT_TRUE(EncodeRollupChunk(model::kResolution5m, windows, &chunk).ok());
  auto broken = [&](auto change) {
    std::vector<FloatWindow> copy = windows;
    auto h = std::make_shared<model::HistogramWindow>(*copy[0].histograms);
    change(h.get());
    copy[0].histograms = h;
    return EncodeRollupChunk(model::kResolution5m, copy, &chunk).IsInvalidArgument();
  };
  EXPECT_TRUE(broken([](model::HistogramWindow* h) { h->first_t = h->last_t + 1; }));
  EXPECT_TRUE(broken([](model::HistogramWindow* h) { h->last_t += model::kResolution5m; }));
  EXPECT_TRUE(broken([](model::HistogramWindow* h) { h->resets = h->count; }));
  EXPECT_TRUE(broken([](model::HistogramWindow* h) { h->min_schema = 9; }));
  EXPECT_TRUE(broken([](model::HistogramWindow* h) { h->count = 0; }));
}

TEST(RollupChunkTest, DamagedHistogramChunksAreReportedNotTrusted) {
  std::vector<FloatWindow> windows = HistogramWindows(8, model::kResolution5m, 1);
  windows.resize(60);
  std::string chunk;
  ASSERT_TRUE(EncodeRollupChunk(model::kResolution5m, windows, &chunk).ok());
  int64_t resolution;
  std::vector<FloatWindow> decoded;
  for (size_t length = 0; length < chunk.size(); ++length) {
    EXPECT_TRUE(DecodeRollupChunk(std::string_view(chunk).substr(0, length), &resolution, &decoded).IsCorruption())
        << length;
  }
  // A change either fails cleanly or decodes to windows that re-encode:
  // every decoded window obeys the encoder's rules.
  std::mt19937_64 rng(5);
  size_t decoded_ok = 0;
  for (int trial = 0; trial < 20'000; ++trial) {
    std::string damaged = chunk;
    damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    Status status = DecodeRollupChunk(damaged, &resolution, &decoded);
    if (!status.ok()) {
      EXPECT_TRUE(status.IsCorruption()) << status.ToString();
      continue;
    }
    ++decoded_ok;
    std::string again;
    Status reencoded = EncodeRollupChunk(resolution, decoded, &again);
    EXPECT_TRUE(reencoded.ok()) << reencoded.ToString();
  }
  EXPECT_GT(decoded_ok, 0u);
}

}  // namespace
}  // namespace tsvault::storage
