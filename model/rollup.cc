#include "model/rollup.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "model/kahan_sum.h"
#include "model/value.h"

namespace tsvault::model {

namespace {

bool IsStaleMarker(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits == kStaleNaNBits;
}

// Prometheus' changes(): NaN followed by NaN is no change.
bool Changed(double previous, double current) {
  return !(current == previous || (std::isnan(current) && std::isnan(previous)));
}

}  // namespace

const char* ResolutionName(int64_t resolution_ms) {
  switch (resolution_ms) {
    case 0: return "raw";
    case kResolution5m: return "5m";
    case kResolution1h: return "1h";
    case kResolution1d: return "1d";
    default: return "unknown";
  }
}

int64_t WindowEnd(int64_t t, int64_t resolution_ms) {
  int64_t remainder = t % resolution_ms;
  if (remainder < 0) remainder += resolution_ms;
  return remainder == 0 ? t : t - remainder + resolution_ms;
}

int64_t WindowFloor(int64_t t, int64_t resolution_ms) {
  int64_t remainder = t % resolution_ms;
  if (remainder < 0) remainder += resolution_ms;
  return t - remainder;
}

bool FloatWindow::operator==(const FloatWindow& other) const {
  auto same = [](double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); };
  const bool same_histograms = histograms == other.histograms ||
                               (histograms && other.histograms && *histograms == *other.histograms);
  return end_ms == other.end_ms && count == other.count && first_t == other.first_t && same(first_v, other.first_v) &&
         last_t == other.last_t && same(last_v, other.last_v) && same(min, other.min) && same(max, other.max) &&
         same(sum, other.sum) && same(sum_compensation, other.sum_compensation) &&
         same(reset_compensation, other.reset_compensation) && resets == other.resets && changes == other.changes &&
         ends_stale == other.ends_stale && has_histograms == other.has_histograms && same_histograms;
}

namespace {

// The histogram part of MergeWindow.
void MergeHistogramParts(const FloatWindow& later, FloatWindow* into) {
  if (into->histograms_unknown() || later.histograms_unknown()) {
    into->has_histograms = true;
    into->histograms.reset();
    return;
  }
  if (!later.histograms) return;
  into->has_histograms = true;
  if (!into->histograms) {
    into->histograms = later.histograms;
    return;
  }
  auto merged = std::make_shared<HistogramWindow>(*into->histograms);
  MergeHistogramWindow(*later.histograms, merged.get());
  into->histograms = std::move(merged);
}

}  // namespace

void MergeWindow(const FloatWindow& later, FloatWindow* earlier) {
  FloatWindow& into = *earlier;
  MergeHistogramParts(later, &into);
  into.end_ms = later.end_ms;
  into.ends_stale = later.ends_stale;
  if (later.count == 0) return;
  if (into.count == 0) {
    const bool has_histograms = into.has_histograms;
    std::shared_ptr<const HistogramWindow> histograms = std::move(into.histograms);
    into = later;
    into.has_histograms = has_histograms;
    into.histograms = std::move(histograms);
    return;
  }
  // The pair across: into's last sample, then later's first.
  if (later.first_v < into.last_v) {
    into.reset_compensation += into.last_v;
    ++into.resets;
  }
  if (Changed(into.last_v, later.first_v)) ++into.changes;
  into.reset_compensation += later.reset_compensation;
  into.resets += later.resets;
  into.changes += later.changes;
  if (later.min < into.min || std::isnan(into.min)) into.min = later.min;
  if (later.max > into.max || std::isnan(into.max)) into.max = later.max;
  KahanAdd(later.sum, &into.sum, &into.sum_compensation);
  into.sum_compensation += later.sum_compensation;
  into.count += later.count;
  into.last_t = later.last_t;
  into.last_v = later.last_v;
}

FloatWindow BoundaryWindow(const FloatWindow& window, int64_t at) {
  FloatWindow boundary;
  boundary.end_ms = at;
  if (window.count > 0 && window.last_t == at) {
    boundary.count = 1;
    boundary.first_t = boundary.last_t = at;
    boundary.first_v = boundary.last_v = boundary.min = boundary.max = window.last_v;
    KahanAdd(window.last_v, &boundary.sum, &boundary.sum_compensation);
  } else if (window.histograms && window.histograms->count > 0 && window.histograms->last_t == at) {
    boundary.has_histograms = true;
    boundary.histograms = std::make_shared<const HistogramWindow>(OneHistogramWindow(at, window.histograms->last));
  }
  return boundary;
}

FloatWindow& FloatWindowBuilder::WindowFor(int64_t t) {
  const int64_t end = WindowEnd(t, resolution_ms_);
  if (windows_.empty() || windows_.back().end_ms != end) {
    if (!windows_.empty()) CloseHistograms();
    windows_.emplace_back();
    windows_.back().end_ms = end;
    has_previous_ = false;
  }
  return windows_.back();
}

void FloatWindowBuilder::Add(int64_t t, double value) {
  FloatWindow& window = WindowFor(t);
  if (IsStaleMarker(value)) {
    window.ends_stale = true;
    return;
  }
  window.ends_stale = false;
  if (!has_previous_) {
    window.count = 1;
    window.first_t = window.last_t = t;
    window.first_v = window.last_v = window.min = window.max = value;
    window.sum = 0;
    window.sum_compensation = 0;
    KahanAdd(value, &window.sum, &window.sum_compensation);
    has_previous_ = true;
    return;
  }
  if (value < window.last_v) {
    window.reset_compensation += window.last_v;
    ++window.resets;
  }
  if (Changed(window.last_v, value)) ++window.changes;
  if (value < window.min || std::isnan(window.min)) window.min = value;
  if (value > window.max || std::isnan(window.max)) window.max = value;
  KahanAdd(value, &window.sum, &window.sum_compensation);
  ++window.count;
  window.last_t = t;
  window.last_v = value;
}

std::vector<FloatWindow> FloatWindowBuilder::Finish() {
  if (!windows_.empty()) CloseHistograms();
  std::vector<FloatWindow> out;
  out.swap(windows_);
  has_previous_ = false;
  return out;
}

}  // namespace tsvault::model
