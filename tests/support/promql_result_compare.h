// Compares two Prometheus HTTP API query answers (the JSON bodies of
// /api/v1/query or /api/v1/query_range) the way the differential test
// needs: same status and error type, same result type, same label sets, same
// timestamps, and values equal within a relative tolerance (NaN equals NaN,
// infinities must match exactly). Order matters only where PromQL defines
// it (`ordered`, for sort and sort_desc at the top of the query).
#pragma once

#include <string>

namespace tsvault::testing {

struct CompareOptions {
  // |a - b| <= relative_tolerance * max(|a|, |b|) counts as equal.
  double relative_tolerance = 1e-9;
  // Also compare the order of instant-vector elements, by value (elements
  // with equal values may come in any order).
  bool ordered = false;
};

// Outcome of one comparison.
struct CompareResult {
  bool equal = false;
  // True when the expected answer carries data (a non-empty result), so a
  // test can report how many comparisons actually compared values.
  bool expected_has_data = false;
  // Why the answers differ, naming the series and timestamp; empty if equal.
  std::string difference;
};

// Compares the API answer `actual` against `expected`; both are response
// bodies. Malformed JSON on either side is a difference, never a crash.
CompareResult CompareQueryResponses(const std::string& expected, const std::string& actual,
                                    const CompareOptions& options);

// True when two sample values count as equal under `relative_tolerance`.
bool SampleValuesEqual(double expected, double actual, double relative_tolerance);

}  // namespace tsvault::testing
