#include "query/api/export_csv.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>

#include "common/ascii.h"
#include "common/time_parse.h"
#include "query/api/match_parameter.h"
#include "query/api/params.h"
#include "query/api/series_merge.h"
#include "query/promql/text.h"

namespace tsvault::query {

namespace {

constexpr size_t kPieceBytes = 64 * 1024;  // CSV produced per streamed piece

void Fail(int status, const std::string& message, http::Response* response) {
  response->status = status;
  response->headers = {{"Content-Type", "text/plain; charset=utf-8"}};
  response->body = message + "\n";
}

// RFC 3339 in UTC with milliseconds: all three digits (`trim` false), or
// trailing zeros trimmed and left out when whole ("...:05Z", "...:05.5Z"),
// as VictoriaMetrics writes it.
void AppendRfc3339(int64_t ms, bool trim, std::string* out) {
  std::string text = FormatRfc3339(ms);  // "...:SSZ"
  const int millis = static_cast<int>(((ms % 1000) + 1000) % 1000);
  char digits[8];
  std::snprintf(digits, sizeof(digits), ".%03d", millis);
  std::string fraction = digits;
  if (trim) {
    while (fraction.back() == '0') fraction.pop_back();
    if (fraction == ".") fraction.clear();
  }
  text.insert(text.size() - 1, fraction);
  out->append(text);
}

void AppendTimestamp(int64_t ms, CsvColumn::TimeFormat format, std::string* out) {
  switch (format) {
    case CsvColumn::TimeFormat::kUnixSeconds: out->append(std::to_string(ms / 1000)); return;  // as VictoriaMetrics
    case CsvColumn::TimeFormat::kUnixMilliseconds: out->append(std::to_string(ms)); return;
    case CsvColumn::TimeFormat::kUnixNanoseconds: out->append(std::to_string(ms * 1'000'000)); return;
    case CsvColumn::TimeFormat::kRfc3339: AppendRfc3339(ms, /*trim=*/true, out); return;
    case CsvColumn::TimeFormat::kRfc3339Milliseconds: AppendRfc3339(ms, /*trim=*/false, out); return;
  }
}

// A gzip stream over the CSV pieces (zlib's deflate with a gzip wrapper).
class Gzip {
 public:
  Gzip() { ok_ = deflateInit2(&stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK; }
  ~Gzip() { deflateEnd(&stream_); }
  Gzip(const Gzip&) = delete;
  Gzip& operator=(const Gzip&) = delete;
  bool ok() const { return ok_; }
  // Compresses `input` (all of it when `finish`) into *out; false on error.
  bool Compress(const std::string& input, bool finish, std::string* out) {
    if (!ok_) return false;
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream_.avail_in = static_cast<uInt>(input.size());
    out->clear();
    char buffer[32 * 1024];
    for (;;) {
      stream_.next_out = reinterpret_cast<Bytef*>(buffer);
      stream_.avail_out = sizeof(buffer);
      const int result = deflate(&stream_, finish ? Z_FINISH : Z_NO_FLUSH);
      if (result == Z_STREAM_ERROR) return false;
      out->append(buffer, sizeof(buffer) - stream_.avail_out);
      if (finish ? result == Z_STREAM_END : stream_.avail_in == 0 && stream_.avail_out != 0) return true;
    }
  }

 private:
  z_stream stream_{};
  bool ok_ = false;
};

// The state of one export, advanced by one piece per call.
class CsvExport {
 public:
  CsvExport(std::vector<CsvColumn> columns, bool header, bool gzip)
      : columns_(std::move(columns)), header_(header), gzip_(gzip ? std::make_unique<Gzip>() : nullptr) {}

  SeriesMerge& series() { return series_; }
  // False when the gzip stream could not be set up.
  bool ready() const { return !gzip_ || gzip_->ok(); }

  http::BodyStep Next(std::string* piece) {
    std::string csv;
    csv.reserve(kPieceBytes + 4096);
    if (header_) {
      for (size_t i = 0; i < columns_.size(); ++i) {
        if (i > 0) csv.push_back(',');
        AppendCsvField(columns_[i].header, &csv);
      }
      csv += "\n";
      header_ = false;
    }
    bool end = false;
    while (csv.size() < kPieceBytes) {
      if (!samples_) {
        if (!series_.Next()) {
          if (!series_.status().ok()) return http::BodyStep::kAbort;
          end = true;
          break;
        }
        samples_ = series_.Samples();
        BuildLabelFields(series_.labels());
      }
      if (!samples_->Next()) {
        samples_.reset();
        continue;
      }
      if (samples_->is_histogram()) continue;  // CSV rows carry floats
      const double value = samples_->value();
      if (std::bit_cast<uint64_t>(value) == storage::kStaleNaNBits) continue;  // a staleness marker is not a sample
      AppendRow(samples_->timestamp(), value, &csv);
    }
    if (!gzip_) {
      *piece = std::move(csv);
    } else if (!gzip_->Compress(csv, end, piece)) {
      return http::BodyStep::kAbort;
    }
    return end ? http::BodyStep::kEnd : http::BodyStep::kMore;
  }

 private:
  // The label columns of the current series, quoted once per series.
  void BuildLabelFields(const Labels& labels) {
    label_fields_.assign(columns_.size(), std::string());
    for (size_t i = 0; i < columns_.size(); ++i) {
      const CsvColumn& column = columns_[i];
      if (column.kind != CsvColumn::Kind::kLabel && column.kind != CsvColumn::Kind::kMetricName) continue;
      const std::string& name = column.kind == CsvColumn::Kind::kMetricName ? kMetricNameLabel : column.label;
      for (const Label& label : labels) {
        if (label.name == name) {
          AppendCsvField(label.value, &label_fields_[i]);
          break;
        }
      }
    }
  }

  void AppendRow(int64_t timestamp_ms, double value, std::string* out) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) out->push_back(',');
      switch (columns_[i].kind) {
        case CsvColumn::Kind::kValue: out->append(promql::FormatGoFloatFixed(value)); break;
        case CsvColumn::Kind::kTimestamp: AppendTimestamp(timestamp_ms, columns_[i].time_format, out); break;
        default: out->append(label_fields_[i]); break;
      }
    }
    out->append("\n");
  }

  static inline const std::string kMetricNameLabel = "__name__";
  const std::vector<CsvColumn> columns_;
  bool header_;
  std::unique_ptr<Gzip> gzip_;
  SeriesMerge series_;
  std::unique_ptr<storage::SampleIterator> samples_;
  std::vector<std::string> label_fields_;
};

// True when Accept-Encoding names gzip without q=0.
bool AcceptsGzip(const http::Request& request) {
  for (const auto& [name, value] : request.headers) {
    if (name != "accept-encoding") continue;
    const std::string text = ToLowerAscii(value);
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find(',', start);
      if (end == std::string::npos) end = text.size();
      std::string coding = text.substr(start, end - start);
      coding.erase(std::remove(coding.begin(), coding.end(), ' '), coding.end());
      const size_t semicolon = coding.find(';');
      const std::string token = coding.substr(0, semicolon);
      const bool refused = semicolon != std::string::npos && (coding.substr(semicolon) == ";q=0" ||
                                                              coding.substr(semicolon).rfind(";q=0.0", 0) == 0);
      if ((token == "gzip" || token == "*") && !refused) return true;
      start = end + 1;
    }
  }
  return false;
}

void HandleExportCsv(storage::DB* db, const http::Request& request, http::Response* response) {
  const Params params = http::RequestParams(request);
  std::vector<std::vector<storage::LabelMatcher>> sets;
  const std::vector<std::string> selectors = ParamList(params, "match[]");
  if (selectors.empty()) return Fail(400, "missing match[] parameter", response);
  Status s = ParseMatchParameter(selectors, &sets);
  if (!s.ok()) return Fail(400, "invalid parameter \"match[]\": " + s.message(), response);
  int64_t start, end;
  if (!(s = ParseRange(params, &start, &end)).ok()) return Fail(400, s.message(), response);
  if (Param(params, "end").empty()) {
    end = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
    if (end < start) return Fail(400, "invalid parameter \"start\": after the current time", response);
  }
  for (const char* unsupported : {"extra_label", "extra_filters[]", "extra_filters"}) {
    if (!Param(params, unsupported).empty()) {
      return Fail(400, "parameter \"" + std::string(unsupported) + "\" is not supported; put the filter in match[]",
                  response);
    }
  }
  if (!Param(params, "layout").empty() && Param(params, "layout") != "long") {
    return Fail(400, "invalid parameter \"layout\": only \"long\" is supported so far", response);
  }
  std::vector<CsvColumn> columns;
  const std::string_view format = Param(params, "format");
  bool header = format.empty();
  if (!format.empty()) {
    if (!(s = ParseCsvFormat(format, &columns)).ok()) {
      return Fail(400, "invalid parameter \"format\": " + s.message(), response);
    }
  } else {
    // __name__, every label name of the selected series, time, value.
    std::vector<std::string> names;
    for (const auto& matchers : sets) {
      std::vector<std::string> found;
      if (!(s = db->LabelNames(matchers, start, end, &found)).ok()) return Fail(500, s.ToString(), response);
      names.insert(names.end(), found.begin(), found.end());
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    columns.push_back({CsvColumn::Kind::kMetricName, "", {}, "__name__"});
    for (const std::string& name : names) {
      if (name != "__name__") columns.push_back({CsvColumn::Kind::kLabel, name, {}, name});
    }
    columns.push_back({CsvColumn::Kind::kTimestamp, "", CsvColumn::TimeFormat::kRfc3339Milliseconds, "timestamp"});
    columns.push_back({CsvColumn::Kind::kValue, "", {}, "value"});
  }
  if (const std::string_view text = Param(params, "header"); !text.empty()) {
    if (text != "true" && text != "false") return Fail(400, "invalid parameter \"header\": true or false", response);
    header = text == "true";
  }
  const bool gzip = AcceptsGzip(request);
  auto csv = std::make_shared<CsvExport>(std::move(columns), header, gzip);
  if (!csv->ready()) return Fail(500, "cannot set up gzip compression", response);
  if (!(s = csv->series().Open(db, storage::SelectHints(start, end), sets)).ok()) {
    return Fail(s.IsInvalidArgument() ? 400 : 500, s.ToString(), response);
  }
  response->status = 200;
  response->headers = {{"Content-Type", "text/csv; charset=utf-8"}};
  response->headers.push_back({"Vary", "Accept-Encoding"});
  if (gzip) response->headers.push_back({"Content-Encoding", "gzip"});
  response->body_source = [csv](std::string* piece) { return csv->Next(piece); };
}

}  // namespace

Status ParseCsvFormat(std::string_view format, std::vector<CsvColumn>* columns) {
  columns->clear();
  size_t position = 0;
  while (position <= format.size()) {
    size_t comma = format.find(',', position);
    if (comma == std::string_view::npos) comma = format.size();
    const std::string_view field = format.substr(position, comma - position);
    const std::string described = "field " + std::to_string(columns->size() + 1) + " \"" + std::string(field) + "\"";
    CsvColumn column;
    if (field.empty()) {
      column.kind = CsvColumn::Kind::kLabel;  // an empty column, as VictoriaMetrics writes it
    } else if (field == "__name__") {
      column.kind = CsvColumn::Kind::kMetricName;
    } else if (field == "__value__") {
      column.kind = CsvColumn::Kind::kValue;
    } else if (field == "__timestamp__" || field.substr(0, 14) == "__timestamp__:") {
      column.kind = CsvColumn::Kind::kTimestamp;
      const std::string_view kind = field.size() > 13 ? field.substr(13) : std::string_view(":unix_ms");
      if (kind == ":unix_s") {
        column.time_format = CsvColumn::TimeFormat::kUnixSeconds;
      } else if (kind == ":unix_ms") {
        column.time_format = CsvColumn::TimeFormat::kUnixMilliseconds;
      } else if (kind == ":unix_ns") {
        column.time_format = CsvColumn::TimeFormat::kUnixNanoseconds;
      } else if (kind == ":rfc3339") {
        column.time_format = CsvColumn::TimeFormat::kRfc3339;
      } else if (kind.substr(0, 8) == ":custom:") {
        return Status::InvalidArgument(described + ": custom timestamp layouts are not supported yet; use unix_s, "
                                       "unix_ms, unix_ns or rfc3339");
      } else {
        return Status::InvalidArgument(described + ": unknown timestamp format; use unix_s, unix_ms, unix_ns or "
                                       "rfc3339");
      }
    } else {
      column.kind = CsvColumn::Kind::kLabel;
      column.label = std::string(field);
    }
    column.header = std::string(field);
    columns->push_back(std::move(column));
    position = comma + 1;
  }
  return Status::OK();
}

void AppendCsvField(std::string_view field, std::string* out) {
  // Also a leading ' (VictoriaMetrics' importer reads it as a quote).
  if (field.find_first_of(",\"\r\n") == std::string_view::npos && (field.empty() || field[0] != '\'')) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void RegisterExportCsvRoutes(http::Server* server, storage::DB* db) {
  for (const char* method : {"GET", "POST"}) {
    server->RouteBlocking(method, "/api/v1/export/csv",
                          [db](const http::Request& request, http::Response* response) {
                            HandleExportCsv(db, request, response);
                          });
  }
}

}  // namespace tsvault::query
