// Internal to query/api: timestamps of the CSV export in a time zone (IANA
// names, from the system's tz database through Abseil) and in Go layouts
// (VictoriaMetrics' `custom:<layout>`, e.g. "2006-01-02 15:04:05").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tsvault::query {

// A time zone. UTC unless loaded.
class CsvTimeZone {
 public:
  CsvTimeZone();
  ~CsvTimeZone();
  CsvTimeZone(const CsvTimeZone&);
  CsvTimeZone& operator=(const CsvTimeZone&);

  // Loads an IANA zone ("Europe/Moscow", "UTC"); InvalidArgument when the
  // system's tz database does not have it.
  static Status Load(std::string_view name, CsvTimeZone* out);

  bool is_utc() const { return utc_; }

  // The start of the first local day at or after `ms` (a local midnight;
  // where a DST change skips midnight, the first instant of that day).
  int64_t NextMidnight(int64_t ms) const;
  // The local midnight `days` days after the local midnight `midnight`.
  int64_t AddDays(int64_t midnight, int64_t days) const;

  // The local time of `ms`, its fields for formatting.
  struct Local {
    int64_t year;
    int month, day, hour, minute, second, millisecond;
    int weekday;     // 0 = Monday ... 6 = Sunday
    int year_day;    // 1..366
    int offset_seconds;  // east of UTC
    std::string abbreviation;  // "MSK", "CET", "UTC"
  };
  Local At(int64_t ms) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool utc_ = true;
};

// A parsed Go time layout.
class GoTimeLayout {
 public:
  // Parses `layout` as Go's time.Format reads it: the reference time's
  // parts (2006, 01, Jan, 02, 15, 03, 04, 05, .000, PM, MST, -07:00, Z07:00,
  // ...) become fields, everything else is literal text.
  static GoTimeLayout Parse(std::string_view layout);
  // Appends `ms` in `zone` formatted by the layout.
  void Format(int64_t ms, const CsvTimeZone& zone, std::string* out) const;

 private:
  struct Chunk {
    int field;          // 0: literal text
    std::string text;   // the literal
    int digits = 0;     // fractional seconds: digits shown
  };
  std::vector<Chunk> chunks_;
};

// RFC 3339 with milliseconds in `zone` ("2025-01-03T00:00:00+03:00",
// "...:05.5Z" in UTC): whole seconds leave the fraction out and trailing
// zeros are trimmed (`trim`), or all three digits are written.
void AppendRfc3339InZone(int64_t ms, const CsvTimeZone& zone, bool trim, std::string* out);

}  // namespace tsvault::query
