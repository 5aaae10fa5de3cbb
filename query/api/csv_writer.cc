#include "query/api/csv_writer.h"

#include <algorithm>

#include "common/ascii.h"
#include "query/promql/text.h"

namespace tsvault::query {

void AppendCsvTimestamp(int64_t ms, const CsvColumn& column, const TimeZone& zone, std::string* out) {
  switch (column.time_format) {
    case CsvColumn::TimeFormat::kUnixSeconds: out->append(std::to_string(ms / 1000)); return;  // as VictoriaMetrics
    case CsvColumn::TimeFormat::kUnixMilliseconds: out->append(std::to_string(ms)); return;
    case CsvColumn::TimeFormat::kUnixNanoseconds: out->append(std::to_string(ms * 1'000'000)); return;
    case CsvColumn::TimeFormat::kRfc3339: AppendRfc3339InZone(ms, zone, /*trim=*/true, out); return;
    case CsvColumn::TimeFormat::kRfc3339Milliseconds: AppendRfc3339InZone(ms, zone, /*trim=*/false, out); return;
    case CsvColumn::TimeFormat::kCustom: column.layout->Format(ms, zone, out); return;
  }
}

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

void AppendCsvHeader(const std::vector<CsvColumn>& columns, std::string* out) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendCsvField(columns[i].header, out);
  }
  out->push_back('\n');
}

void CsvLabelFields(const std::vector<CsvColumn>& columns, const Labels& labels, std::vector<std::string>* out) {
  out->assign(columns.size(), std::string());
  for (size_t i = 0; i < columns.size(); ++i) {
    const CsvColumn& column = columns[i];
    if (column.kind != CsvColumn::Kind::kLabel && column.kind != CsvColumn::Kind::kMetricName) continue;
    const std::string_view name =
        column.kind == CsvColumn::Kind::kMetricName ? std::string_view("__name__") : std::string_view(column.label);
    for (const Label& label : labels) {
      if (label.name == name) {
        AppendCsvField(label.value, &(*out)[i]);
        break;
      }
    }
  }
}

void AppendCsvRow(const std::vector<CsvColumn>& columns, const std::vector<std::string>& label_fields,
                  int64_t timestamp_ms, double value, const TimeZone& zone, std::string* out) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out->push_back(',');
    switch (columns[i].kind) {
      case CsvColumn::Kind::kValue: out->append(promql::FormatGoFloatFixed(value)); break;
      case CsvColumn::Kind::kTimestamp: AppendCsvTimestamp(timestamp_ms, columns[i], zone, out); break;
      default: out->append(label_fields[i]); break;
    }
  }
  out->push_back('\n');
}

void CsvError(int status, const std::string& message, http::Response* response) {
  response->status = status;
  response->headers = {{"Content-Type", "text/plain; charset=utf-8"}};
  response->body = message + "\n";
}

http::BodyStep EmitCsvPiece(Gzip* gzip, std::string csv, bool end, std::string* piece) {
  if (gzip == nullptr) {
    *piece = std::move(csv);
  } else if (!gzip->Compress(csv, end, piece)) {
    return http::BodyStep::kAbort;
  }
  return end ? http::BodyStep::kEnd : http::BodyStep::kMore;
}

Status ParseCsvTimeFormat(std::string_view kind, CsvColumn* column) {
  column->kind = CsvColumn::Kind::kTimestamp;
  if (kind == "unix_s") {
    column->time_format = CsvColumn::TimeFormat::kUnixSeconds;
  } else if (kind == "unix_ms") {
    column->time_format = CsvColumn::TimeFormat::kUnixMilliseconds;
  } else if (kind == "unix_ns") {
    column->time_format = CsvColumn::TimeFormat::kUnixNanoseconds;
  } else if (kind == "rfc3339") {
    column->time_format = CsvColumn::TimeFormat::kRfc3339;
  } else if (kind.substr(0, 7) == "custom:" && kind.size() > 7) {
    column->time_format = CsvColumn::TimeFormat::kCustom;
    column->layout = std::make_shared<const GoTimeLayout>(GoTimeLayout::Parse(kind.substr(7)));
  } else {
    return Status::InvalidArgument("unknown timestamp format \"" + std::string(kind) +
                                   "\"; use unix_s, unix_ms, unix_ns, rfc3339 or custom:<Go layout such as 2006-01-02>");
  }
  return Status::OK();
}

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
      const std::string_view kind = field.size() > 13 ? field.substr(14) : std::string_view("unix_ms");
      Status s = ParseCsvTimeFormat(kind, &column);
      if (!s.ok()) return Status::InvalidArgument(described + ": " + s.message());
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

}  // namespace tsvault::query
