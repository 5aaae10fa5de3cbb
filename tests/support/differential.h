// What the PromQL differential test and the tests that compare another
// Prometheus with tsvault share: loading the seed workload with `tsvault
// loadgen --backfill`, and running the query pack against two servers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace tsvault::testing {

// The seed workload's interval in the differential data (seconds).
inline constexpr int64_t kDifferentialIntervalSeconds = 15;

// Runs `<binary> loadgen --backfill` (scale 0.1, seed 11, churn, 15s
// interval) over [from, to] (Unix seconds) against the remote-write `url`
// and returns its JSON summary (the last summary line of its output).
Status RunLoadgenBackfill(const std::string& binary, const std::string& url, int64_t from_seconds, int64_t to_seconds,
                          const std::string& log_path, nlohmann::json* summary);

// One way of running a query: instant at a time or range with a step.
struct PackEvaluation {
  std::string description;    // "instant at T" or "range [a, b] step s"
  std::string target_suffix;  // "&time=..." or "&start=...&end=...&step=..."
  bool range = false;
};

// The differential test's evaluations for data in [start, end] (seconds):
// instants inside the data, at its end and in the lookback after it; ranges
// on and off the scrape grid, and one on the 5m grid (served by rollups).
std::vector<PackEvaluation> DifferentialEvaluations(int64_t start, int64_t end);

// The outcome of running every query of a pack with every evaluation.
struct PackComparison {
  size_t compared = 0;
  size_t matched = 0;
  size_t with_data = 0;     // matched answers that carry data
  size_t errors_alike = 0;  // matched non-200 answers
  size_t from_rollups = 0;  // tsvault answers that read rollups (X-Tsvault-Resolutions)
  std::vector<std::string> mismatches;  // "query  [evaluation]\n    difference"
};

// Runs `pack` with each evaluation against `expected_url` (the reference,
// e.g. Prometheus) and `actual_url` (tsvault) and compares the answers with
// CompareQueryResponses (status included). An error only when a server
// cannot be reached.
Status ComparePack(const std::string& expected_url, const std::string& actual_url,
                   const std::vector<std::string>& pack, const std::vector<PackEvaluation>& evaluations,
                   PackComparison* out);

}  // namespace tsvault::testing
