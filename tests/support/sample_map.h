// Samples by series, as the tests that compare two stores read them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/labels.h"
#include "common/status.h"

namespace tsvault::testing {

// Samples by series: the key is the label set as Go's labels.String()
// prints it ({a="b", c="d"}, what `promtool tsdb dump` shows), the samples
// (timestamp ms, value) in time order.
using SampleMap = std::map<std::string, std::vector<std::pair<int64_t, double>>>;

// The SampleMap key of `labels` (sorted by name).
std::string LabelsString(const Labels& labels);

// The raw samples of `selector` in (at - range, at] from any server with
// Prometheus' query API (tsvault, Prometheus): an instant query of
// `selector[range]` at `at_seconds`.
Status ReadQueryApiSamples(const std::string& base_url, const std::string& selector, const std::string& range,
                           int64_t at_seconds, SampleMap* out);

// "" when `actual` holds exactly `expected`'s samples (values within
// `relative`; NaN equals NaN, or NaN samples are left out of both with
// `ignore_nan`), else the first difference. "nothing compared" when
// `expected` is empty.
std::string SampleMapDifference(const SampleMap& expected, const SampleMap& actual, bool ignore_nan,
                                double relative = 0);

// Equal (NaN equals NaN), or within `relative` of each other.
bool SameSampleValue(double a, double b, double relative);

// Samples in all series.
size_t CountSamples(const SampleMap& samples);

}  // namespace tsvault::testing
