#include "tests/support/promql_result_compare.h"

#include <cmath>
#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

namespace tsvault::testing {
namespace {

using nlohmann::json;

std::string Short(const json& value) { return value.dump().substr(0, 200); }

// A [timestamp, "value"] pair.
bool ParsePoint(const json& point, double* timestamp, double* value) {
  if (!point.is_array() || point.size() != 2 || !point[0].is_number() || !point[1].is_string()) return false;
  *timestamp = point[0].get<double>();
  const std::string text = point[1].get<std::string>();
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0';
}

// A number in a string, as the API writes sample values.
bool ParseNumber(const json& text, double* value) {
  if (!text.is_string()) return false;
  const std::string s = text.get<std::string>();
  char* end = nullptr;
  *value = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0';
}

// Two native histograms as the API writes them: {"count", "sum", "buckets":
// [[boundary rule, "lower", "upper", "count"], ...]}.
bool CompareHistogram(const json& expected, const json& actual, double tolerance, const std::string& where,
                      std::string* difference) {
  if (!expected.is_object() || !actual.is_object()) {
    *difference = where + ": malformed histogram " + Short(actual) + " or " + Short(expected);
    return false;
  }
  for (const char* field : {"count", "sum"}) {
    double e, a;
    if (!ParseNumber(expected.value(field, json()), &e) || !ParseNumber(actual.value(field, json()), &a) ||
        !SampleValuesEqual(e, a, tolerance)) {
      *difference = where + ": histogram " + field + " " + Short(actual.value(field, json())) + ", expected " +
                    Short(expected.value(field, json()));
      return false;
    }
  }
  const json no_buckets = json::array();
  const json& expected_buckets = expected.contains("buckets") ? expected["buckets"] : no_buckets;
  const json& actual_buckets = actual.contains("buckets") ? actual["buckets"] : no_buckets;
  if (!expected_buckets.is_array() || !actual_buckets.is_array() || expected_buckets.size() != actual_buckets.size()) {
    *difference = where + ": buckets " + Short(actual_buckets) + ", expected " + Short(expected_buckets);
    return false;
  }
  for (size_t i = 0; i < expected_buckets.size(); ++i) {
    const json& e = expected_buckets[i];
    const json& a = actual_buckets[i];
    bool same = e.is_array() && a.is_array() && e.size() == 4 && a.size() == 4 && e[0] == a[0];
    for (size_t k = 1; same && k < 4; ++k) {
      double x, y;
      same = ParseNumber(e[k], &x) && ParseNumber(a[k], &y) && SampleValuesEqual(x, y, tolerance);
    }
    if (!same) {
      *difference = where + ": bucket " + Short(a) + ", expected " + Short(e);
      return false;
    }
  }
  return true;
}

bool ComparePoint(const json& expected, const json& actual, double tolerance, const std::string& where,
                  std::string* difference) {
  if (expected.is_array() && expected.size() == 2 && expected[1].is_object()) {
    if (!actual.is_array() || actual.size() != 2 || actual[0] != expected[0]) {
      *difference = where + ": histogram point " + Short(actual) + ", expected at " + Short(expected[0]);
      return false;
    }
    return CompareHistogram(expected[1], actual[1], tolerance, where + " at " + Short(expected[0]), difference);
  }
  double expected_time, expected_value, actual_time, actual_value;
  if (!ParsePoint(expected, &expected_time, &expected_value)) {
    *difference = where + ": malformed expected point " + Short(expected);
    return false;
  }
  if (!ParsePoint(actual, &actual_time, &actual_value)) {
    *difference = where + ": malformed point " + Short(actual);
    return false;
  }
  if (expected_time != actual_time) {
    *difference = where + ": timestamp " + Short(actual[0]) + ", expected " + Short(expected[0]);
    return false;
  }
  if (!SampleValuesEqual(expected_value, actual_value, tolerance)) {
    *difference = where + " at " + Short(expected[0]) + ": value " + actual[1].get<std::string>() + ", expected " +
                  expected[1].get<std::string>();
    return false;
  }
  return true;
}

// Series of a vector or matrix keyed by their label set (the dump of a JSON
// object is canonical: keys sorted).
// A series' float points are in "values" (matrix) or "value" (vector), its
// histogram points in "histograms" or "histogram"; *out maps to the element.
bool IndexSeries(const json& result, bool matrix, std::map<std::string, const json*>* out,
                 std::vector<std::string>* order, std::string* difference) {
  if (!result.is_array()) {
    *difference = "result is not an array";
    return false;
  }
  for (const auto& element : result) {
    const bool has_points = element.is_object() && (matrix ? element.contains("values") || element.contains("histograms")
                                                           : element.contains("value") || element.contains("histogram"));
    if (!has_points || !element.contains("metric")) {
      *difference = "malformed series " + Short(element);
      return false;
    }
    const std::string key = element["metric"].dump();
    if (!out->emplace(key, &element).second) {
      *difference = "series " + key + " appears twice";
      return false;
    }
    order->push_back(key);
  }
  return true;
}

bool CompareSeriesSets(const json& expected, const json& actual, bool matrix, const CompareOptions& options,
                       std::string* difference) {
  std::map<std::string, const json*> expected_series, actual_series;
  std::vector<std::string> expected_order, actual_order;
  std::string error;
  if (!IndexSeries(expected, matrix, &expected_series, &expected_order, &error)) {
    *difference = "expected: " + error;
    return false;
  }
  if (!IndexSeries(actual, matrix, &actual_series, &actual_order, difference)) return false;
  for (const auto& [key, unused] : expected_series) {
    if (!actual_series.count(key)) {
      *difference = "missing series " + key + " (" + std::to_string(actual_series.size()) + " series instead of " +
                    std::to_string(expected_series.size()) + ")";
      return false;
    }
  }
  for (const auto& [key, unused] : actual_series) {
    if (!expected_series.count(key)) {
      *difference = "unexpected series " + key;
      return false;
    }
  }
  if (options.ordered && !matrix) {
    // Ties may come in any order (Prometheus' sort is not stable), so the
    // sequence of values must match, not the sequence of label sets.
    for (size_t i = 0; i < expected_order.size(); ++i) {
      double expected_time, expected_value, actual_time, actual_value;
      if (ParsePoint(expected_series[expected_order[i]]->value("value", json()), &expected_time, &expected_value) &&
          ParsePoint(actual_series[actual_order[i]]->value("value", json()), &actual_time, &actual_value) &&
          !SampleValuesEqual(expected_value, actual_value, options.relative_tolerance)) {
        *difference = "element " + std::to_string(i) + " is " + actual_order[i] + ", expected " +
                      expected_order[i] + " (order differs)";
        return false;
      }
    }
  }
  for (const auto& [key, expected_element] : expected_series) {
    const json& actual_element = *actual_series[key];
    if (!matrix) {
      const char* field = expected_element->contains("histogram") ? "histogram" : "value";
      if (!actual_element.contains(field)) {
        *difference = key + ": a " + (field[0] == 'h' ? "float" : "histogram") + " sample, expected the other kind";
        return false;
      }
      if (!ComparePoint((*expected_element)[field], actual_element[field], options.relative_tolerance, key,
                        difference)) {
        return false;
      }
      continue;
    }
    for (const char* field : {"values", "histograms"}) {
      const json none = json::array();
      const json& expected_points = expected_element->contains(field) ? (*expected_element)[field] : none;
      const json& actual_points = actual_element.contains(field) ? actual_element[field] : none;
      if (!expected_points.is_array() || !actual_points.is_array()) {
        *difference = key + ": " + field + " is not an array";
        return false;
      }
      if (expected_points.size() != actual_points.size()) {
        *difference = key + ": " + std::to_string(actual_points.size()) + " " + field + " points, expected " +
                      std::to_string(expected_points.size());
        // Name the first timestamp that differs.
        for (size_t i = 0; i < std::min(expected_points.size(), actual_points.size()); ++i) {
          if (expected_points[i][0] != actual_points[i][0]) {
            *difference += "; first difference at " + Short(expected_points[i][0]) + " vs " + Short(actual_points[i][0]);
            break;
          }
        }
        return false;
      }
      for (size_t i = 0; i < expected_points.size(); ++i) {
        if (!ComparePoint(expected_points[i], actual_points[i], options.relative_tolerance, key, difference)) {
          return false;
        }
      }
    }
  }
  return true;
}

}  // namespace

bool SampleValuesEqual(double expected, double actual, double relative_tolerance) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (std::isinf(expected) || std::isinf(actual)) return expected == actual;
  if (expected == actual) return true;
  return std::fabs(expected - actual) <= relative_tolerance * std::max(std::fabs(expected), std::fabs(actual));
}

CompareResult CompareQueryResponses(const std::string& expected_body, const std::string& actual_body,
                                    const CompareOptions& options) {
  CompareResult result;
  json expected = json::parse(expected_body, nullptr, false);
  json actual = json::parse(actual_body, nullptr, false);
  if (expected.is_discarded() || !expected.is_object()) {
    result.difference = "expected answer is not JSON: " + expected_body.substr(0, 200);
    return result;
  }
  if (actual.is_discarded() || !actual.is_object()) {
    result.difference = "answer is not JSON: " + actual_body.substr(0, 200);
    return result;
  }
  const std::string expected_status = expected.value("status", "");
  const std::string actual_status = actual.value("status", "");
  if (expected_status != actual_status) {
    result.difference = "status " + actual_status + " (" + actual.value("error", "") + "), expected " +
                        expected_status + " (" + expected.value("error", "") + ")";
    return result;
  }
  if (expected_status != "success") {
    if (expected.value("errorType", "") != actual.value("errorType", "")) {
      result.difference = "errorType " + actual.value("errorType", "") + ", expected " +
                          expected.value("errorType", "");
      return result;
    }
    result.equal = true;
    return result;
  }
  const json& expected_data = expected["data"];
  const json& actual_data = actual["data"];
  if (!expected_data.is_object() || !actual_data.is_object()) {
    result.difference = "data is not an object";
    return result;
  }
  const std::string type = expected_data.value("resultType", "");
  if (actual_data.value("resultType", "") != type) {
    result.difference = "resultType " + actual_data.value("resultType", "") + ", expected " + type;
    return result;
  }
  const json& expected_result = expected_data["result"];
  const json& actual_result = actual_data["result"];
  if (type == "scalar" || type == "string") {
    result.expected_has_data = true;
    if (type == "string") {
      result.equal = expected_result == actual_result;
      if (!result.equal) result.difference = "string " + Short(actual_result) + ", expected " + Short(expected_result);
      return result;
    }
    result.equal = ComparePoint(expected_result, actual_result, options.relative_tolerance, "scalar",
                                &result.difference);
    return result;
  }
  if (type != "vector" && type != "matrix") {
    result.difference = "unknown resultType " + type;
    return result;
  }
  result.expected_has_data = expected_result.is_array() && !expected_result.empty();
  result.equal = CompareSeriesSets(expected_result, actual_result, type == "matrix", options, &result.difference);
  return result;
}

}  // namespace tsvault::testing
