// Imports samples from text: CSV (VictoriaMetrics' format= description),
// the Prometheus text exposition format and OpenMetrics. The input is fed
// in pieces of any size; parsed samples are grouped by series into
// batches of about ImportOptions::batch_samples and handed to an
// ImportSink, which stores them through the one ingest path (the
// Ingester, in-process or behind a server's Remote Write endpoint).
// See docs/csv.md and docs/import.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "storage/types.h"

namespace tsvault::import {

enum class ImportFormat {
  kCsv,             // ImportOptions::csv_format describes the columns
  kPrometheusText,  // text exposition 0.0.4; timestamps in ms, optional
  kOpenMetrics,     // OpenMetrics 1.0 as promtool's backfill reads it
};

struct ImportOptions {
  ImportFormat format = ImportFormat::kCsv;
  // VictoriaMetrics' column description, e.g. "1:label:level,2:time:rfc3339,3:metric:sent".
  std::string csv_format;
  // The first CSV record is a header row and is skipped.
  bool csv_header = false;
  // Bad lines: stop at the first (false), or skip and count them (true).
  bool skip_bad_lines = false;
  // The time of samples written without one (CSV without a time column,
  // Prometheus text without timestamps). OpenMetrics samples need their own.
  int64_t default_timestamp_ms = 0;
  // Labels added to every series (VictoriaMetrics' extra_label); they
  // replace labels of the same name.
  Labels extra_labels;
  // Samples per batch handed to the sink.
  size_t batch_samples = 20000;
};

// What an import did so far.
struct ImportReport {
  uint64_t lines = 0;             // lines (CSV records) read, blank ones and comments included
  uint64_t samples_read = 0;      // samples the good lines held
  uint64_t samples_accepted = 0;  // stored, or already stored with the same value
  uint64_t samples_refused = 0;   // refused: bad labels, a different value at the same time, too old
  uint64_t bad_lines = 0;         // skipped (ImportOptions::skip_bad_lines)
  std::vector<std::string> problems;  // the first few bad lines and refusals, described

  // One line for people: "12 lines, 30 samples: 30 accepted, 0 refused".
  std::string Summary() const;
  // Adds a problem description, keeping the first few.
  void AddProblem(std::string problem);
};

// Where batches go.
class ImportSink {
 public:
  virtual ~ImportSink() = default;
  // Stores `input` (labels not yet validated; the sink validates them as
  // every ingest path does). Adds what was accepted and refused to *report.
  // Returns non-OK when the batch could not be stored at all.
  virtual Status Write(storage::WriteInput* input, ImportReport* report) = 0;
};

// Parses input and feeds the sink. Not thread-safe.
class Importer {
 public:
  // Checks the options (the CSV format description). `sink` must outlive
  // the importer.
  static Status Create(ImportOptions options, ImportSink* sink, std::unique_ptr<Importer>* out);
  ~Importer();

  // Parses `data`, the next piece of the input. Returns InvalidArgument
  // naming the line and column of the first bad line (unless skipped);
  // what came before it is stored first. Returns the sink's error when a
  // batch could not be stored.
  Status Feed(std::string_view data);
  // The input ended: parses what is left and stores every pending sample.
  Status Finish();

  const ImportReport& report() const;

 private:
  class Impl;
  explicit Importer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::import
