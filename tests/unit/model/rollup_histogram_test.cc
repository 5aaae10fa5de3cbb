// Native histogram rollup windows: built from raw histograms, merged into
// coarser windows and into ranges, they hold exactly what Prometheus'
// histogramRate and the other functions read from the raw samples.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "model/float_histogram.h"
#include "model/rollup.h"
#include "tests/support/histogram_series.h"
#include "tests/support/rollup_windows.h"

namespace tsvault::model {
namespace {

constexpr int64_t kStart = 1'700'000'000'000 / kResolution1d * kResolution1d;

struct Point {
  int64_t t;
  std::shared_ptr<const FloatHistogram> h;
};

// What PromQL reads: the histograms ToFloatHistogram accepts, stale markers left out.
std::vector<Point> Readable(const std::vector<Histogram>& series, int64_t from, int64_t to) {
  std::vector<Point> out;
  for (const Histogram& stored : series) {
    if (stored.timestamp_ms < from || stored.timestamp_ms > to || IsStaleHistogram(stored)) continue;
    auto h = std::make_shared<FloatHistogram>();
    if (ToFloatHistogram(stored, h.get())) out.push_back({stored.timestamp_ms, std::move(h)});
  }
  return out;
}

// The raw reference, folding one histogram at a time.
HistogramWindow Fold(const std::vector<Point>& points) {
  HistogramWindow w;
  for (size_t i = 0; i < points.size(); ++i) {
    const FloatHistogram& h = *points[i].h;
    if (i == 0) {
      w.first = points[i].h;
      w.first_t = points[i].t;
      w.min_schema = h.schema;
    } else {
      const FloatHistogram& previous = *points[i - 1].h;
      if (h.DetectReset(previous)) {
        ++w.resets;
        FloatHistogram sum = w.reset_compensation ? *w.reset_compensation : FloatHistogram();
        if (w.reset_compensation) {
          sum.Add(previous);
        } else {
          sum = previous;
          sum.reset_hint = CounterResetHint::kGauge;
        }
        w.reset_compensation = std::make_shared<const FloatHistogram>(sum);
      }
      if (h.zero_threshold != previous.zero_threshold) w.irregular_zero = true;
    }
    w.irregular_zero = w.irregular_zero || HasBucketsInZeroBucket(h);
    w.min_schema = std::min(w.min_schema, h.schema);
    w.last = points[i].h;
    w.last_t = points[i].t;
    ++w.count;
  }
  return w;
}

void ExpectSame(const HistogramWindow& actual, const HistogramWindow& expected, bool exact, const std::string& where) {
  ASSERT_EQ(actual.count, expected.count) << where;
  if (expected.count == 0) return;
  EXPECT_EQ(actual.first_t, expected.first_t) << where;
  EXPECT_EQ(actual.last_t, expected.last_t) << where;
  EXPECT_TRUE(testing::HistogramsClose(*actual.first, *expected.first, true)) << where;
  EXPECT_TRUE(testing::HistogramsClose(*actual.last, *expected.last, true)) << where;
  EXPECT_EQ(actual.min_schema, expected.min_schema) << where;
  EXPECT_EQ(actual.resets, expected.resets) << where;
  EXPECT_EQ(actual.irregular_zero, expected.irregular_zero) << where;
  ASSERT_EQ(!actual.reset_compensation, !expected.reset_compensation) << where;
  if (expected.reset_compensation) {
    EXPECT_TRUE(testing::HistogramsClose(*actual.reset_compensation, *expected.reset_compensation, exact)) << where;
  }
}

std::vector<Histogram> Series(uint64_t seed, int64_t days) {
  testing::HistogramSeriesOptions options;
  options.reset_probability = 0.02;
  options.zero_threshold_change = true;
  options.custom_buckets = true;
  return testing::RandomHistogramSeries(seed, kStart + 7, kStart + days * kResolution1d, 15'000, options);
}

std::vector<FloatWindow> Build(const std::vector<Histogram>& series, int64_t resolution) {
  FloatWindowBuilder builder(resolution);
  for (const Histogram& h : series) builder.AddHistogram(h.timestamp_ms, h);
  return builder.Finish();
}

TEST(RollupHistogramTest, EachWindowMatchesItsRawHistograms) {
  const std::vector<Histogram> series = Series(1, 2);
  const std::vector<FloatWindow> windows = Build(series, kResolution5m);
  size_t with_resets = 0, with_schema_change = 0;
  for (const FloatWindow& w : windows) {
    const std::vector<Point> inside = Readable(series, w.end_ms - kResolution5m + 1, w.end_ms);
    EXPECT_EQ(w.count, 0u);
    if (inside.empty()) {
      EXPECT_FALSE(w.histograms) << w.end_ms;
      EXPECT_TRUE(w.ends_stale) << "a window of markers or unreadable histograms only";
      continue;
    }
    ASSERT_TRUE(w.histograms);
    EXPECT_TRUE(w.has_histograms);
    ExpectSame(*w.histograms, Fold(inside), true, "window " + std::to_string(w.end_ms));
    with_resets += w.histograms->resets > 0;
    with_schema_change += w.histograms->min_schema < w.histograms->last->schema;
  }
  EXPECT_GT(windows.size(), 500u);
  EXPECT_GT(with_resets, 5u);
  EXPECT_GT(with_schema_change + with_resets, 5u);
}

TEST(RollupHistogramTest, CoarserWindowsFromFinerOnesMatchRaw) {
  const std::vector<Histogram> series = Series(2, 3);
  for (int64_t coarse : {kResolution1h, kResolution1d}) {
    std::vector<FloatWindow> cascaded;
    for (const FloatWindow& w : Build(series, kResolution5m)) {
      const int64_t end = WindowEnd(w.end_ms, coarse);
      if (cascaded.empty() || cascaded.back().end_ms != end) {
        cascaded.push_back(w);
      } else {
        MergeWindow(w, &cascaded.back());
      }
      cascaded.back().end_ms = end;
    }
    const std::vector<FloatWindow> direct = Build(series, coarse);
    ASSERT_EQ(cascaded.size(), direct.size());
    for (size_t i = 0; i < direct.size(); ++i) {
      ASSERT_EQ(!cascaded[i].histograms, !direct[i].histograms) << i;
      EXPECT_EQ(cascaded[i].ends_stale, direct[i].ends_stale) << i;
      if (direct[i].histograms) {
        ExpectSame(*cascaded[i].histograms, *direct[i].histograms, false, "coarse window " + std::to_string(i));
        ExpectSame(*direct[i].histograms,
                   Fold(Readable(series, direct[i].end_ms - coarse + 1, direct[i].end_ms)), true, "direct");
      }
    }
  }
}

// Prometheus' histogramRate on raw points (what query/engine computes).
FloatHistogram RawRate(const std::vector<Point>& points) {
  int32_t schema = points.front().h->schema;
  for (const Point& p : points) schema = std::min(schema, p.h->schema);
  FloatHistogram result = points.back().h->CopyToSchema(schema);
  result.Sub(*points.front().h);
  for (size_t i = 1; i < points.size(); ++i) {
    if (points[i].h->DetectReset(*points[i - 1].h)) result.Add(*points[i - 1].h);
  }
  return result;
}

TEST(RollupHistogramTest, RangesOfWindowsPlusTheBoundarySampleGiveTheRawRate) {
  testing::HistogramSeriesOptions options;
  options.reset_probability = 0.02;
  options.stale_marker = false;
  std::vector<Histogram> series =
      testing::RandomHistogramSeries(3, kStart, kStart + 2 * kResolution1d, 15'000, options);
  const std::vector<FloatWindow> windows = Build(series, kResolution5m);
  int ranges = 0, with_boundary = 0, with_resets = 0;
  for (int64_t t = kStart + kResolution1h; t <= kStart + 2 * kResolution1d; t += 7 * kResolution5m) {
    for (int64_t range : {kResolution5m, kResolution1h, 6 * kResolution1h}) {
      const std::vector<Point> inside = Readable(series, t - range, t);
      if (inside.size() < 2) continue;
      FloatWindow folded;
      folded.end_ms = t - range;
      for (const FloatWindow& w : windows) {
        if (w.end_ms == t - range) {
          FloatWindow boundary = BoundaryWindow(w, t - range);
          with_boundary += boundary.histograms != nullptr;
          MergeWindow(boundary, &folded);
        } else if (w.end_ms > t - range && w.end_ms <= t) {
          MergeWindow(w, &folded);
        }
      }
      ASSERT_TRUE(folded.histograms);
      const HistogramWindow& h = *folded.histograms;
      ExpectSame(h, Fold(inside), false, "range ending " + std::to_string(t));
      FloatHistogram rate = h.last->CopyToSchema(h.min_schema);
      rate.Sub(*h.first);
      if (h.resets > 0) rate.Add(*h.reset_compensation);
      FloatHistogram raw = RawRate(inside);
      raw.reset_hint = rate.reset_hint;
      // Integer counts: exact even where resets are summed per window.
      EXPECT_TRUE(testing::HistogramsClose(rate, raw, h.resets == 0)) << t << " " << range;
      EXPECT_EQ(rate.count, raw.count);
      ++ranges;
      with_resets += h.resets > 0;
    }
  }
  EXPECT_GT(ranges, 200);
  EXPECT_GT(with_resets, 50);
  EXPECT_GT(with_boundary, 0);
}

TEST(RollupHistogramTest, StaleAndUnreadableHistogramsOnlySetTheFlag) {
  std::vector<Histogram> series = testing::RandomHistogramSeries(4, kStart, kStart + 3600'000, 60'000, {});
  FloatWindowBuilder builder(kResolution5m);
  builder.AddHistogram(kStart + 1000, series[1]);
  Histogram marker;
  std::memcpy(&marker.sum, &kStaleNaNBits, sizeof(marker.sum));
  builder.AddHistogram(kStart + 2000, marker);
  Histogram custom = series[2];
  custom.schema = -53;  // custom buckets: PromQL 2.42 skips them
  builder.AddHistogram(kResolution5m + kStart + 1000, custom);
  builder.Add(2 * kResolution5m + kStart + 1000, 5);
  builder.AddHistogram(2 * kResolution5m + kStart + 2000, series[3]);
  const std::vector<FloatWindow> windows = builder.Finish();
  ASSERT_EQ(windows.size(), 3u);
  ASSERT_TRUE(windows[0].histograms);
  EXPECT_EQ(windows[0].histograms->count, 1u);
  EXPECT_TRUE(windows[0].ends_stale);
  EXPECT_FALSE(windows[1].has_histograms);
  EXPECT_EQ(windows[1].total_count(), 0u);
  EXPECT_TRUE(windows[1].ends_stale);
  // A window with both kinds: each kind keeps its own fields.
  EXPECT_EQ(windows[2].count, 1u);
  ASSERT_TRUE(windows[2].histograms);
  EXPECT_EQ(windows[2].histograms->count, 1u);
  EXPECT_FALSE(windows[2].ends_stale);
  FloatWindow all = windows[0];
  MergeWindow(windows[1], &all);
  MergeWindow(windows[2], &all);
  EXPECT_EQ(all.count, 1u);
  EXPECT_EQ(all.histograms->count, 2u);
  EXPECT_EQ(all.total_count(), 3u);
  EXPECT_EQ(all.histograms->last_t, 2 * kResolution5m + kStart + 2000);
}

TEST(RollupHistogramTest, UnknownHistogramsMakeTheMergeUnknown) {
  std::vector<FloatWindow> windows = Build(Series(5, 1), kResolution5m);
  ASSERT_GT(windows.size(), 3u);
  FloatWindow unknown = windows[1];
  unknown.histograms.reset();  // as read from a chunk written before histogram rollups
  ASSERT_TRUE(unknown.histograms_unknown());
  FloatWindow merged = windows[0];
  MergeWindow(unknown, &merged);
  EXPECT_TRUE(merged.histograms_unknown());
  MergeWindow(windows[2], &merged);
  EXPECT_TRUE(merged.histograms_unknown());
  FloatWindow other = unknown;
  MergeWindow(windows[2], &other);
  EXPECT_TRUE(other.histograms_unknown());
}

}  // namespace
}  // namespace tsvault::model
