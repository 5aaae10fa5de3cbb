// Internal to the import module: VictoriaMetrics' CSV column description
// (`format=2:metric:ask,1:label:ticker,4:time:unix_s`) and its time layouts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/go_time.h"
#include "common/status.h"

namespace tsvault::import {

// How a `time` column is written.
enum class CsvTimeLayout { kUnixSeconds, kUnixMilliseconds, kUnixNanoseconds, kRfc3339, kCustom };

// What one CSV column holds.
struct CsvColumn {
  enum class Kind { kIgnored, kMetric, kLabel, kTime };
  Kind kind = Kind::kIgnored;
  std::string name;  // the metric name (kMetric) or label name (kLabel)
  CsvTimeLayout time_layout = CsvTimeLayout::kUnixMilliseconds;  // kTime
  std::shared_ptr<const GoTimeLayout> custom_layout;               // kCustom: `custom:<Go layout>`
};

// Parses a comma-separated list of `<position>:<kind>:<context>` entries
// (positions from 1; kinds metric, label, time; time contexts unix_s,
// unix_ms, unix_ns, rfc3339, custom:<Go layout>) into *columns, indexed by position - 1, with
// kIgnored for unlisted positions. At least one metric column, at most one
// time column, no position twice. Errors name the entry ("entry 2 ...").
Status ParseCsvFormat(std::string_view spec, std::vector<CsvColumn>* columns);

// Parses a time field written in `layout` into Unix milliseconds; false
// when it is not one.
bool ParseCsvTime(CsvTimeLayout layout, std::string_view text, int64_t* ms);
// The same for the time column `column`, custom layouts included.
bool ParseCsvTime(const CsvColumn& column, std::string_view text, int64_t* ms);

}  // namespace tsvault::import
