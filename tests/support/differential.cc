#include "tests/support/differential.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>

#include "http/client.h"
#include "tests/support/ports.h"
#include "tests/support/process.h"
#include "tests/support/promql_result_compare.h"

namespace tsvault::testing {

namespace {

std::string FormatSeconds(double seconds) {
  std::ostringstream out;
  out.precision(15);
  out << seconds;
  return out.str();
}

}  // namespace

Status RunLoadgenBackfill(const std::string& binary, const std::string& url, int64_t from_seconds, int64_t to_seconds,
                          const std::string& log_path, nlohmann::json* summary) {
  Process loadgen;
  Status s = loadgen.Start({{binary, "loadgen", "--url", url, "--protocol", "v1", "--scale", "0.1",
                             "--seed", "11", "--churn", "0.003", "--interval",
                             std::to_string(kDifferentialIntervalSeconds) + "s", "--backfill", "--from",
                             std::to_string(from_seconds), "--to", std::to_string(to_seconds), "--concurrency", "2",
                             "--max-retries", "3"},
                            {},
                            log_path});
  if (!s.ok()) return s;
  if (!loadgen.WaitForExit(std::chrono::minutes(3))) {
    loadgen.Kill();
    return Status::IOError("loadgen did not finish: " + ReadLogTail(log_path, 2000));
  }
  std::ifstream log(log_path);
  std::string line, last_summary;
  while (std::getline(log, line)) {
    if (line.rfind("{\"series\"", 0) == 0) last_summary = line;
  }
  *summary = nlohmann::json::parse(last_summary, nullptr, false);
  if (summary->is_discarded()) return Status::IOError("no loadgen summary in " + ReadLogTail(log_path, 2000));
  return Status::OK();
}

std::vector<PackEvaluation> DifferentialEvaluations(int64_t start, int64_t end) {
  const std::vector<double> instants = {start + 2400 + 7.5, static_cast<double>(end), end + 240.0};
  struct Range {
    double from, to, step;
  };
  const double aligned_from = static_cast<double>((start + 600 + 299) / 300 * 300);
  const double aligned_to = static_cast<double>(end / 300 * 300);
  const std::vector<Range> ranges = {{start + 600.0, static_cast<double>(end), 60},
                                     {start + 123.0, end + 300.0, 37},
                                     {aligned_from, aligned_to, 300}};
  std::vector<PackEvaluation> evaluations;
  for (double t : instants) {
    evaluations.push_back({"instant at " + FormatSeconds(t), "&time=" + FormatSeconds(t), false});
  }
  for (const Range& r : ranges) {
    evaluations.push_back({"range [" + FormatSeconds(r.from) + ", " + FormatSeconds(r.to) + "] step " +
                               FormatSeconds(r.step),
                           "&start=" + FormatSeconds(r.from) + "&end=" + FormatSeconds(r.to) +
                               "&step=" + FormatSeconds(r.step),
                           true});
  }
  return evaluations;
}

Status ComparePack(const std::string& expected_url, const std::string& actual_url,
                   const std::vector<std::string>& pack, const std::vector<PackEvaluation>& evaluations,
                   PackComparison* out) {
  *out = {};
  std::unique_ptr<http::Client> expected_client, actual_client;
  Status s = http::Client::Create(expected_url, &expected_client);
  if (s.ok()) s = http::Client::Create(actual_url, &actual_client);
  if (!s.ok()) return s;
  for (const std::string& query : pack) {
    CompareOptions options;
    options.ordered = query.rfind("sort(", 0) == 0 || query.rfind("sort_desc(", 0) == 0;
    for (const PackEvaluation& evaluation : evaluations) {
      const std::string target = std::string(evaluation.range ? "/api/v1/query_range" : "/api/v1/query") +
                                 "?query=" + QueryEscape(query) + evaluation.target_suffix;
      http::Response expected, actual;
      if (!(s = expected_client->Get(target, &expected)).ok()) return Status::IOError("reference: " + s.ToString());
      if (!(s = actual_client->Get(target, &actual)).ok()) return Status::IOError("tsvault: " + s.ToString());
      ++out->compared;
      if (actual.Header("X-Tsvault-Resolutions").find('m') != std::string_view::npos) ++out->from_rollups;
      CompareResult result = CompareQueryResponses(expected.body, actual.body, options);
      if (expected.status != actual.status) {
        result.equal = false;
        result.difference = "HTTP " + std::to_string(actual.status) + ", expected " +
                            std::to_string(expected.status) + "; " + result.difference;
      }
      if (result.equal) {
        ++out->matched;
        if (result.expected_has_data) ++out->with_data;
        if (expected.status != 200) ++out->errors_alike;
      } else {
        out->mismatches.push_back(query + "  [" + evaluation.description + "]\n    " + result.difference);
      }
    }
  }
  return Status::OK();
}

}  // namespace tsvault::testing
