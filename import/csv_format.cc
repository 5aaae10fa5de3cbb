#include "import/csv_format.h"

#include <cmath>
#include <limits>

#include "common/time_parse.h"
#include "import/number_parse.h"

namespace tsvault::import {

namespace {

constexpr size_t kMaxColumns = 64 * 1024;  // VictoriaMetrics' bound too

std::string Entry(size_t index, std::string_view entry) {
  return "format entry " + std::to_string(index) + " \"" + std::string(entry) + "\"";
}

}  // namespace

Status ParseCsvFormat(std::string_view spec, std::vector<CsvColumn>* columns) {
  columns->clear();
  bool has_metric = false, has_time = false;
  size_t index = 0;
  while (true) {
    ++index;
    const size_t comma = spec.find(',');
    const std::string_view entry = spec.substr(0, comma);
    const size_t first = entry.find(':');
    const size_t second = first == std::string_view::npos ? first : entry.find(':', first + 1);
    if (second == std::string_view::npos) {
      return Status::InvalidArgument(Entry(index, entry) + ": want <column>:<metric|label|time>:<name or time format>");
    }
    int64_t position = 0;
    if (!ParseInteger(entry.substr(0, first), &position) || position < 1 ||
        position > static_cast<int64_t>(kMaxColumns)) {
      return Status::InvalidArgument(Entry(index, entry) + ": the column must be a number from 1 to " +
                                     std::to_string(kMaxColumns));
    }
    const std::string_view kind = entry.substr(first + 1, second - first - 1);
    const std::string_view context = entry.substr(second + 1);
    CsvColumn column;
    if (kind == "metric" || kind == "label") {
      if (context.empty()) return Status::InvalidArgument(Entry(index, entry) + ": the " + std::string(kind) + " name is empty");
      column.kind = kind == "metric" ? CsvColumn::Kind::kMetric : CsvColumn::Kind::kLabel;
      column.name = std::string(context);
      has_metric |= kind == "metric";
    } else if (kind == "time") {
      if (has_time) return Status::InvalidArgument(Entry(index, entry) + ": a second time column");
      has_time = true;
      column.kind = CsvColumn::Kind::kTime;
      if (context == "unix_s") {
        column.time_layout = CsvTimeLayout::kUnixSeconds;
      } else if (context == "unix_ms") {
        column.time_layout = CsvTimeLayout::kUnixMilliseconds;
      } else if (context == "unix_ns") {
        column.time_layout = CsvTimeLayout::kUnixNanoseconds;
      } else if (context == "rfc3339") {
        column.time_layout = CsvTimeLayout::kRfc3339;
      } else if (context.starts_with("custom:") && context.size() > 7) {
        column.time_layout = CsvTimeLayout::kCustom;
        column.custom_layout = std::make_shared<const GoTimeLayout>(GoTimeLayout::Parse(context.substr(7)));
      } else {
        return Status::InvalidArgument(Entry(index, entry) +
                                       ": unknown time format (unix_s, unix_ms, unix_ns, rfc3339, custom:<Go layout>)");
      }
    } else {
      return Status::InvalidArgument(Entry(index, entry) + ": unknown column kind \"" + std::string(kind) +
                                     "\" (metric, label, time)");
    }
    const size_t slot = static_cast<size_t>(position - 1);
    if (columns->size() <= slot) columns->resize(slot + 1);
    if ((*columns)[slot].kind != CsvColumn::Kind::kIgnored) {
      return Status::InvalidArgument(Entry(index, entry) + ": column " + std::to_string(position) + " is described twice");
    }
    (*columns)[slot] = std::move(column);
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  if (!has_metric) return Status::InvalidArgument("format has no metric column (e.g. 2:metric:temperature)");
  return Status::OK();
}

bool ParseCsvTime(const CsvColumn& column, std::string_view text, int64_t* ms) {
  if (column.time_layout != CsvTimeLayout::kCustom) return ParseCsvTime(column.time_layout, text, ms);
  std::string unused;
  return column.custom_layout != nullptr && column.custom_layout->ParseTime(text, ms, &unused);
}

bool ParseCsvTime(CsvTimeLayout layout, std::string_view text, int64_t* ms) {
  switch (layout) {
    case CsvTimeLayout::kCustom:
      return false;  // needs the column's layout
    case CsvTimeLayout::kRfc3339:
      return ParseRfc3339(text, ms);
    case CsvTimeLayout::kUnixMilliseconds:
      return ParseInteger(text, ms);
    case CsvTimeLayout::kUnixNanoseconds: {
      int64_t ns = 0;
      if (!ParseInteger(text, &ns)) return false;
      *ms = ns / 1'000'000;
      return true;
    }
    case CsvTimeLayout::kUnixSeconds: {
      // Whole seconds, or with a fraction (kept to the millisecond).
      int64_t seconds = 0;
      if (ParseInteger(text, &seconds)) {
        if (seconds > std::numeric_limits<int64_t>::max() / 1000 || seconds < std::numeric_limits<int64_t>::min() / 1000) {
          return false;
        }
        *ms = seconds * 1000;
        return true;
      }
      double value = 0;
      if (!ParseSampleValue(text, &value) || !std::isfinite(value) || std::fabs(value) > 9.2e15) return false;
      *ms = static_cast<int64_t>(std::llround(value * 1000));
      return true;
    }
  }
  return false;
}

}  // namespace tsvault::import
