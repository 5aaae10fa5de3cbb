// Internal to query/api: the CSV export of PromQL range queries
// (`query=<PromQL>&step=`, or `layout=wide` over match[] selectors), long
// (one row per point) or wide (one row per step time, one column per
// series), with step times at local midnights of `tz` when the step is whole
// days. docs/csv.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/server.h"
#include "query/api/csv_writer.h"
#include "query/engine/engine.h"

namespace tsvault::query {

struct CsvQueryRequest {
  std::vector<std::string> queries;  // PromQL; each adds its series
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t step_ms = 0;
  bool wide = false;
  // Long layout: the columns (empty: a header and __name__, every label,
  // timestamp, value). Wide layout: only the timestamp's format is used.
  std::vector<CsvColumn> columns;
  CsvColumn timestamp;  // the timestamp column of the default and wide layouts
  bool header = true;
  bool gzip = false;
  TimeZone zone;
  const std::atomic<bool>* cancelled = nullptr;  // http::Request::cancelled
};

// The step times: start, start + step, ... <= end; with a step of whole
// days and a zone other than UTC, the local midnights from the first one at
// or after start, every step/1d days. Split into runs of equal spacing (a
// DST change makes a day 23 or 25 hours long): each run is one range query.
struct StepRun {
  int64_t start_ms, end_ms, step_ms;
};
std::vector<StepRun> CsvStepRuns(int64_t start_ms, int64_t end_ms, int64_t step_ms, const TimeZone& zone);

// Runs the queries and answers with the CSV (a 400/422/503 naming the
// error, as the query API does, when a query fails).
void AnswerCsvQuery(const Engine* engine, CsvQueryRequest request, http::Response* response);

}  // namespace tsvault::query
