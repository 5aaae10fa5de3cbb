// Native histogram windows (model/rollup.h): one window per sample, merged
// in time order with Prometheus' histogramRate rules for resets.
#include <algorithm>
#include <bit>

#include "model/rollup.h"

namespace tsvault::model {

namespace {

bool SameHistogram(const std::shared_ptr<const FloatHistogram>& a, const std::shared_ptr<const FloatHistogram>& b) {
  if (a == b) return true;
  if (!a || !b) return false;
  // Bitwise on the floats, so NaN sums compare equal to themselves.
  auto same_buckets = [](const std::vector<HistogramBucket>& x, const std::vector<HistogramBucket>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].index != y[i].index || std::bit_cast<uint64_t>(x[i].count) != std::bit_cast<uint64_t>(y[i].count)) {
        return false;
      }
    }
    return true;
  };
  auto bits = [](double v) { return std::bit_cast<uint64_t>(v); };
  return a->schema == b->schema && a->reset_hint == b->reset_hint && bits(a->zero_threshold) == bits(b->zero_threshold) &&
         bits(a->zero_count) == bits(b->zero_count) && bits(a->count) == bits(b->count) && bits(a->sum) == bits(b->sum) &&
         same_buckets(a->positive, b->positive) && same_buckets(a->negative, b->negative);
}

// Adds h to the reset compensation of *window (copying it on first use).
void AddToCompensation(const FloatHistogram& h, HistogramWindow* window) {
  FloatHistogram sum;
  if (window->reset_compensation) {
    sum = *window->reset_compensation;
    sum.Add(h);
  } else {
    sum = h;
    sum.reset_hint = CounterResetHint::kGauge;
  }
  window->reset_compensation = std::make_shared<const FloatHistogram>(std::move(sum));
}

}  // namespace

bool HistogramWindow::operator==(const HistogramWindow& other) const {
  return count == other.count && first_t == other.first_t && last_t == other.last_t &&
         SameHistogram(first, other.first) && SameHistogram(last, other.last) && min_schema == other.min_schema &&
         resets == other.resets && SameHistogram(reset_compensation, other.reset_compensation) &&
         irregular_zero == other.irregular_zero;
}

bool HasBucketsInZeroBucket(const FloatHistogram& h) {
  // Buckets are sorted by index, so the lowest bucket of each side decides.
  if (!h.positive.empty() && HistogramBucketBound(h.positive.front().index - 1, h.schema) < h.zero_threshold) {
    return true;
  }
  return !h.negative.empty() && HistogramBucketBound(h.negative.front().index - 1, h.schema) < h.zero_threshold;
}

HistogramWindow OneHistogramWindow(int64_t t, std::shared_ptr<const FloatHistogram> histogram) {
  HistogramWindow window;
  window.count = 1;
  window.first_t = window.last_t = t;
  window.min_schema = histogram->schema;
  window.irregular_zero = HasBucketsInZeroBucket(*histogram);
  window.first = histogram;
  window.last = std::move(histogram);
  return window;
}

void MergeHistogramWindow(const HistogramWindow& later, HistogramWindow* earlier) {
  if (later.count == 0) return;
  if (earlier->count == 0) {
    *earlier = later;
    return;
  }
  HistogramWindow& into = *earlier;
  // The pair across: into's last histogram, then later's first.
  if (later.first->DetectReset(*into.last)) {
    AddToCompensation(*into.last, &into);
    ++into.resets;
  }
  if (later.reset_compensation) AddToCompensation(*later.reset_compensation, &into);
  into.resets += later.resets;
  into.min_schema = std::min(into.min_schema, later.min_schema);
  into.irregular_zero = into.irregular_zero || later.irregular_zero ||
                        std::bit_cast<uint64_t>(into.last->zero_threshold) !=
                            std::bit_cast<uint64_t>(later.first->zero_threshold);
  into.count += later.count;
  into.last_t = later.last_t;
  into.last = later.last;
}

void FloatWindowBuilder::AddHistogram(int64_t t, const Histogram& histogram) {
  FloatWindow& window = WindowFor(t);
  if (IsStaleHistogram(histogram) || !ToFloatHistogram(histogram, &converted_)) {
    window.ends_stale = true;
    return;
  }
  window.ends_stale = false;
  // What MergeHistogramWindow does with a one-sample window, without
  // allocating one per sample: previous_histogram_ is the window's last.
  HistogramWindow& open = open_histograms_;
  if (open.count == 0) {
    open.first = std::make_shared<const FloatHistogram>(converted_);
    open.first_t = t;
    open.min_schema = converted_.schema;
    open.irregular_zero = HasBucketsInZeroBucket(converted_);
  } else {
    if (converted_.DetectReset(previous_histogram_)) {
      AddToCompensation(previous_histogram_, &open);
      ++open.resets;
    }
    open.min_schema = std::min(open.min_schema, converted_.schema);
    open.irregular_zero = open.irregular_zero || HasBucketsInZeroBucket(converted_) ||
                          std::bit_cast<uint64_t>(previous_histogram_.zero_threshold) !=
                              std::bit_cast<uint64_t>(converted_.zero_threshold);
  }
  ++open.count;
  open.last_t = t;
  std::swap(previous_histogram_, converted_);
}

void FloatWindowBuilder::CloseHistograms() {
  if (open_histograms_.count == 0) return;
  open_histograms_.last = open_histograms_.count == 1 ? open_histograms_.first
                                                      : std::make_shared<const FloatHistogram>(previous_histogram_);
  FloatWindow& window = windows_.back();
  window.has_histograms = true;
  window.histograms = std::make_shared<const HistogramWindow>(std::move(open_histograms_));
  open_histograms_ = HistogramWindow();
}

}  // namespace tsvault::model
