// Times in a time zone (IANA names, from the system's tz database through
// Abseil) and in Go layouts (VictoriaMetrics' `custom:<layout>`, e.g.
// "2006-01-02 15:04:05"), written (the CSV export) and read (the CSV
// import) as Go's time package does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tsvault {

// A time zone. UTC unless loaded.
class TimeZone {
 public:
  TimeZone();
  ~TimeZone();
  TimeZone(const TimeZone&);
  TimeZone& operator=(const TimeZone&);

  // Loads an IANA zone ("Europe/Moscow", "UTC"); InvalidArgument when the
  // system's tz database does not have it.
  static Status Load(std::string_view name, TimeZone* out);

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
  void Format(int64_t ms, const TimeZone& zone, std::string* out) const;
  // Reads `text` as Go's time.Parse does with this layout: literal text
  // must match; numbers, month and day names, AM/PM, zone offsets ("Z",
  // +03:00) and fractions are read (a fraction may follow the seconds even
  // if the layout has none). Without an offset in the text the time is
  // UTC. Milliseconds; finer digits are cut. False, with *error saying
  // where, when the text does not fit or names an impossible date.
  bool ParseTime(std::string_view text, int64_t* ms, std::string* error) const;

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
void AppendRfc3339InZone(int64_t ms, const TimeZone& zone, bool trim, std::string* out);

}  // namespace tsvault
