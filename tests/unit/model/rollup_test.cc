// Rollup windows: built from raw samples, merged into coarser windows and
// into ranges, they give exactly what folding the raw samples gives.
#include "model/rollup.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "model/kahan_sum.h"
#include "model/value.h"

namespace tsvault::model {
namespace {

double StaleMarker() {
  double value;
  std::memcpy(&value, &kStaleNaNBits, sizeof(value));
  return value;
}

bool IsStale(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits == kStaleNaNBits;
}

// The raw reference: Prometheus' folds over the non-stale samples.
struct Reference {
  uint32_t count = 0;
  int64_t first_t = 0, last_t = 0;
  double first_v = 0, last_v = 0, min = 0, max = 0, sum = 0, reset_compensation = 0;
  uint32_t resets = 0, changes = 0;
};

Reference Fold(const std::vector<Sample>& samples) {
  Reference r;
  double sum = 0, c = 0, last_value = 0;
  for (const Sample& s : samples) {
    if (IsStale(s.value)) continue;
    if (r.count == 0) {
      r.first_t = s.timestamp_ms;
      r.first_v = r.min = r.max = s.value;
    } else {
      if (s.value < r.last_v) ++r.resets;
      if (!(s.value == r.last_v || (std::isnan(s.value) && std::isnan(r.last_v)))) ++r.changes;
    }
    // extrapolatedRate's loop: starts from 0, adds the previous value on a drop.
    if (s.value < last_value) r.reset_compensation += last_value;
    last_value = s.value;
    if (s.value < r.min || std::isnan(r.min)) r.min = s.value;
    if (s.value > r.max || std::isnan(r.max)) r.max = s.value;
    KahanAdd(s.value, &sum, &c);
    ++r.count;
    r.last_t = s.timestamp_ms;
    r.last_v = s.value;
  }
  r.sum = sum + c;
  return r;
}

bool SameDouble(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(a)) == 0;
}

bool Close(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-12 * std::max({std::fabs(a), std::fabs(b), 1.0});
}

void ExpectMatches(const FloatWindow& w, const Reference& r, const std::string& where) {
  ASSERT_EQ(w.count, r.count) << where;
  if (r.count == 0) return;
  EXPECT_EQ(w.first_t, r.first_t) << where;
  EXPECT_EQ(w.last_t, r.last_t) << where;
  EXPECT_TRUE(SameDouble(w.first_v, r.first_v)) << where;
  EXPECT_TRUE(SameDouble(w.last_v, r.last_v)) << where;
  EXPECT_TRUE(SameDouble(w.min, r.min)) << where << " min " << w.min << " vs " << r.min;
  EXPECT_TRUE(SameDouble(w.max, r.max)) << where << " max " << w.max << " vs " << r.max;
  EXPECT_EQ(w.resets, r.resets) << where;
  EXPECT_EQ(w.changes, r.changes) << where;
  EXPECT_TRUE(Close(w.sum + w.sum_compensation, r.sum)) << where << " sum " << w.sum + w.sum_compensation << " vs " << r.sum;
  EXPECT_TRUE(Close(w.reset_compensation, r.reset_compensation))
      << where << " R " << w.reset_compensation << " vs " << r.reset_compensation;
}

// A series with what real data has: a counter with resets, NaN, ±Inf,
// negative zero, gaps, ms jitter, and stale markers (a series that ends and
// comes back).
std::vector<Sample> RandomSeries(std::mt19937_64* rng, int64_t start, int64_t end) {
  std::vector<Sample> out;
  double counter = 1000;
  for (int64_t t = start; t < end;) {
    const uint64_t roll = (*rng)() % 1000;
    double value;
    if (roll < 8) {
      value = StaleMarker();
    } else if (roll < 12) {
      value = NAN;
    } else if (roll < 14) {
      value = roll % 2 ? INFINITY : -0.0;
    } else if (roll < 30) {
      counter = static_cast<double>((*rng)() % 50);  // a reset
      value = counter;
    } else {
      counter += static_cast<double>((*rng)() % 100) / 8;
      value = (roll % 3 == 0) ? counter : static_cast<double>((*rng)() % 7);  // plateaus too
    }
    out.push_back({t, value});
    t += 15'000 + static_cast<int64_t>((*rng)() % 3) - 1;
    if ((*rng)() % 200 == 0) t += 40 * 60'000;  // a long gap
  }
  return out;
}

TEST(RollupTest, WindowEndIsTheNextMultiple) {
  EXPECT_EQ(WindowEnd(0, kResolution5m), 0);
  EXPECT_EQ(WindowEnd(1, kResolution5m), kResolution5m);
  EXPECT_EQ(WindowEnd(kResolution5m, kResolution5m), kResolution5m);
  EXPECT_EQ(WindowEnd(kResolution5m + 1, kResolution5m), 2 * kResolution5m);
  EXPECT_EQ(WindowEnd(-1, kResolution5m), 0);
  EXPECT_EQ(WindowEnd(-kResolution5m, kResolution5m), -kResolution5m);
  EXPECT_EQ(WindowEnd(-kResolution5m - 1, kResolution5m), -kResolution5m);
}

TEST(RollupTest, EachWindowMatchesItsRawSamples) {
  std::mt19937_64 rng(5);
  const int64_t start = 1'700'000'000'000;
  std::vector<Sample> samples = RandomSeries(&rng, start, start + 2 * kResolution1d);
  FloatWindowBuilder builder(kResolution5m);
  for (const Sample& s : samples) builder.Add(s.timestamp_ms, s.value);
  std::vector<FloatWindow> windows = builder.Finish();
  size_t next = 0;
  for (const FloatWindow& w : windows) {
    std::vector<Sample> inside;
    bool any_raw = false;
    while (next < samples.size() && samples[next].timestamp_ms <= w.end_ms) {
      ASSERT_GT(samples[next].timestamp_ms, w.end_ms - kResolution5m);
      inside.push_back(samples[next++]);
      any_raw = true;
    }
    ASSERT_TRUE(any_raw) << "a window without raw samples was emitted";
    ExpectMatches(w, Fold(inside), "window " + std::to_string(w.end_ms));
    EXPECT_EQ(w.ends_stale, IsStale(inside.back().value));
  }
  EXPECT_EQ(next, samples.size());
  EXPECT_GT(windows.size(), 250u);  // two days of 5m windows, less the gaps
}

TEST(RollupTest, CoarserWindowsFromFinerOnesMatchRaw) {
  std::mt19937_64 rng(6);
  const int64_t start = 1'700'000'000'000;
  std::vector<Sample> samples = RandomSeries(&rng, start, start + 3 * kResolution1d);
  FloatWindowBuilder five_minutes(kResolution5m), hours(kResolution1h);
  for (const Sample& s : samples) {
    five_minutes.Add(s.timestamp_ms, s.value);
    hours.Add(s.timestamp_ms, s.value);
  }
  std::vector<FloatWindow> from_raw = hours.Finish();
  std::vector<FloatWindow> cascaded;
  for (const FloatWindow& w : five_minutes.Finish()) {
    const int64_t hour = WindowEnd(w.end_ms, kResolution1h);
    if (cascaded.empty() || cascaded.back().end_ms != hour) {
      cascaded.push_back(w);
      cascaded.back().end_ms = hour;
    } else {
      MergeWindow(w, &cascaded.back());
      cascaded.back().end_ms = hour;
    }
  }
  ASSERT_EQ(cascaded.size(), from_raw.size());
  for (size_t i = 0; i < cascaded.size(); ++i) {
    const FloatWindow& a = cascaded[i];
    const FloatWindow& b = from_raw[i];
    EXPECT_EQ(a.end_ms, b.end_ms);
    EXPECT_EQ(a.ends_stale, b.ends_stale) << i;
    Reference r{b.count, b.first_t, b.last_t, b.first_v, b.last_v, b.min, b.max,
                b.sum + b.sum_compensation, b.reset_compensation, b.resets, b.changes};
    ExpectMatches(a, r, "hour " + std::to_string(i));
  }
}

TEST(RollupTest, RangesOfWholeWindowsPlusTheBoundarySampleMatchRaw) {
  std::mt19937_64 rng(7);
  const int64_t start = 1'700'000'000'000 / kResolution1h * kResolution1h;
  std::vector<Sample> samples = RandomSeries(&rng, start, start + 2 * kResolution1d);
  // Put samples exactly on window boundaries now and then.
  for (size_t i = 0; i < samples.size(); i += 37) {
    samples[i].timestamp_ms = WindowEnd(samples[i].timestamp_ms, kResolution5m);
    if (i > 0 && samples[i].timestamp_ms <= samples[i - 1].timestamp_ms) samples[i].timestamp_ms = samples[i - 1].timestamp_ms + 1;
    if (i + 1 < samples.size() && samples[i].timestamp_ms >= samples[i + 1].timestamp_ms) samples[i].timestamp_ms = samples[i + 1].timestamp_ms - 1;
  }
  FloatWindowBuilder builder(kResolution5m);
  for (const Sample& s : samples) builder.Add(s.timestamp_ms, s.value);
  const std::vector<FloatWindow> windows = builder.Finish();

  int ranges_with_boundary = 0;
  for (int64_t t = start + kResolution1h; t <= start + 2 * kResolution1d; t += kResolution5m * 7) {
    for (int64_t range : {kResolution5m, 3 * kResolution5m, kResolution1h}) {
      // Raw: [t - range, t], both ends inclusive (Prometheus 2.42).
      std::vector<Sample> inside;
      for (const Sample& s : samples) {
        if (s.timestamp_ms >= t - range && s.timestamp_ms <= t) inside.push_back(s);
      }
      // Rollups: the boundary sample, then the windows ending in (t - range, t].
      FloatWindow folded;
      folded.end_ms = t - range;
      bool boundary = false;
      for (const FloatWindow& w : windows) {
        if (w.end_ms == t - range) {
          const FloatWindow sample_window = BoundaryWindow(w, t - range);
          MergeWindow(sample_window, &folded);
          boundary = boundary || sample_window.count > 0;
        }
        if (w.end_ms > t - range && w.end_ms <= t) MergeWindow(w, &folded);
      }
      ranges_with_boundary += boundary;
      ExpectMatches(folded, Fold(inside), "range ending " + std::to_string(t) + " of " + std::to_string(range));
    }
  }
  EXPECT_GT(ranges_with_boundary, 5);
}

TEST(RollupTest, StaleMarkersOnlySetTheFlag) {
  FloatWindowBuilder builder(kResolution5m);
  builder.Add(1000, 5);
  builder.Add(2000, StaleMarker());
  builder.Add(kResolution5m + 1000, StaleMarker());  // a window of markers only
  builder.Add(2 * kResolution5m + 1000, StaleMarker());
  builder.Add(2 * kResolution5m + 2000, 7);  // the series comes back
  const std::vector<FloatWindow> windows = builder.Finish();
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows[0].count, 1u);
  EXPECT_TRUE(windows[0].ends_stale);
  EXPECT_EQ(windows[1].count, 0u);
  EXPECT_TRUE(windows[1].ends_stale);
  EXPECT_EQ(windows[2].count, 1u);
  EXPECT_FALSE(windows[2].ends_stale);
  EXPECT_EQ(windows[2].first_v, 7);
  // Merging over a marker-only window pairs the samples on either side.
  FloatWindow all = windows[0];
  MergeWindow(windows[1], &all);
  MergeWindow(windows[2], &all);
  EXPECT_EQ(all.count, 2u);
  EXPECT_EQ(all.changes, 1u);
  EXPECT_EQ(all.resets, 0u);
  EXPECT_FALSE(all.ends_stale);
}

}  // namespace
}  // namespace tsvault::model
