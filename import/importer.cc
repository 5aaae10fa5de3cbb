#include "import/importer.h"
#include "import/sample_batcher.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "import/csv_format.h"
#include "import/csv_reader.h"
#include "import/number_parse.h"
#include "import/text_parser.h"
#include "model/value.h"

namespace tsvault::import {

namespace {

constexpr size_t kMaxReportedProblems = 10;
// A line (or CSV record) longer than this is refused: an unclosed quote or
// a file that is not text would otherwise be buffered whole.
constexpr size_t kMaxLineBytes = 16u << 20;

model::MetricType TypeFromText(const std::string& type) {
  if (type == "counter") return model::MetricType::kCounter;
  if (type == "gauge") return model::MetricType::kGauge;
  if (type == "histogram") return model::MetricType::kHistogram;
  if (type == "gaugehistogram") return model::MetricType::kGaugeHistogram;
  if (type == "summary") return model::MetricType::kSummary;
  if (type == "info") return model::MetricType::kInfo;
  if (type == "stateset") return model::MetricType::kStateset;
  return model::MetricType::kUnknown;
}

std::string WithLine(uint64_t line, const Status& status) {
  return "line " + std::to_string(line) + ", " + status.message();
}

}  // namespace

std::string ImportReport::Summary() const {
  std::string out = std::to_string(lines) + " lines, " + std::to_string(samples_read) + " samples: " +
                    std::to_string(samples_accepted) + " accepted, " + std::to_string(samples_refused) + " refused";
  if (bad_lines > 0) out += ", " + std::to_string(bad_lines) + " bad lines skipped";
  return out;
}

void ImportReport::AddProblem(std::string problem) {
  if (problems.size() < kMaxReportedProblems) problems.push_back(std::move(problem));
}

class Importer::Impl {
 public:
  Impl(ImportOptions options, ImportSink* sink) : options_(std::move(options)), sink_(sink) {
    options_.batch_samples = std::max<size_t>(1, options_.batch_samples);
    std::sort(options_.extra_labels.begin(), options_.extra_labels.end());
  }

  Status Init() {
    if (options_.format != ImportFormat::kCsv) return Status::OK();
    Status s = ParseCsvFormat(options_.csv_format, &columns_);
    if (!s.ok()) return Status::InvalidArgument("format: " + s.message());
    return Status::OK();
  }

  Status Feed(std::string_view data, bool last) {
    if (!failed_.ok()) return failed_;
    Status s = options_.format == ImportFormat::kCsv ? FeedCsv(data, last) : FeedText(data, last);
    if (s.ok() && last) s = Finish();
    if (!s.ok()) failed_ = s;
    return s;
  }

  const ImportReport& report() const { return report_; }

 private:
  Status FeedCsv(std::string_view data, bool last) {
    csv_.Append(data);
    if (last) csv_.Finish();
    Status problem;
    while (csv_.Next(&record_, &problem)) {
      report_.lines = record_.line;
      if (first_record_ && options_.csv_header) {
        first_record_ = false;
        continue;
      }
      first_record_ = false;
      Status s = problem.ok() ? CsvRecordToSamples() : problem;
      if (!s.ok()) {
        s = BadLine(problem.ok() ? Status::InvalidArgument(WithLine(record_.line, s)) : s);
        if (!s.ok()) return s;
      }
      s = FlushIfFull();
      if (!s.ok()) return s;
    }
    if (csv_.buffered() > kMaxLineBytes) {
      return Status::InvalidArgument("line " + std::to_string(report_.lines + 1) + ": a record longer than " +
                                     std::to_string(kMaxLineBytes) + " bytes (an unclosed quote?)");
    }
    return Status::OK();
  }

  Status CsvRecordToSamples() {
    if (record_.fields.size() < columns_.size()) {
      return Status::InvalidArgument("column " + std::to_string(record_.fields.size() + 1) + ": the line has " +
                                     std::to_string(record_.fields.size()) + " columns, the format describes " +
                                     std::to_string(columns_.size()));
    }
    label_fields_.clear();
    int64_t timestamp = options_.default_timestamp_ms;
    values_.clear();
    for (size_t i = 0; i < columns_.size(); ++i) {
      const CsvColumn& column = columns_[i];
      const std::string& field = record_.fields[i];
      switch (column.kind) {
        case CsvColumn::Kind::kIgnored:
          break;
        case CsvColumn::Kind::kLabel:
          label_fields_.emplace_back(&column.name, &field);
          break;
        case CsvColumn::Kind::kTime:
          if (!ParseCsvTime(column, field, &timestamp)) {
            return Status::InvalidArgument("column " + std::to_string(i + 1) + ": \"" + field +
                                           "\" is not a timestamp in the format's time layout");
          }
          break;
        case CsvColumn::Kind::kMetric: {
          if (field.empty()) break;  // no sample in this row for the metric
          double value = 0;
          if (!ParseSampleValue(field, &value)) {
            return Status::InvalidArgument("column " + std::to_string(i + 1) + ": \"" + field +
                                           "\" is not a number");
          }
          values_.emplace_back(&column.name, value);
          break;
        }
      }
    }
    // A row's series is named by its metric and label fields in column
    // order; labels are built only for a series new in the batch.
    row_key_.clear();
    for (const auto& [name, field] : label_fields_) {
      row_key_.append(*field);
      row_key_.push_back('\xff');
    }
    const size_t label_key_size = row_key_.size();
    for (const auto& [name, value] : values_) {
      row_key_.resize(label_key_size);
      row_key_.append(*name);
      ++report_.samples_read;
      if (!pending_.ok()) continue;
      pending_ = batcher_.AddKeyed(
          row_key_,
          [&, name = name] {
            Labels labels;
            labels.reserve(label_fields_.size() + 1 + options_.extra_labels.size());
            for (const auto& [label, field] : label_fields_) labels.push_back({*label, *field});
            labels.push_back({"__name__", *name});
            return WithExtraLabels(std::move(labels));
          },
          timestamp, value);
    }
    return Status::OK();
  }

  Status FeedText(std::string_view data, bool last) {
    while (!data.empty()) {
      const size_t newline = data.find('\n');
      if (newline == std::string_view::npos) {
        partial_line_.append(data);
        if (partial_line_.size() > kMaxLineBytes) {
          return Status::InvalidArgument("line " + std::to_string(report_.lines + 1) + ": longer than " +
                                         std::to_string(kMaxLineBytes) + " bytes");
        }
        break;
      }
      Status s;
      if (partial_line_.empty()) {
        s = TextLineToSample(data.substr(0, newline));
      } else {
        partial_line_.append(data.substr(0, newline));
        s = TextLineToSample(partial_line_);
        partial_line_.clear();
      }
      if (!s.ok()) return s;
      data.remove_prefix(newline + 1);
    }
    if (last && !partial_line_.empty()) {
      std::string line = std::move(partial_line_);
      partial_line_.clear();
      Status s = TextLineToSample(line);
      if (!s.ok()) return s;
    }
    if (last && options_.format == ImportFormat::kOpenMetrics && !saw_eof_) {
      Status s = BadLine(Status::InvalidArgument("line " + std::to_string(report_.lines) +
                                                 ": the input does not end with \"# EOF\" (OpenMetrics requires it)"));
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Status TextLineToSample(std::string_view line) {
    ++report_.lines;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const TextDialect dialect =
        options_.format == ImportFormat::kOpenMetrics ? TextDialect::kOpenMetrics : TextDialect::kPrometheus;
    if (saw_eof_) return BadLine(Status::InvalidArgument("line " + std::to_string(report_.lines) + ": text after \"# EOF\""));
    Status s = ParseTextLine(line, dialect, &text_line_);
    if (!s.ok()) return BadLine(Status::InvalidArgument(WithLine(report_.lines, s)));
    switch (text_line_.kind) {
      case TextLine::Kind::kBlank:
      case TextLine::Kind::kComment:
        return Status::OK();
      case TextLine::Kind::kEof:
        saw_eof_ = true;
        return Status::OK();
      case TextLine::Kind::kHelp:
      case TextLine::Kind::kType:
      case TextLine::Kind::kUnit: {
        model::MetricMetadata& metadata = metadata_[text_line_.family];
        metadata.metric_family_name = text_line_.family;
        if (text_line_.kind == TextLine::Kind::kHelp) metadata.help = text_line_.text;
        if (text_line_.kind == TextLine::Kind::kType) metadata.type = TypeFromText(text_line_.text);
        if (text_line_.kind == TextLine::Kind::kUnit) metadata.unit = text_line_.text;
        return Status::OK();
      }
      case TextLine::Kind::kSample:
        break;
    }
    int64_t timestamp = options_.default_timestamp_ms;
    if (text_line_.has_timestamp) {
      timestamp = text_line_.timestamp_ms;
    } else if (dialect == TextDialect::kOpenMetrics) {
      return BadLine(Status::InvalidArgument("line " + std::to_string(report_.lines) +
                                             ": the sample has no timestamp (backfilled OpenMetrics needs one, as "
                                             "promtool tsdb create-blocks-from openmetrics does)"));
    }
    AddSample(std::move(text_line_.labels), timestamp, text_line_.value);
    return FlushIfFull();
  }

  // A bad line: skipped and counted, or the end of the import (after
  // storing what came before it).
  Status BadLine(Status error) {
    if (options_.skip_bad_lines) {
      ++report_.bad_lines;
      report_.AddProblem(error.message());
      return Status::OK();
    }
    Status s = Flush();
    if (!s.ok()) return s;
    return Status::InvalidArgument(error.message() + "; before it: " + report_.Summary());
  }

  void AddSample(Labels labels, int64_t timestamp_ms, double value) {
    labels = WithExtraLabels(std::move(labels));
    ++report_.samples_read;
    if (pending_.ok()) pending_ = batcher_.Add(labels, timestamp_ms, value);
  }

  // `labels` with the extra labels set (replacing labels of the same name),
  // sorted by name.
  Labels WithExtraLabels(Labels labels) const {
    for (const Label& extra : options_.extra_labels) {
      auto same = std::find_if(labels.begin(), labels.end(), [&](const Label& l) { return l.name == extra.name; });
      if (same != labels.end()) {
        same->value = extra.value;
      } else {
        labels.push_back(extra);
      }
    }
    std::sort(labels.begin(), labels.end());
    return labels;
  }

  // The batcher writes full batches as samples come; its error surfaces here.
  Status FlushIfFull() {
    Status s = pending_;
    pending_ = Status::OK();
    return s;
  }

  Status Flush() {
    for (auto& [family, metadata] : metadata_) batcher_.AddMetadata(std::move(metadata));
    metadata_.clear();
    Status s = FlushIfFull();
    return s.ok() ? batcher_.Flush() : s;
  }

  Status Finish() { return Flush(); }

  ImportOptions options_;
  ImportSink* sink_;
  ImportReport report_;
  Status failed_;  // once an error ended the import
  // CSV
  std::vector<CsvColumn> columns_;
  CsvReader csv_;
  CsvRecord record_;
  // The label columns of the current record: name, value.
  std::vector<std::pair<const std::string*, const std::string*>> label_fields_;
  std::vector<std::pair<const std::string*, double>> values_;
  bool first_record_ = true;
  // Text formats
  std::string partial_line_;
  TextLine text_line_;
  bool saw_eof_ = false;
  std::map<std::string, model::MetricMetadata> metadata_;  // seen since the last batch
  SampleBatcher batcher_{sink_, &report_, options_.batch_samples};
  Status pending_;  // a failed write of the batcher, not reported yet
  std::string row_key_;  // CsvRecordToSamples: the series key of a row
};

Status Importer::Create(ImportOptions options, ImportSink* sink, std::unique_ptr<Importer>* out) {
  auto impl = std::make_unique<Impl>(std::move(options), sink);
  Status s = impl->Init();
  if (!s.ok()) return s;
  out->reset(new Importer(std::move(impl)));
  return Status::OK();
}

Importer::Importer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Importer::~Importer() = default;

Status Importer::Feed(std::string_view data) { return impl_->Feed(data, false); }
Status Importer::Finish() { return impl_->Feed({}, true); }
const ImportReport& Importer::report() const { return impl_->report(); }

}  // namespace tsvault::import
