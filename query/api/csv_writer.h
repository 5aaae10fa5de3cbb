// Internal to query/api: what the CSV export writes with: the columns of
// VictoriaMetrics' `format=`, RFC 4180 fields, timestamps (unix, RFC 3339 or
// a Go layout, in a time zone), and a gzip stream. docs/csv.md.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "http/server.h"
#include "common/go_time.h"

namespace tsvault::query {

// One output column.
struct CsvColumn {
  enum class Kind { kMetricName, kLabel, kValue, kTimestamp };
  enum class TimeFormat {
    kUnixSeconds, kUnixMilliseconds, kUnixNanoseconds, kRfc3339, kRfc3339Milliseconds, kCustom
  };
  Kind kind = Kind::kLabel;
  std::string label;                                       // kLabel: its name
  TimeFormat time_format = TimeFormat::kUnixMilliseconds;  // kTimestamp
  std::string header;                                      // the header row's text
  std::shared_ptr<const GoTimeLayout> layout;              // kCustom
};

// Parses VictoriaMetrics' format ("__name__,job,__value__,__timestamp__:unix_s",
// "__timestamp__:custom:2006-01-02"); an empty field is an empty column.
// InvalidArgument names the bad field.
Status ParseCsvFormat(std::string_view format, std::vector<CsvColumn>* columns);

// Parses a timestamp kind alone ("unix_s", "rfc3339", "custom:<layout>")
// into *column (whose kind becomes kTimestamp).
Status ParseCsvTimeFormat(std::string_view kind, CsvColumn* column);

// Appends `field` to *out, quoted as RFC 4180 wants when it holds a comma,
// a quote, CR or LF, or starts with an apostrophe.
void AppendCsvField(std::string_view field, std::string* out);

// Appends `ms` as the timestamp `column` describes, in `zone` (unix
// formats are the same in every zone).
void AppendCsvTimestamp(int64_t ms, const CsvColumn& column, const TimeZone& zone, std::string* out);

// CSV produced per streamed piece.
inline constexpr size_t kCsvPieceBytes = 64 * 1024;

// The header row of `columns` (with its line end).
void AppendCsvHeader(const std::vector<CsvColumn>& columns, std::string* out);

// The fields of a series for its label and metric-name columns, quoted once
// per series; empty for the other columns.
void CsvLabelFields(const std::vector<CsvColumn>& columns, const Labels& labels, std::vector<std::string>* out);

// One row: value and timestamp columns from the point, the rest from
// `label_fields` (CsvLabelFields).
void AppendCsvRow(const std::vector<CsvColumn>& columns, const std::vector<std::string>& label_fields,
                  int64_t timestamp_ms, double value, const TimeZone& zone, std::string* out);

// A plain-text error answer (the export's errors are not JSON).
void CsvError(int status, const std::string& message, http::Response* response);

// True when Accept-Encoding names gzip without q=0.
bool AcceptsGzip(const http::Request& request);

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


// Hands `csv` out as the next piece of a body, compressed when `gzip` is
// set (all of it at `end`): kEnd at the end, kAbort when compression fails.
http::BodyStep EmitCsvPiece(Gzip* gzip, std::string csv, bool end, std::string* piece);

}  // namespace tsvault::query
