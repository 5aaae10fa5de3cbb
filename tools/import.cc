// `tsvault import csv|prometheus|openmetrics FILE` and `tsvault import
// postgres`: reads a file (or stdin, or a PostgreSQL table) and stores its
// samples in a running server (--url, through its Remote Write endpoint)
// or in a stopped data directory (--storage.path, through an in-process
// Ingester). docs/import.md, docs/postgres-import.md.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "http/client.h"
#include "import/importer.h"
#include "import/postgres_import.h"
#include "import/sinks.h"
#include "remote_write/ingester.h"
#include "storage/db.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/server_connection.h"

namespace tsvault::tools {

namespace {

constexpr size_t kReadBytes = 1u << 20;

struct ImportFlags {
  std::string file;
  std::string url;
  std::string http_config_file;
  std::string data_dir;
  std::string format;  // csv column description
  bool header = false;
  std::string on_error = "stop";
  std::vector<std::string> extra_labels;
  size_t batch_samples = 20000;
  // postgres
  std::string mapping_file;
  std::string connection;
  std::string since;
  bool dry_run = false;
  size_t dry_run_rows = 10;
};

// Where an import's samples go: a running server, or a stopped data
// directory opened in-process.
struct ImportTarget {
  ServerConnection server;
  std::unique_ptr<storage::DB> db;
  std::unique_ptr<remote_write::Ingester> ingester;
  std::unique_ptr<import::ImportSink> sink;
};

// Opens --url or --storage.path; 0, or the exit code after a message.
int OpenTarget(const ImportFlags& flags, const char* what, ImportTarget* target) {
  if (flags.url.empty() == flags.data_dir.empty()) {
    spdlog::critical("import {}: give exactly one of --url (a running server) and --storage.path (a stopped one)", what);
    return 2;
  }
  if (!flags.url.empty()) {
    Status s = ConnectToServer(flags.url, flags.http_config_file, &target->server);
    if (!s.ok()) {
      spdlog::critical("import {}: {}", what, s.message());
      return 2;
    }
    target->sink = import::NewRemoteWriteSink(target->server.client.get(), "/api/v1/write", target->server.headers);
    return 0;
  }
  std::error_code ec;
  if (!std::filesystem::exists(flags.data_dir + "/rocksdb", ec)) {
    spdlog::critical("import {}: no tsvault data in {}", what, flags.data_dir);
    return 1;
  }
  storage::Options db_options;
  db_options.data_dir = flags.data_dir;
  db_options.background_checkpoints = false;
  db_options.keep_stored_log_consumers = true;  // forwarding targets get the imported samples too
  Status s = storage::DB::Open(db_options, &target->db);
  if (!s.ok()) {
    spdlog::critical("import {}: cannot open {} (is a server running on it? then use --url): {}", what,
                     flags.data_dir, s.ToString());
    return 1;
  }
  target->ingester = std::make_unique<remote_write::Ingester>(target->db.get(), remote_write::IngesterOptions(), nullptr);
  target->sink = import::NewIngesterSink(target->ingester.get());
  return 0;
}

int RunImport(const ImportFlags& flags, import::ImportFormat format, const char* what) {
  if (flags.on_error != "stop" && flags.on_error != "skip") {
    spdlog::critical("import {}: --on-error must be stop or skip, not {}", what, flags.on_error);
    return 2;
  }
  import::ImportOptions options;
  options.format = format;
  options.csv_format = flags.format;
  options.csv_header = flags.header;
  options.skip_bad_lines = flags.on_error == "skip";
  options.batch_samples = flags.batch_samples;
  options.default_timestamp_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const std::string& label : flags.extra_labels) {
    const size_t equals = label.find('=');
    if (equals == std::string::npos || equals == 0) {
      spdlog::critical("import {}: --extra-label wants name=value, got {}", what, label);
      return 2;
    }
    options.extra_labels.push_back({label.substr(0, equals), label.substr(equals + 1)});
  }

  // The input.
  std::ifstream file;
  std::istream* input = &std::cin;
  uint64_t total_bytes = 0;
  if (flags.file != "-") {
    file.open(flags.file, std::ios::binary);
    if (!file) {
      spdlog::critical("import {}: cannot read {}", what, flags.file);
      return 1;
    }
    input = &file;
    std::error_code ec;
    total_bytes = std::filesystem::file_size(flags.file, ec);
    if (ec) total_bytes = 0;
  }

  // Where the samples go.
  ImportTarget target;
  int code = OpenTarget(flags, what, &target);
  if (code != 0) return code;
  std::unique_ptr<import::Importer> importer;
  Status s = import::Importer::Create(options, target.sink.get(), &importer);
  if (!s.ok()) {
    spdlog::critical("import {}: {}", what, s.message());
    return 2;
  }
  ProgressPrinter progress(isatty(STDERR_FILENO) != 0);
  std::string buffer(kReadBytes, '\0');
  uint64_t done = 0;
  while (s.ok() && *input) {
    input->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const size_t got = static_cast<size_t>(input->gcount());
    if (got == 0) break;
    done += got;
    s = importer->Feed(std::string_view(buffer.data(), got));
    progress.Update("import", done, total_bytes);
  }
  if (s.ok() && input->bad()) s = Status::IOError("reading the input failed");
  if (s.ok()) s = importer->Finish();
  progress.Finish();
  const import::ImportReport& report = importer->report();
  for (const std::string& problem : report.problems) spdlog::warn("import {}: {}", what, problem);
  if (!s.ok()) {
    spdlog::critical("import {}: {}", what, s.message());
    if (!s.IsInvalidArgument()) spdlog::critical("import {}: before the error: {}", what, report.Summary());
    return 1;
  }
  spdlog::info("import {}: {}", what, report.Summary());
  return report.samples_refused > 0 || report.bad_lines > 0 ? 1 : 0;
}

int RunPostgresImport(const ImportFlags& flags) {
  const char* what = "postgres";
  if (flags.on_error != "stop" && flags.on_error != "skip") {
    spdlog::critical("import postgres: --on-error must be stop or skip, not {}", flags.on_error);
    return 2;
  }
  std::ifstream mapping_file(flags.mapping_file);
  if (!mapping_file) {
    spdlog::critical("import postgres: cannot read the mapping {}", flags.mapping_file);
    return 2;
  }
  std::stringstream mapping_text;
  mapping_text << mapping_file.rdbuf();
  import::PostgresImportOptions options;
  Status s = import::ParsePostgresMapping(mapping_text.str(), &options.mapping);
  if (!s.ok()) {
    spdlog::critical("import postgres: {}: {}", flags.mapping_file, s.message());
    return 2;
  }
  options.connection = flags.connection;
  options.since = flags.since;
  options.skip_bad_values = flags.on_error == "skip";
  options.batch_samples = std::max<size_t>(1, flags.batch_samples);
  options.dry_run = flags.dry_run;
  options.dry_run_rows = flags.dry_run_rows;
  options.dry_run_out = &std::cout;
  ImportTarget target;
  if (!flags.dry_run) {
    int code = OpenTarget(flags, what, &target);
    if (code != 0) return code;
  }
  ProgressPrinter progress(isatty(STDERR_FILENO) != 0);
  options.progress = [&progress](uint64_t done, uint64_t total) { progress.Update("import rows", done, total); };
  import::ImportReport report;
  s = import::ImportFromPostgres(options, target.sink.get(), &report);
  progress.Finish();
  for (const std::string& problem : report.problems) spdlog::warn("import postgres: {}", problem);
  if (!s.ok()) {
    spdlog::critical("import postgres: {}", s.message());
    if (!flags.dry_run) spdlog::critical("import postgres: before the error: {}", report.Summary());
    return 1;
  }
  if (flags.dry_run) return 0;
  spdlog::info("import postgres: {}", report.Summary());
  return report.samples_refused > 0 || report.bad_lines > 0 ? 1 : 0;
}

void AddPostgresCommand(CLI::App* command, const std::shared_ptr<ImportFlags>& flags) {
  CLI::App* sub = command->add_subcommand(
      "postgres", "Rows of a PostgreSQL table, mapped to series by a YAML file (docs/postgres-import.md)");
  sub->add_option("--mapping", flags->mapping_file, "The YAML mapping: table, time column and zone, labels, metrics")
      ->required();
  sub->add_option("--connection", flags->connection,
                  "libpq connection string or URI (postgresql://user@host:5432/db); empty: the PG* environment");
  sub->add_option("--url", flags->url, "A running tsvault to send the samples to (http://HOST:PORT)");
  sub->add_option("--http.config.file", flags->http_config_file,
                  "With --url: credentials and TLS (basic_auth, authorization, tls_config), as Prometheus' HTTP client");
  sub->add_option("--storage.path,--data-dir", flags->data_dir, "A stopped tsvault's data directory");
  sub->add_option("--since", flags->since,
                  "Only rows at or after this date (2025-01-31, in the mapping's zone) or RFC 3339 time");
  sub->add_flag("--dry-run", flags->dry_run, "Print the statement and the samples of the first rows; store nothing");
  sub->add_option("--dry-run-rows", flags->dry_run_rows, "Rows --dry-run shows")->capture_default_str();
  sub->add_option("--on-error", flags->on_error, "At a value that is not a number: stop (default) or skip it")
      ->capture_default_str();
  sub->add_option("--batch-samples", flags->batch_samples, "Samples per write")->capture_default_str();
  sub->callback([flags] { std::exit(RunPostgresImport(*flags)); });
}

void AddFormatCommand(CLI::App* command, const char* name, const char* description, import::ImportFormat format,
                      const std::shared_ptr<ImportFlags>& flags) {
  CLI::App* sub = command->add_subcommand(name, description);
  sub->add_option("FILE", flags->file, "The file to import; - reads stdin")->required();
  sub->add_option("--url", flags->url, "A running tsvault to send the samples to (http://HOST:PORT)");
  sub->add_option("--http.config.file", flags->http_config_file,
                  "With --url: credentials and TLS (basic_auth, authorization, tls_config), as Prometheus' HTTP client");
  sub->add_option("--storage.path,--data-dir", flags->data_dir, "A stopped tsvault's data directory");
  sub->add_option("--on-error", flags->on_error, "At a bad line: stop (default) or skip it and go on")
      ->capture_default_str();
  sub->add_option("--extra-label", flags->extra_labels, "name=value added to every series (repeatable)");
  sub->add_option("--batch-samples", flags->batch_samples, "Samples per write")->capture_default_str();
  if (format == import::ImportFormat::kCsv) {
    sub->add_option("--format", flags->format,
                    "The columns, as VictoriaMetrics' format=: <column>:<metric|label|time>:<name or unix_s|unix_ms|"
                    "unix_ns|rfc3339>,...")
        ->required();
    sub->add_flag("--header", flags->header, "The first line is a header row (skipped)");
  }
  sub->callback([flags, format, name] { std::exit(RunImport(*flags, format, name)); });
}

}  // namespace

void AddImportCommand(CLI::App* app) {
  CLI::App* command = app->add_subcommand("import", "Import samples from files");
  command->require_subcommand(1);
  auto flags = std::make_shared<ImportFlags>();
  AddFormatCommand(command, "csv", "CSV described by --format (VictoriaMetrics' /api/v1/import/csv convention)",
                   import::ImportFormat::kCsv, flags);
  AddFormatCommand(command, "prometheus", "Prometheus text exposition format (timestamps in ms; without: now)",
                   import::ImportFormat::kPrometheusText, flags);
  AddFormatCommand(command, "openmetrics",
                   "OpenMetrics with timestamps, ending in # EOF (what promtool tsdb create-blocks-from openmetrics reads)",
                   import::ImportFormat::kOpenMetrics, flags);
  AddPostgresCommand(command, flags);
}

}  // namespace tsvault::tools
