// CSV export timestamps: IANA zones (DST included), Go layouts as Go's
// time.Format writes them, RFC 3339 with the zone's offset, and step times
// at local midnights split where DST makes a day 23 or 25 hours long.
#include "common/go_time.h"

#include <gtest/gtest.h>

#include "query/api/export_csv_query.h"

namespace tsvault::query {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

TimeZone Zone(const char* name) {
  TimeZone zone;
  EXPECT_TRUE(TimeZone::Load(name, &zone).ok()) << name;
  return zone;
}

std::string Format(const char* layout, int64_t ms, const TimeZone& zone) {
  std::string out;
  GoTimeLayout::Parse(layout).Format(ms, zone, &out);
  return out;
}

// 2025-01-03T21:04:05.120Z, a Friday; 2025-01-04 00:04:05.120 in Moscow (+03).
constexpr int64_t kT = 1735938245120;

TEST(CsvTimeTest, GoLayoutsAsGoFormatsThem) {
  const TimeZone utc;
  const TimeZone moscow = Zone("Europe/Moscow");
  EXPECT_EQ(Format("2006-01-02", kT, utc), "2025-01-03");
  EXPECT_EQ(Format("2006-01-02", kT, moscow), "2025-01-04");
  EXPECT_EQ(Format("2006-01-02 15:04:05", kT, moscow), "2025-01-04 00:04:05");
  EXPECT_EQ(Format("02.01.06 3:4:5 PM", kT, utc), "03.01.25 9:4:5 PM");
  EXPECT_EQ(Format("Mon Jan _2 15:04:05 MST 2006", kT, moscow), "Sat Jan  4 00:04:05 MSK 2025");
  EXPECT_EQ(Format("Monday, January 2", kT, utc), "Friday, January 3");
  EXPECT_EQ(Format("2006-01-02T15:04:05.000Z07:00", kT, utc), "2025-01-03T21:04:05.120Z");
  EXPECT_EQ(Format("2006-01-02T15:04:05.999999999Z07:00", kT, moscow), "2025-01-04T00:04:05.12+03:00");
  EXPECT_EQ(Format("15:04:05.999", kT - 120, utc), "21:04:05");
  EXPECT_EQ(Format("-0700 -07 Z0700", kT, moscow), "+0300 +03 +0300");
  EXPECT_EQ(Format("002 __2 pm", kT, utc), "003   3 pm");
  // Not layout parts: literal text ("Janet" is not Jan + "et").
  EXPECT_EQ(Format("Janet day 2", kT, utc), "Janet day 3");
}

TEST(CsvTimeTest, WhatALayoutWritesItReadsBack) {
  const TimeZone utc;
  for (const char* layout : {"2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05.000Z07:00", "02.01.06 3:04:05 PM",
                             "Mon Jan _2 15:04:05 2006", "Monday, 02-Jan-06 15:04:05.999 -0700", "20060102150405"}) {
    const GoTimeLayout parsed = GoTimeLayout::Parse(layout);
    std::string text;
    parsed.Format(kT, utc, &text);
    int64_t ms = 0;
    std::string error;
    ASSERT_TRUE(parsed.ParseTime(text, &ms, &error)) << layout << ": " << text << ": " << error;
    std::string again;
    parsed.Format(ms, utc, &again);
    EXPECT_EQ(again, text) << layout;
  }
  int64_t ms = 0;
  std::string error;
  EXPECT_FALSE(GoTimeLayout::Parse("2006-01-02").ParseTime("2025-13-01", &ms, &error));
  EXPECT_FALSE(GoTimeLayout::Parse("2006-01-02").ParseTime("2025-1-01", &ms, &error));
  EXPECT_NE(error.find("expected a month at character 6"), std::string::npos) << error;
}

TEST(CsvTimeTest, Rfc3339CarriesTheZonesOffset) {
  std::string out;
  AppendRfc3339InZone(kT, Zone("Europe/Moscow"), true, &out);
  EXPECT_EQ(out, "2025-01-04T00:04:05.12+03:00");
  out.clear();
  AppendRfc3339InZone(kT - 120, TimeZone(), false, &out);
  EXPECT_EQ(out, "2025-01-03T21:04:05.000Z");
  out.clear();
  AppendRfc3339InZone(1719792000000, Zone("America/New_York"), true, &out);  // 2024-07-01T00:00:00Z, EDT
  EXPECT_EQ(out, "2024-06-30T20:00:00-04:00");
}

TEST(CsvTimeTest, UnknownZonesAreRefused) {
  TimeZone zone;
  Status s = TimeZone::Load("Mars/Olympus", &zone);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("unknown time zone \"Mars/Olympus\""), std::string::npos);
}

TEST(CsvTimeTest, DailyStepsLandOnLocalMidnights) {
  // Moscow has no DST: one run, every midnight at 21:00 UTC.
  const int64_t jan1 = 1735689600000;  // 2025-01-01T00:00:00Z
  auto runs = CsvStepRuns(jan1, jan1 + 10 * kDay, kDay, Zone("Europe/Moscow"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].start_ms, jan1 + 21 * kHour);
  EXPECT_EQ(runs[0].step_ms, kDay);
  EXPECT_EQ(runs[0].end_ms, jan1 + 9 * kDay + 21 * kHour);
  // Berlin springs forward on 2025-03-30: the day after it starts 23 hours
  // later, so the runs split there and every point is a local midnight.
  const int64_t mar28 = 1743120000000;  // 2025-03-28T00:00:00Z
  runs = CsvStepRuns(mar28, mar28 + 5 * kDay, kDay, Zone("Europe/Berlin"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].start_ms, mar28 + 23 * kHour);  // 03-29 00:00 CET
  EXPECT_EQ(runs[0].end_ms, mar28 + kDay + 23 * kHour);  // 03-30 00:00 CET
  EXPECT_EQ(runs[1].start_ms, mar28 + 2 * kDay + 22 * kHour);  // 03-31 00:00 CEST
  EXPECT_EQ(runs[1].step_ms, kDay);
  // Sub-day steps and UTC keep the given start.
  runs = CsvStepRuns(mar28 + 5, mar28 + kDay, kHour, Zone("Europe/Berlin"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].start_ms, mar28 + 5);
  runs = CsvStepRuns(mar28 + 5, mar28 + 3 * kDay, kDay, TimeZone());
  EXPECT_EQ(runs[0].start_ms, mar28 + 5);
}

}  // namespace
}  // namespace tsvault::query
