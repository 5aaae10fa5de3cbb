// `tsvault export csv --url http://HOST:PORT ...`: the CSV export
// (/api/v1/export/csv) of a running server to a file or stdout, with a
// progress line on a terminal, for analysts who do not write curl lines.
// docs/csv.md.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/client.h"
#include "http/http.h"
#include "tools/commands.h"
#include "tools/server_connection.h"
#include "tools/progress.h"

namespace tsvault::tools {

namespace {

struct ExportCsvFlags {
  std::string url;
  std::string http_config_file;
  std::vector<std::string> matches;
  std::string query;
  std::string start, end, step, layout, tz, format, timestamp_format;
  bool no_header = false;
  std::string output = "-";
  int timeout_seconds = 300;
};

int RunExportCsv(const ExportCsvFlags& flags) {
  if (flags.matches.empty() == flags.query.empty()) {
    spdlog::critical("export csv: give --match (repeatable) or --query");
    return 2;
  }
  std::string target = "/api/v1/export/csv?";
  auto add = [&target](const char* name, const std::string& value) {
    if (value.empty()) return;
    if (target.back() != '?') target.push_back('&');
    target += std::string(name) + "=" + http::PercentEncode(value);
  };
  for (const std::string& match : flags.matches) add("match[]", match);
  add("query", flags.query);
  add("start", flags.start);
  add("end", flags.end);
  add("step", flags.step);
  add("layout", flags.layout);
  add("tz", flags.tz);
  add("format", flags.format);
  add("timestamp_format", flags.timestamp_format);
  if (flags.no_header) add("header", "false");

  ServerConnection server;
  Status s = ConnectToServer(flags.url, flags.http_config_file, &server);
  if (!s.ok()) {
    spdlog::critical("export csv: {}", s.message());
    return 2;
  }
  FILE* out = stdout;
  if (flags.output != "-") {
    out = std::fopen(flags.output.c_str(), "wb");
    if (out == nullptr) {
      spdlog::critical("export csv: cannot write {}", flags.output);
      return 1;
    }
  }
  // A byte count on a terminal (and a line every few seconds in a log) when
  // writing a file; nothing beside CSV on stdout.
  std::optional<ProgressPrinter> progress;
  if (out != stdout) progress.emplace(isatty(STDERR_FILENO) != 0);
  uint64_t bytes = 0;
  http::Response response;
  std::string error_body;  // an error answer is shown, not written out
  s = server.client->DoStreamed(
      "GET", target, server.headers, "",
      [&](std::string_view piece) {
        if (response.status != 200) {
          error_body.append(piece.substr(0, 4096));
          return Status::OK();
        }
        if (std::fwrite(piece.data(), 1, piece.size(), out) != piece.size()) {
          return Status::IOError("writing " + flags.output + " failed");
        }
        bytes += piece.size();
        if (progress) progress->Update("export csv (bytes)", bytes, 0);
        return Status::OK();
      },
      &response, std::chrono::seconds(flags.timeout_seconds));
  if (progress) progress->Finish();
  const bool closed = out == stdout ? std::fflush(out) == 0 : std::fclose(out) == 0;
  if (!s.ok()) {
    spdlog::critical("export csv: {}", s.message());
    return 1;
  }
  if (response.status != 200) {
    while (!error_body.empty() && error_body.back() == '\n') error_body.pop_back();
    spdlog::critical("export csv: the server answered {}: {}", response.status, error_body);
    if (flags.output != "-") std::remove(flags.output.c_str());
    return response.status >= 400 && response.status < 500 ? 2 : 1;
  }
  if (!closed) {
    spdlog::critical("export csv: writing {} failed", flags.output);
    return 1;
  }
  if (flags.output != "-") spdlog::info("export csv: {} bytes written to {}", bytes, flags.output);
  return 0;
}

}  // namespace

void AddExportCsvCommand(CLI::App* export_command) {
  auto flags = std::make_shared<ExportCsvFlags>();
  CLI::App* csv = export_command->add_subcommand(
      "csv", "Export CSV from a running server (/api/v1/export/csv): raw samples, or a PromQL query per step");
  csv->add_option("--url", flags->url, "The server (http://HOST:PORT)")->required();
  csv->add_option("--http.config.file", flags->http_config_file,
                  "Credentials and TLS (basic_auth, authorization, tls_config), as Prometheus' HTTP client");
  csv->add_option("--match", flags->matches, "Series selector (repeatable): every raw sample, or with --layout=wide one column per series");
  csv->add_option("--query", flags->query, "A PromQL expression evaluated at every --step");
  csv->add_option("--start", flags->start, "First time (RFC 3339 or Unix seconds)");
  csv->add_option("--end", flags->end, "Last time (default: now)");
  csv->add_option("--step", flags->step, "Step of --query and --layout=wide (1d, 1h, 5m; days start at midnight in --tz)");
  csv->add_option("--layout", flags->layout, "long (one row per sample, default) or wide (one column per series)");
  csv->add_option("--tz", flags->tz, "IANA time zone of the timestamps and of daily steps (Europe/Moscow)");
  csv->add_option("--format", flags->format,
                  "Long layout columns, VictoriaMetrics' format=: __name__,<label>,__value__,__timestamp__:<unix_s|"
                  "unix_ms|unix_ns|rfc3339|custom:<Go layout>>");
  csv->add_option("--timestamp-format", flags->timestamp_format,
                  "The timestamp column of the default and wide layouts (same kinds)");
  csv->add_flag("--no-header", flags->no_header, "Leave the header row out");
  csv->add_option("--output,-o", flags->output, "File to write; - is stdout")->capture_default_str();
  csv->add_option("--timeout", flags->timeout_seconds, "Seconds to wait for each piece of the answer")
      ->capture_default_str();
  csv->callback([flags] { std::exit(RunExportCsv(*flags)); });
}

}  // namespace tsvault::tools
