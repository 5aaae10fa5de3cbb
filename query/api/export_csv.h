// GET/POST /api/v1/export/csv: raw samples of match[] series as CSV, in
// the long layout (one row per sample), streamed, gzip when accepted. The
// columns follow VictoriaMetrics' `format=` convention so its scripts work
// unchanged (docs/csv.md). Internal to query/api.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/server.h"
#include "storage/db.h"

namespace tsvault::query {

// One output column.
struct CsvColumn {
  enum class Kind { kMetricName, kLabel, kValue, kTimestamp };
  enum class TimeFormat { kUnixSeconds, kUnixMilliseconds, kUnixNanoseconds, kRfc3339, kRfc3339Milliseconds };
  Kind kind = Kind::kLabel;
  std::string label;                            // kLabel: its name
  TimeFormat time_format = TimeFormat::kUnixMilliseconds;  // kTimestamp
  std::string header;                           // the header row's text
};

// Parses VictoriaMetrics' format ("__name__,job,__value__,__timestamp__:unix_s");
// an empty field is an empty column. InvalidArgument names the bad field.
Status ParseCsvFormat(std::string_view format, std::vector<CsvColumn>* columns);

// Appends `field` to *out, quoted as RFC 4180 wants when it holds a comma,
// a quote, CR or LF, or starts with an apostrophe.
void AppendCsvField(std::string_view field, std::string* out);

// Registers the endpoint on the server's blocking pool. `db` must outlive
// the server.
void RegisterExportCsvRoutes(http::Server* server, storage::DB* db);

}  // namespace tsvault::query
