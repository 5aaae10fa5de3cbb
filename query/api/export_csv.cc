#include "query/api/export_csv.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>

#include "common/ascii.h"
#include "common/time_parse.h"
#include "query/api/csv_writer.h"
#include "query/api/export_csv_query.h"
#include "query/api/match_parameter.h"
#include "query/api/params.h"
#include "query/api/series_merge.h"
#include "query/promql/text.h"

namespace tsvault::query {

namespace {

// The state of one export, advanced by one piece per call.
class CsvExport {
 public:
  CsvExport(std::vector<CsvColumn> columns, bool header, bool gzip, TimeZone zone)
      : columns_(std::move(columns)), header_(header), gzip_(gzip ? std::make_unique<Gzip>() : nullptr),
        zone_(std::move(zone)) {}

  SeriesMerge& series() { return series_; }
  // False when the gzip stream could not be set up.
  bool ready() const { return !gzip_ || gzip_->ok(); }

  http::BodyStep Next(std::string* piece) {
    std::string csv;
    csv.reserve(kCsvPieceBytes + 4096);
    if (header_) {
      AppendCsvHeader(columns_, &csv);
      header_ = false;
    }
    bool end = false;
    while (csv.size() < kCsvPieceBytes) {
      if (!samples_) {
        if (!series_.Next()) {
          if (!series_.status().ok()) return http::BodyStep::kAbort;
          end = true;
          break;
        }
        samples_ = series_.Samples();
        CsvLabelFields(columns_, series_.labels(), &label_fields_);
      }
      if (!samples_->Next()) {
        samples_.reset();
        continue;
      }
      if (samples_->is_histogram()) continue;  // CSV rows carry floats
      const double value = samples_->value();
      if (std::bit_cast<uint64_t>(value) == storage::kStaleNaNBits) continue;  // a staleness marker is not a sample
      AppendCsvRow(columns_, label_fields_, samples_->timestamp(), value, zone_, &csv);
    }
    return EmitCsvPiece(gzip_.get(), std::move(csv), end, piece);
  }

 private:
  const std::vector<CsvColumn> columns_;
  bool header_;
  std::unique_ptr<Gzip> gzip_;
  const TimeZone zone_;
  SeriesMerge series_;
  std::unique_ptr<storage::SampleIterator> samples_;
  std::vector<std::string> label_fields_;
};

// Parameters both kinds of export share.
struct CommonParams {
  int64_t start = 0, end = 0;
  TimeZone zone;
  CsvColumn timestamp;  // of the default and wide layouts
  std::vector<CsvColumn> columns;  // format=
  bool header = true;
};

bool ParseCommon(const Params& params, CommonParams* out, http::Response* response) {
  Status s = ParseRange(params, &out->start, &out->end);
  if (!s.ok()) return CsvError(400, s.message(), response), false;
  if (Param(params, "end").empty()) {
    out->end = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    if (out->end < out->start) return CsvError(400, "invalid parameter \"start\": after the current time", response), false;
  }
  for (const char* unsupported : {"extra_label", "extra_filters[]", "extra_filters"}) {
    if (!Param(params, unsupported).empty()) {
      CsvError(400, "parameter \"" + std::string(unsupported) + "\" is not supported; put the filter in match[]", response);
      return false;
    }
  }
  if (const std::string_view tz = Param(params, "tz"); !tz.empty()) {
    if (!(s = TimeZone::Load(tz, &out->zone)).ok()) {
      return CsvError(400, "invalid parameter \"tz\": " + s.message(), response), false;
    }
  }
  out->timestamp = {CsvColumn::Kind::kTimestamp, "", CsvColumn::TimeFormat::kRfc3339Milliseconds, "timestamp", {}};
  if (const std::string_view kind = Param(params, "timestamp_format"); !kind.empty()) {
    if (!(s = ParseCsvTimeFormat(kind, &out->timestamp)).ok()) {
      return CsvError(400, "invalid parameter \"timestamp_format\": " + s.message(), response), false;
    }
  }
  const std::string_view format = Param(params, "format");
  out->header = format.empty();
  if (!format.empty() && !(s = ParseCsvFormat(format, &out->columns)).ok()) {
    return CsvError(400, "invalid parameter \"format\": " + s.message(), response), false;
  }
  if (const std::string_view text = Param(params, "header"); !text.empty()) {
    if (text != "true" && text != "false") return CsvError(400, "invalid parameter \"header\": true or false", response), false;
    out->header = text == "true";
  }
  return true;
}

// query=<PromQL>&step= (long or wide), or layout=wide over match[].
void HandleQueryExport(const Engine* engine, const Params& params, CommonParams common, bool wide,
                       const http::Request& request, http::Response* response) {
  CsvQueryRequest query;
  if (const std::string_view text = Param(params, "query"); !text.empty()) {
    if (!ParamList(params, "match[]").empty()) {
      return CsvError(400, "give either query= or match[], not both", response);
    }
    query.queries.emplace_back(text);
  } else {
    query.queries = ParamList(params, "match[]");  // each selector is a PromQL query
    if (query.queries.empty()) return CsvError(400, "missing match[] or query parameter", response);
  }
  if (Param(params, "start").empty()) return CsvError(400, "missing parameter \"start\" (query= and layout=wide need a range)", response);
  const std::string_view step_text = Param(params, "step");
  if (step_text.empty()) return CsvError(400, "missing parameter \"step\" (query= and layout=wide read one point per step)", response);
  Status s = ParseDurationParam(step_text, &query.step_ms);
  if (!s.ok() || query.step_ms <= 0) {
    return CsvError(400, "invalid parameter \"step\": " + (s.ok() ? std::string("must be positive") : s.message()), response);
  }
  if ((common.end - common.start) / query.step_ms > engine->options().max_points_per_series) {
    return CsvError(400, "exceeded maximum resolution of " + std::to_string(engine->options().max_points_per_series) +
                         " points per timeseries. Try decreasing the query resolution (?step=XX)", response);
  }
  if (wide && !common.columns.empty()) {
    return CsvError(400, "invalid parameter \"format\": the wide layout has a timestamp column and one per series; "
                     "use timestamp_format= for the first", response);
  }
  query.start_ms = common.start;
  query.end_ms = common.end;
  query.wide = wide;
  query.columns = std::move(common.columns);
  query.timestamp = std::move(common.timestamp);
  query.header = common.header;
  query.gzip = AcceptsGzip(request);
  query.zone = std::move(common.zone);
  query.cancelled = request.cancelled;
  AnswerCsvQuery(engine, std::move(query), response);
}

void HandleExportCsv(storage::DB* db, const Engine* engine, const http::Request& request, http::Response* response) {
  const Params params = http::RequestParams(request);
  CommonParams common;
  if (!ParseCommon(params, &common, response)) return;
  const std::string_view layout = Param(params, "layout");
  if (!layout.empty() && layout != "long" && layout != "wide") {
    return CsvError(400, "invalid parameter \"layout\": long (one row per sample) or wide (one column per series)", response);
  }
  if (layout == "wide" || !Param(params, "query").empty()) {
    return HandleQueryExport(engine, params, std::move(common), layout == "wide", request, response);
  }
  if (!Param(params, "step").empty()) {
    return CsvError(400, "parameter \"step\" applies to query= and layout=wide; the long match[] export has every raw sample",
                response);
  }
  std::vector<std::vector<storage::LabelMatcher>> sets;
  const std::vector<std::string> selectors = ParamList(params, "match[]");
  if (selectors.empty()) return CsvError(400, "missing match[] parameter", response);
  Status s = ParseMatchParameter(selectors, &sets);
  if (!s.ok()) return CsvError(400, "invalid parameter \"match[]\": " + s.message(), response);
  std::vector<CsvColumn> columns = std::move(common.columns);
  if (columns.empty()) {
    // __name__, every label name of the selected series, time, value.
    std::vector<std::string> names;
    for (const auto& matchers : sets) {
      std::vector<std::string> found;
      if (!(s = db->LabelNames(matchers, common.start, common.end, &found)).ok()) return CsvError(500, s.ToString(), response);
      names.insert(names.end(), found.begin(), found.end());
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    columns.push_back({CsvColumn::Kind::kMetricName, "", {}, "__name__", {}});
    for (const std::string& name : names) {
      if (name != "__name__") columns.push_back({CsvColumn::Kind::kLabel, name, {}, name, {}});
    }
    columns.push_back(common.timestamp);
    columns.push_back({CsvColumn::Kind::kValue, "", {}, "value", {}});
  }
  const bool gzip = AcceptsGzip(request);
  auto csv = std::make_shared<CsvExport>(std::move(columns), common.header, gzip, std::move(common.zone));
  if (!csv->ready()) return CsvError(500, "cannot set up gzip compression", response);
  storage::SelectHints hints(common.start, common.end);
  hints.bulk = true;  // an export does not fill the block cache
  if (!(s = csv->series().Open(db, hints, sets)).ok()) {
    return CsvError(s.IsInvalidArgument() ? 400 : 500, s.ToString(), response);
  }
  response->status = 200;
  response->headers = {{"Content-Type", "text/csv; charset=utf-8"}};
  response->headers.push_back({"Vary", "Accept-Encoding"});
  if (gzip) response->headers.push_back({"Content-Encoding", "gzip"});
  response->body_source = [csv](std::string* piece) { return csv->Next(piece); };
}

}  // namespace

void RegisterExportCsvRoutes(http::Server* server, storage::DB* db, const Engine* engine) {
  for (const char* method : {"GET", "POST"}) {
    server->RouteBlocking(method, "/api/v1/export/csv",
                          [db, engine](const http::Request& request, http::Response* response) {
                            HandleExportCsv(db, engine, request, response);
                          });
  }
}

}  // namespace tsvault::query
