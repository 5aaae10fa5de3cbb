// `tsvault import postgres`: reads the mapped columns of a table through a
// server-side cursor, in time order and one read-only snapshot, and writes
// their samples through an ImportSink. docs/postgres-import.md.
#include "import/postgres_import.h"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "common/time_parse.h"
#include "import/number_parse.h"
#include "import/sample_batcher.h"

namespace tsvault::import {

namespace {

constexpr char kCursor[] = "tsvault_import";

// What the statements select: column 0 the time in ms, 1 the time column as
// text (for messages), then the label columns, then each distinct value
// column, all as text.
struct Statement {
  std::string select;        // the row statement, ordered by time and labels
  std::string where;         // " WHERE ..." for --since, or empty
  std::string from;          // quoted schema.table
  std::vector<std::string> value_columns;       // distinct, in select order
  std::vector<size_t> metric_value_index;       // per mapped metric: its index in value_columns
  std::string time_sql;      // the quoted time column
  std::string time_type;     // its SQL type: date, timestamp, timestamptz
};

Status CheckColumns(pqxx::work* txn, const PostgresMapping& mapping, std::string* time_type) {
  const pqxx::result columns = txn->exec_params(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
      mapping.schema, mapping.table);
  const std::string table = mapping.schema + "." + mapping.table;
  if (columns.empty()) {
    return Status::NotFound("table " + table +
                            " not found, or not readable by this user (names are case-sensitive as written in the "
                            "mapping: \"ReengagementMetrics\" is not reengagementmetrics)");
  }
  std::map<std::string, std::string> types;
  std::string names;
  for (const pqxx::row& row : columns) {
    types[row[0].c_str()] = row[1].c_str();
    names += std::string(names.empty() ? "" : ", ") + row[0].c_str();
  }
  auto need = [&](const std::string& column, const std::string& role) -> Status {
    if (types.count(column) == 0) {
      return Status::NotFound("column " + column + " (" + role + ") not found in table " + table + "; it has: " + names);
    }
    return Status::OK();
  };
  Status s = need(mapping.time_column, "time.column");
  if (!s.ok()) return s;
  const std::string& type = types[mapping.time_column];
  if (type == "date") {
    *time_type = "date";
  } else if (type == "timestamp without time zone") {
    *time_type = "timestamp";
  } else if (type == "timestamp with time zone") {
    *time_type = "timestamptz";
  } else {
    return Status::InvalidArgument("time column " + mapping.time_column + " of table " + table + " is " + type +
                                   "; it must be a date, timestamp or timestamptz");
  }
  for (const auto& [label, column] : mapping.label_columns) {
    s = need(column, "label " + label);
    if (!s.ok()) return s;
  }
  for (const PostgresMetricMapping& metric : mapping.metrics) {
    s = need(metric.column, "metric " + metric.metric);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status BuildStatement(pqxx::work* txn, const PostgresImportOptions& options, Statement* out) {
  const PostgresMapping& mapping = options.mapping;
  Status s = CheckColumns(txn, mapping, &out->time_type);
  if (!s.ok()) return s;
  try {
    pqxx::subtransaction check(*txn, "timezone");
    check.exec("SELECT now() AT TIME ZONE " + check.quote(mapping.timezone));
    check.commit();
  } catch (const pqxx::sql_error&) {
    return Status::InvalidArgument("time.timezone: PostgreSQL does not know the time zone \"" + mapping.timezone +
                                   "\" (use an IANA name such as Europe/Moscow)");
  }
  out->time_sql = txn->quote_name(mapping.time_column);
  out->from = txn->quote_name(mapping.schema) + "." + txn->quote_name(mapping.table);
  const std::string zone = txn->quote(mapping.timezone);
  std::string instant;  // the row's time as a timestamptz
  if (out->time_type == "date") {
    instant = "(" + out->time_sql + "::timestamp AT TIME ZONE " + zone + ")";
  } else if (out->time_type == "timestamp") {
    instant = "(" + out->time_sql + " AT TIME ZONE " + zone + ")";
  } else {
    instant = out->time_sql;
  }
  if (!options.since.empty()) {
    out->where = " WHERE " + out->time_sql + " >= " + txn->quote(options.since) + "::" + out->time_type;
  }
  std::string select = "SELECT (extract(epoch FROM " + instant + ") * 1000)::bigint, " + out->time_sql + "::text";
  std::string order = " ORDER BY 1";
  size_t position = 3;
  for (const auto& [label, column] : mapping.label_columns) {
    select += ", " + txn->quote_name(column) + "::text";
    order += ", " + std::to_string(position++);
  }
  for (const PostgresMetricMapping& metric : mapping.metrics) {
    auto found = std::find(out->value_columns.begin(), out->value_columns.end(), metric.column);
    out->metric_value_index.push_back(static_cast<size_t>(found - out->value_columns.begin()));
    if (found == out->value_columns.end()) {
      out->value_columns.push_back(metric.column);
      select += ", " + txn->quote_name(metric.column) + "::text";
    }
  }
  out->select = select + " FROM " + out->from + out->where + order;
  return Status::OK();
}

// The label values of a row (NULL is empty), in mapping order.
std::vector<std::string> LabelValues(const pqxx::row& row, size_t count) {
  std::vector<std::string> values;
  values.reserve(count);
  for (size_t i = 0; i < count; ++i) values.emplace_back(row[static_cast<int>(2 + i)].is_null() ? "" : row[static_cast<int>(2 + i)].c_str());
  return values;
}

// The series of `metric` for a row's label values: empty values leave
// their label out. Sorted by name.
Labels SeriesLabels(const PostgresMapping& mapping, const std::string& metric, const std::vector<std::string>& values) {
  Labels labels = mapping.constant_labels;
  labels.push_back({"__name__", metric});
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].empty()) labels.push_back({mapping.label_columns[i].first, values[i]});
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

// "date 2025-01-03, level=easy, type=email": a row for people.
std::string DescribeRow(const PostgresMapping& mapping, const std::string& time_text,
                        const std::vector<std::string>& labels) {
  std::string out = mapping.time_column + " " + time_text;
  for (size_t i = 0; i < labels.size(); ++i) out += ", " + mapping.label_columns[i].second + "=" + labels[i];
  return out;
}

// Turns rows into samples: sums the rows of one (time, labels) group,
// keeps the running totals of counters, hands samples to the batcher.
class RowFolder {
 public:
  RowFolder(const PostgresImportOptions& options, const Statement& statement, SampleBatcher* batcher,
            ImportReport* report)
      : options_(options), statement_(statement), batcher_(batcher), report_(report),
        sums_(statement.value_columns.size()), has_(statement.value_columns.size()) {}

  // Counters start from these totals (the rows before --since).
  void SetBase(const std::vector<std::string>& labels, const std::string& metric, double total) {
    totals_[SeriesKey(metric, labels)] = total;
  }

  Status Add(const pqxx::row& row) {
    ++report_->lines;
    const size_t label_count = options_.mapping.label_columns.size();
    const std::string time_text = row[1].is_null() ? "NULL" : row[1].c_str();
    std::vector<std::string> labels = LabelValues(row, label_count);
    if (row[0].is_null()) {
      return Bad("row " + std::to_string(report_->lines) + " (" + DescribeRow(options_.mapping, time_text, labels) +
                 "): column " + options_.mapping.time_column + " is NULL");
    }
    const int64_t t = row[0].as<int64_t>();
    if (!open_ || t != time_ || labels != labels_) {
      Status s = Close();
      if (!s.ok()) return s;
      open_ = true;
      time_ = t;
      time_text_ = time_text;
      labels_ = std::move(labels);
    }
    for (size_t i = 0; i < statement_.value_columns.size(); ++i) {
      const pqxx::field field = row[static_cast<int>(2 + label_count + i)];
      if (field.is_null()) continue;
      double value;
      if (!ParseSampleValue(std::string_view(field.c_str(), field.size()), &value)) {
        Status s = Bad("row " + std::to_string(report_->lines) + " (" +
                       DescribeRow(options_.mapping, time_text_, labels_) + "): column " +
                       statement_.value_columns[i] + ": \"" + field.c_str() + "\" is not a number");
        if (!s.ok()) return s;
        continue;
      }
      sums_[i] += value;
      has_[i] = true;
    }
    return Status::OK();
  }

  // Emits the open group.
  Status Close() {
    if (!open_) return Status::OK();
    open_ = false;
    const PostgresMapping& mapping = options_.mapping;
    for (size_t m = 0; m < mapping.metrics.size(); ++m) {
      const size_t column = statement_.metric_value_index[m];
      if (!has_[column]) continue;
      double value = sums_[column];
      if (mapping.metrics[m].type == PostgresMetricType::kCounter) {
        double& total = totals_[SeriesKey(mapping.metrics[m].metric, labels_)];
        total += value;
        value = total;
      }
      ++report_->samples_read;
      Status s = batcher_->Add(SeriesLabels(mapping, mapping.metrics[m].metric, labels_), time_, value);
      if (!s.ok()) return s;
    }
    std::fill(sums_.begin(), sums_.end(), 0.0);
    std::fill(has_.begin(), has_.end(), false);
    return Status::OK();
  }

 private:
  static std::string SeriesKey(const std::string& metric, const std::vector<std::string>& labels) {
    std::string key = metric;
    for (const std::string& value : labels) key += '\xff' + value;
    return key;
  }

  Status Bad(std::string problem) {
    if (!options_.skip_bad_values) return Status::InvalidArgument(std::move(problem));
    ++report_->bad_lines;
    report_->AddProblem(std::move(problem));
    return Status::OK();
  }

  const PostgresImportOptions& options_;
  const Statement& statement_;
  SampleBatcher* batcher_;
  ImportReport* report_;
  bool open_ = false;
  int64_t time_ = 0;
  std::string time_text_;
  std::vector<std::string> labels_;
  std::vector<double> sums_;
  std::vector<bool> has_;
  std::unordered_map<std::string, double> totals_;
};

// The totals of counter columns over the rows before --since, per label values.
Status LoadCounterBases(pqxx::work* txn, const PostgresImportOptions& options, const Statement& statement,
                        RowFolder* folder) {
  const PostgresMapping& mapping = options.mapping;
  std::string select = "SELECT ";
  std::string group;
  for (size_t i = 0; i < mapping.label_columns.size(); ++i) {
    const std::string column = "COALESCE(" + txn->quote_name(mapping.label_columns[i].second) + "::text, '')";
    select += column + ", ";
    group += std::string(group.empty() ? " GROUP BY " : ", ") + column;
  }
  std::vector<const PostgresMetricMapping*> counters;
  for (const PostgresMetricMapping& metric : mapping.metrics) {
    if (metric.type != PostgresMetricType::kCounter) continue;
    counters.push_back(&metric);
    select += "sum(" + txn->quote_name(metric.column) + "::float8), ";
  }
  if (counters.empty()) return Status::OK();
  select.resize(select.size() - 2);
  select += " FROM " + statement.from + " WHERE " + statement.time_sql + " < " + txn->quote(options.since) +
            "::" + statement.time_type + group;
  const pqxx::result bases = txn->exec(select);
  const size_t label_count = mapping.label_columns.size();
  for (const pqxx::row& row : bases) {
    std::vector<std::string> labels;
    for (size_t i = 0; i < label_count; ++i) labels.emplace_back(row[static_cast<int>(i)].c_str());
    for (size_t c = 0; c < counters.size(); ++c) {
      const pqxx::field sum = row[static_cast<int>(label_count + c)];
      if (!sum.is_null()) folder->SetBase(labels, counters[c]->metric, sum.as<double>());
    }
  }
  return Status::OK();
}

Status DryRun(pqxx::work* txn, const PostgresImportOptions& options, const Statement& statement) {
  std::ostream& out = *options.dry_run_out;
  out << "statement: " << statement.select << " LIMIT " << options.dry_run_rows << "\n";
  class PrintingSink : public ImportSink {
   public:
    explicit PrintingSink(std::ostream* out) : out_(out) {}
    Status Write(storage::WriteInput* input, ImportReport*) override {
      for (const storage::SeriesWrite& series : input->series) {
        for (const storage::Sample& sample : series.samples) {
          *out_ << LabelsToString(series.labels) << " " << fmt::format("{}", sample.value) << " " << sample.timestamp_ms
                << " (" << FormatRfc3339(sample.timestamp_ms) << ")\n";
        }
      }
      return Status::OK();
    }

   private:
    std::ostream* out_;
  } sink(&out);
  ImportReport report;
  SampleBatcher batcher(&sink, &report, 1);  // one sample per write: printed in row order
  RowFolder folder(options, statement, &batcher, &report);
  Status s = options.since.empty() ? Status::OK() : LoadCounterBases(txn, options, statement, &folder);
  if (!s.ok()) return s;
  const pqxx::result rows = txn->exec(statement.select + " LIMIT " + std::to_string(options.dry_run_rows));
  for (const pqxx::row& row : rows) {
    s = folder.Add(row);
    if (!s.ok()) return s;
  }
  s = folder.Close();
  if (s.ok()) s = batcher.Flush();
  out << "dry run: " << rows.size() << " rows shown, nothing stored\n";
  return s;
}

Status Run(pqxx::work* txn, const PostgresImportOptions& options, ImportSink* sink, ImportReport* report) {
  // One snapshot for the count, the counter bases and the rows.
  txn->exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
  Statement statement;
  Status s = BuildStatement(txn, options, &statement);
  if (!s.ok()) return s;
  if (options.dry_run) return DryRun(txn, options, statement);

  const uint64_t total = txn->exec("SELECT count(*) FROM " + statement.from + statement.where)[0][0].as<uint64_t>();
  SampleBatcher batcher(sink, report, options.batch_samples);
  RowFolder folder(options, statement, &batcher, report);
  if (!options.since.empty()) {
    s = LoadCounterBases(txn, options, statement, &folder);
    if (!s.ok()) return s;
  }
  txn->exec(std::string("DECLARE ") + kCursor + " NO SCROLL CURSOR FOR " + statement.select);
  const std::string fetch = "FETCH FORWARD " + std::to_string(options.fetch_rows) + " FROM " + kCursor;
  uint64_t done = 0;
  while (true) {
    const pqxx::result rows = txn->exec(fetch);
    for (const pqxx::row& row : rows) {
      s = folder.Add(row);
      if (!s.ok()) break;
    }
    if (!s.ok()) break;
    done += rows.size();
    if (options.progress) options.progress(done, total);
    if (rows.size() < options.fetch_rows) break;
  }
  // What came before a bad row is stored first.
  Status closed = folder.Close();
  if (s.ok()) s = closed;
  Status flushed = batcher.Flush();
  return s.ok() ? flushed : s;
}

}  // namespace

Status ImportFromPostgres(const PostgresImportOptions& options, ImportSink* sink, ImportReport* report) {
  if (options.dry_run && options.dry_run_out == nullptr) return Status::InvalidArgument("dry run without an output");
  if (options.fetch_rows == 0 || options.batch_samples == 0) return Status::InvalidArgument("fetch and batch sizes must be positive");
  try {
    pqxx::connection connection(options.connection);
    pqxx::work txn(connection);
    return Run(&txn, options, sink, report);
  } catch (const pqxx::broken_connection& error) {
    return Status::IOError(std::string("PostgreSQL connection failed: ") + error.what());
  } catch (const pqxx::sql_error& error) {
    std::string message = error.what();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return Status::InvalidArgument("PostgreSQL: " + message + " (statement: " + error.query() + ")");
  } catch (const std::exception& error) {
    return Status::IOError(std::string("PostgreSQL: ") + error.what());
  }
}

}  // namespace tsvault::import
