#include "import/import_endpoints.h"

#include <zlib.h>

#include <chrono>

#include "common/ascii.h"
#include "http/server.h"
#include "import/importer.h"
#include "import/sinks.h"

namespace tsvault::import {

namespace {

constexpr size_t kPieceBytes = 1u << 20;  // fed to the importer at a time

void Answer(http::Response* response, int status, std::string text) {
  response->status = status;
  response->SetHeader("Content-Type", "text/plain; charset=utf-8");
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  response->body = std::move(text);
}

// Inflates a gzip body piece by piece into the importer.
class GzipFeeder {
 public:
  explicit GzipFeeder(Importer* importer) : importer_(importer), out_(kPieceBytes, '\0') {
    started_ = inflateInit2(&stream_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipFeeder() {
    if (started_) inflateEnd(&stream_);
  }

  Status Feed(std::string_view compressed) {
    if (!started_) return Status::Internal("cannot start zlib");
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    stream_.avail_in = static_cast<uInt>(compressed.size());
    while (stream_.avail_in > 0) {
      if (ended_) {
        // Concatenated gzip members (as `cat a.gz b.gz` makes): go on.
        if (inflateReset(&stream_) != Z_OK) return Status::Internal("cannot reset zlib");
        ended_ = false;
      }
      stream_.next_out = reinterpret_cast<Bytef*>(out_.data());
      stream_.avail_out = static_cast<uInt>(out_.size());
      const int code = inflate(&stream_, Z_NO_FLUSH);
      if (code != Z_OK && code != Z_STREAM_END && code != Z_BUF_ERROR) {
        return Status::InvalidArgument("the gzip body is damaged (" +
                                       std::string(stream_.msg != nullptr ? stream_.msg : "bad data") + ")");
      }
      ended_ = code == Z_STREAM_END;
      Status s = importer_->Feed(std::string_view(out_.data(), out_.size() - stream_.avail_out));
      if (!s.ok()) return s;
      if (code == Z_BUF_ERROR) break;  // needs more input
    }
    return Status::OK();
  }

  Status Finish() const {
    return ended_ ? Status::OK() : Status::InvalidArgument("the gzip body is cut short");
  }

 private:
  Importer* importer_;
  z_stream stream_{};
  std::string out_;
  bool started_ = false;
  bool ended_ = false;
};

void HandleImport(remote_write::Ingester* ingester, ImportFormat format, const http::Request& request,
                  http::Response* response) {
  ImportOptions options;
  options.format = format;
  options.default_timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  // Parameters come from the query string only: the body is the data,
  // whatever Content-Type curl -d puts on it.
  const size_t question = request.target.find('?');
  const auto params =
      http::ParseFormEncoded(question == std::string::npos ? std::string_view() : std::string_view(request.target).substr(question + 1));
  for (const auto& [name, value] : params) {
    if (name == "format" && format == ImportFormat::kCsv) {
      options.csv_format = value;
    } else if (name == "header" && format == ImportFormat::kCsv) {
      if (value != "true" && value != "false" && value != "1" && value != "0") {
        return Answer(response, 400, "header: want true or false, got \"" + value + "\"");
      }
      options.csv_header = value == "true" || value == "1";
    } else if (name == "extra_label") {
      const size_t equals = value.find('=');
      if (equals == std::string::npos || equals == 0) {
        return Answer(response, 400, "extra_label: want name=value, got \"" + value + "\"");
      }
      options.extra_labels.push_back({value.substr(0, equals), value.substr(equals + 1)});
    }
  }
  if (format == ImportFormat::kCsv && options.csv_format.empty()) {
    return Answer(response, 400, "format: missing; describe the columns, e.g. format=1:label:level,2:time:rfc3339,3:metric:sent");
  }
  std::unique_ptr<ImportSink> sink = NewIngesterSink(ingester);
  std::unique_ptr<Importer> importer;
  Status s = Importer::Create(options, sink.get(), &importer);
  if (!s.ok()) return Answer(response, 400, s.message());

  const std::string_view encoding = request.Header("content-encoding");
  const bool gzip = EqualsIgnoreAsciiCase(encoding, "gzip");
  if (!gzip && !encoding.empty() && !EqualsIgnoreAsciiCase(encoding, "identity")) {
    return Answer(response, 415, "Content-Encoding " + std::string(encoding) + " is not supported (gzip or none)");
  }
  GzipFeeder inflater(importer.get());
  std::string body_error;  // reading the body failed (the client went away, a timeout)
  auto feed = [&](std::string_view piece) { return gzip ? inflater.Feed(piece) : importer->Feed(piece); };
  if (request.read_body) {
    // The body arrives piece by piece as it is parsed and stored.
    std::string piece;
    while (s.ok() && request.read_body(&piece, &body_error)) s = feed(piece);
  } else {
    const std::string_view body(request.body);
    for (size_t at = 0; at < body.size() && s.ok(); at += kPieceBytes) s = feed(body.substr(at, kPieceBytes));
  }
  if (!body_error.empty()) {
    return Answer(response, 400, "the request body: " + body_error + "; stored before: " + importer->report().Summary());
  }
  if (s.ok() && gzip) s = inflater.Finish();
  if (s.ok()) s = importer->Finish();
  const ImportReport& report = importer->report();
  if (s.IsInvalidArgument()) return Answer(response, 400, s.message());
  if (s.IsResourceExhausted()) {
    response->SetHeader("Retry-After", "1");
    return Answer(response, 429, s.message() + "; stored before: " + report.Summary());
  }
  if (!s.ok()) return Answer(response, 500, "storage: " + s.ToString() + "; stored before: " + report.Summary());
  if (report.samples_refused > 0) {
    std::string text = "some samples were refused: " + report.Summary();
    for (const std::string& problem : report.problems) text += "\n" + problem;
    return Answer(response, 400, text);
  }
  response->status = 204;  // as VictoriaMetrics answers
}

}  // namespace

void RegisterImportEndpoints(http::Server* server, remote_write::Ingester* ingester) {
  server->RouteStreamingBody("POST", "/api/v1/import/csv", [ingester](const http::Request& request, http::Response* response) {
    HandleImport(ingester, ImportFormat::kCsv, request, response);
  });
  server->RouteStreamingBody("POST", "/api/v1/import/prometheus",
                        [ingester](const http::Request& request, http::Response* response) {
                          HandleImport(ingester, ImportFormat::kPrometheusText, request, response);
                        });
}

}  // namespace tsvault::import
