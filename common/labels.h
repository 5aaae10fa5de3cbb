// Label sets: the identity of a series, as in Prometheus.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tsvault {

// The label that holds the metric name.
inline constexpr std::string_view kMetricNameLabel = "__name__";

// One name/value pair of a series' identity.
struct Label {
  std::string name;
  std::string value;

  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};

// A label set. Canonical form is sorted by name with unique names; functions
// below that say "canonical" require or produce that form.
using Labels = std::vector<Label>;

// Sorts by name (then value), in place, producing canonical order.
void SortLabels(Labels* labels);

// The value of `name`, or an empty view when absent. Requires canonical order.
std::string_view GetLabelValue(const Labels& labels, std::string_view name);

// The metric name (value of __name__), or empty.
inline std::string_view MetricName(const Labels& labels) {
  return GetLabelValue(labels, kMetricNameLabel);
}

// Prometheus' text form: name{a="b", c="d"} with Go-style string escaping.
// Without __name__ it is {a="b"}.
std::string LabelsToString(const Labels& labels);

// A stable 64-bit hash of a canonical label set (xxhash-style mixing; the
// value is never persisted, so it may change between versions).
uint64_t HashLabels(const Labels& labels);

// Compares two canonical label sets as Prometheus' labels.Compare does.
int CompareLabels(const Labels& a, const Labels& b);

}  // namespace tsvault
