// `tsvault import postgres`: business rows from a PostgreSQL table (the
// seed's ReengagementMetrics and its kin) become series, mapped by a small
// YAML file, and go through an ImportSink like every other import.
// docs/postgres-import.md.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "import/importer.h"

namespace tsvault::import {

// How a numeric column becomes samples.
enum class PostgresMetricType {
  kGauge,    // each row's value as it is (a per-day count: trends use sum_over_time)
  kCounter,  // the running total of the rows so far, per series (increase() works across migrated and live data)
};

// One numeric column mapped to one metric.
struct PostgresMetricMapping {
  std::string column;
  std::string metric;  // the metric name (__name__)
  PostgresMetricType type = PostgresMetricType::kGauge;
};

// The YAML mapping (docs/postgres-import.md).
struct PostgresMapping {
  std::string schema = "public";
  std::string table;
  std::string time_column;  // date, timestamp or timestamptz
  // A date (or a timestamp without time zone) is read in this IANA zone:
  // a day's row lands at that day's start there.
  std::string timezone = "UTC";
  std::vector<std::pair<std::string, std::string>> label_columns;  // label name, column
  Labels constant_labels;
  std::vector<PostgresMetricMapping> metrics;
};

// Parses and checks a mapping (names, types, unknown keys). InvalidArgument
// naming the line of what is wrong.
Status ParsePostgresMapping(const std::string& yaml_text, PostgresMapping* out);

struct PostgresImportOptions {
  // A libpq connection string or URI ("host=... dbname=...",
  // "postgresql://user@host:5432/db"); empty uses the PG* environment.
  std::string connection;
  PostgresMapping mapping;
  // Only rows with a time at or after this (a date or an RFC 3339 time, in
  // the mapping's zone for a date). Counters then start from the sum of the
  // rows before it, so a re-run from any --since stores the same values.
  std::string since;
  // Print the statement and the samples of the first `dry_run_rows` rows to
  // `dry_run_out` and store nothing.
  bool dry_run = false;
  size_t dry_run_rows = 10;
  std::ostream* dry_run_out = nullptr;
  // Stop at the first bad value (false), or skip that value and count it.
  bool skip_bad_values = false;
  size_t batch_samples = 20000;
  size_t fetch_rows = 10000;  // rows per FETCH from the server-side cursor
  // Called after each fetch with the rows done and the total.
  std::function<void(uint64_t rows_done, uint64_t rows_total)> progress;
};

// Reads the mapped rows in time order in one read-only snapshot and writes
// their samples to `sink`. Rows with the same time and label values (label
// columns the mapping leaves out) are summed. A NULL value gives no sample;
// a NULL or empty label column leaves the label out. Errors name the table,
// the column and the row (its time and label values): a missing table or
// column, a time column of another type, a value that is not a number.
// `report->lines` counts rows.
Status ImportFromPostgres(const PostgresImportOptions& options, ImportSink* sink, ImportReport* report);

}  // namespace tsvault::import
