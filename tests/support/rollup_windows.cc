#include "tests/support/rollup_windows.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include "model/float_histogram.h"
#include "model/rollup.h"

namespace tsvault::testing {

namespace {

using model::FloatWindow;

bool Close(double a, double b, bool exact) {
  if (exact) return std::memcmp(&a, &b, sizeof(a)) == 0 || (std::isnan(a) && std::isnan(b));
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-12 * std::max({std::fabs(a), std::fabs(b), 1.0});
}

}  // namespace

bool HistogramsClose(const model::FloatHistogram& a, const model::FloatHistogram& e, bool exact) {
  auto near = [exact](double x, double y) { return Close(x, y, exact); };
  if (a.schema != e.schema || a.reset_hint != e.reset_hint || !near(a.zero_threshold, e.zero_threshold) ||
      !near(a.zero_count, e.zero_count) || !near(a.count, e.count) || !near(a.sum, e.sum) ||
      a.positive.size() != e.positive.size() || a.negative.size() != e.negative.size()) {
    return false;
  }
  for (size_t i = 0; i < a.positive.size(); ++i) {
    if (a.positive[i].index != e.positive[i].index || !near(a.positive[i].count, e.positive[i].count)) return false;
  }
  for (size_t i = 0; i < a.negative.size(); ++i) {
    if (a.negative[i].index != e.negative[i].index || !near(a.negative[i].count, e.negative[i].count)) return false;
  }
  return true;
}

namespace {

std::string HistogramDifference(const model::HistogramWindow& a, const model::HistogramWindow& e, bool exact) {
  if (a.count != e.count) return "histogram count " + std::to_string(a.count) + ", expected " + std::to_string(e.count);
  if (a.first_t != e.first_t || a.last_t != e.last_t) return "first or last histogram time differs";
  if (!HistogramsClose(*a.first, *e.first, true) || !HistogramsClose(*a.last, *e.last, true)) {
    return "first or last histogram differs";
  }
  if (a.min_schema != e.min_schema || a.resets != e.resets || a.irregular_zero != e.irregular_zero) {
    return "histogram minimum schema, resets or zero-bucket flag differ";
  }
  if (!a.reset_compensation != !e.reset_compensation) return "histogram reset compensation present on one side only";
  if (a.reset_compensation && !HistogramsClose(*a.reset_compensation, *e.reset_compensation, exact)) {
    return "histogram reset compensation differs";
  }
  return "";
}

std::string Difference(const FloatWindow& a, const FloatWindow& e, bool exact) {
  if (a.end_ms != e.end_ms) return "window end " + std::to_string(a.end_ms) + ", expected " + std::to_string(e.end_ms);
  if (a.count != e.count) return "count " + std::to_string(a.count) + ", expected " + std::to_string(e.count);
  if (a.ends_stale != e.ends_stale) return "ends_stale differs";
  if (a.has_histograms != e.has_histograms) return "has_histograms differs";
  if (!a.histograms != !e.histograms) return "histograms described on one side only";
  if (e.histograms) {
    const std::string difference = HistogramDifference(*a.histograms, *e.histograms, exact);
    if (!difference.empty()) return difference;
  }
  if (e.count == 0) return "";
  if (a.first_t != e.first_t || a.last_t != e.last_t) return "first or last time differs";
  if (!Close(a.first_v, e.first_v, true) || !Close(a.last_v, e.last_v, true)) return "first or last value differs";
  if (!Close(a.min, e.min, true) || !Close(a.max, e.max, true)) return "min or max differs";
  if (a.resets != e.resets || a.changes != e.changes) return "resets or changes differ";
  if (!Close(a.sum + a.sum_compensation, e.sum + e.sum_compensation, exact)) return "sum differs";
  if (!Close(a.reset_compensation, e.reset_compensation, exact)) return "reset compensation differs";
  return "";
}

std::string SeriesName(const Labels& labels) {
  std::string name;
  for (const Label& label : labels) name += label.name + "=" + label.value + ",";
  return name;
}

}  // namespace

std::string CompareWindowsWithRaw(storage::DB* db, int64_t start_ms, int64_t end_ms, uint64_t* windows_compared) {
  storage::LabelMatcher any;
  if (!storage::LabelMatcher::Create(storage::MatchType::kRegexMatch, "__name__", ".+", &any).ok()) return "matcher";
  for (int64_t resolution : {model::kResolution5m, model::kResolution1h, model::kResolution1d}) {
    // Raw samples from just after the end of the window before start_ms.
    std::map<std::string, std::vector<FloatWindow>> expected;
    std::unique_ptr<storage::SeriesSet> set;
    Status s = db->Select(storage::SelectHints(start_ms - resolution + 1, end_ms), {any}, &set);
    if (!s.ok()) return s.ToString();
    while (set->Next()) {
      model::FloatWindowBuilder builder(resolution);
      auto it = set->Samples();
      while (it->Next()) {
        if (it->is_histogram()) {
          builder.AddHistogram(it->timestamp(), it->histogram());
        } else {
          builder.Add(it->timestamp(), it->value());
        }
      }
      expected[SeriesName(set->labels())] = builder.Finish();
    }
    s = db->Select(storage::SelectHints(start_ms, end_ms), {any}, &set);
    if (!s.ok()) return s.ToString();
    while (set->Next()) {
      const std::string name = SeriesName(set->labels());
      std::vector<FloatWindow> actual;
      s = set->Windows(resolution, &actual);
      if (!s.ok()) return name + ": " + s.ToString();
      const std::vector<FloatWindow>& want = expected[name];
      const std::string where = name + " at " + std::to_string(resolution / 60000) + " min: ";
      if (actual.size() != want.size()) {
        return where + std::to_string(actual.size()) + " windows, expected " + std::to_string(want.size());
      }
      for (size_t i = 0; i < want.size(); ++i) {
        const std::string difference = Difference(actual[i], want[i], resolution == model::kResolution5m);
        if (!difference.empty()) return where + "window ending " + std::to_string(want[i].end_ms) + ": " + difference;
      }
      *windows_compared += want.size();
    }
  }
  return "";
}

}  // namespace tsvault::testing
