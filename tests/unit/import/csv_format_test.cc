#include "import/csv_format.h"

#include <gtest/gtest.h>

namespace tsvault::import {
namespace {

TEST(CsvFormatTest, ParsesVictoriaMetricsDescriptions) {
  std::vector<CsvColumn> columns;
  ASSERT_TRUE(ParseCsvFormat("2:metric:ask,3:metric:bid,1:label:ticker,5:time:unix_s", &columns).ok());
  ASSERT_EQ(columns.size(), 5u);
  EXPECT_EQ(columns[0].kind, CsvColumn::Kind::kLabel);
  EXPECT_EQ(columns[0].name, "ticker");
  EXPECT_EQ(columns[1].kind, CsvColumn::Kind::kMetric);
  EXPECT_EQ(columns[1].name, "ask");
  EXPECT_EQ(columns[3].kind, CsvColumn::Kind::kIgnored);
  EXPECT_EQ(columns[4].kind, CsvColumn::Kind::kTime);
  EXPECT_EQ(columns[4].time_layout, CsvTimeLayout::kUnixSeconds);
  ASSERT_TRUE(ParseCsvFormat("1:metric:x:with:colons", &columns).ok());
  EXPECT_EQ(columns[0].name, "x:with:colons");
}

TEST(CsvFormatTest, ErrorsNameTheEntry) {
  std::vector<CsvColumn> columns;
  struct Case {
    const char* spec;
    const char* message;
  } cases[] = {
      {"1:label:a", "format has no metric column"},
      {"1:metric:a,2:bogus:b", "format entry 2 \"2:bogus:b\": unknown column kind \"bogus\""},
      {"1:metric:a,1:label:b", "format entry 2 \"1:label:b\": column 1 is described twice"},
      {"0:metric:a", "format entry 1 \"0:metric:a\": the column must be a number"},
      {"x:metric:a", "format entry 1 \"x:metric:a\": the column must be a number"},
      {"1:metric", "format entry 1 \"1:metric\": want <column>"},
      {"1:metric:", "format entry 1 \"1:metric:\": the metric name is empty"},
      {"1:metric:a,2:time:unix_s,3:time:unix_ms", "format entry 3 \"3:time:unix_ms\": a second time column"},
      {"1:metric:a,2:time:week", "format entry 2 \"2:time:week\": unknown time format"},
      {"1:metric:a,2:time:custom:", "unknown time format"},
  };
  for (const Case& c : cases) {
    Status s = ParseCsvFormat(c.spec, &columns);
    ASSERT_FALSE(s.ok()) << c.spec;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.spec << " -> " << s.message();
  }
}

TEST(CsvFormatTest, TimeLayouts) {
  int64_t ms = 0;
  EXPECT_TRUE(ParseCsvTime(CsvTimeLayout::kUnixSeconds, "1700000000", &ms));
  EXPECT_EQ(ms, 1700000000000);
  EXPECT_TRUE(ParseCsvTime(CsvTimeLayout::kUnixSeconds, "1700000000.25", &ms));
  EXPECT_EQ(ms, 1700000000250);
  EXPECT_TRUE(ParseCsvTime(CsvTimeLayout::kUnixMilliseconds, "1700000000123", &ms));
  EXPECT_EQ(ms, 1700000000123);
  EXPECT_TRUE(ParseCsvTime(CsvTimeLayout::kUnixNanoseconds, "1700000000123456789", &ms));
  EXPECT_EQ(ms, 1700000000123);
  EXPECT_TRUE(ParseCsvTime(CsvTimeLayout::kRfc3339, "2023-11-14T22:13:20.5+01:00", &ms));
  EXPECT_EQ(ms, 1699996400500);
  EXPECT_FALSE(ParseCsvTime(CsvTimeLayout::kUnixSeconds, "soon", &ms));
  EXPECT_FALSE(ParseCsvTime(CsvTimeLayout::kUnixMilliseconds, "1.5", &ms));
  EXPECT_FALSE(ParseCsvTime(CsvTimeLayout::kRfc3339, "2023-11-14 22:13:20", &ms));
  EXPECT_FALSE(ParseCsvTime(CsvTimeLayout::kUnixSeconds, "99999999999999999999", &ms));
}

TEST(CsvFormatTest, CustomGoLayouts) {
  std::vector<CsvColumn> columns;
  ASSERT_TRUE(ParseCsvFormat("1:time:custom:2006-01-02 15:04:05,2:metric:x", &columns).ok());
  int64_t ms = 0;
  EXPECT_TRUE(ParseCsvTime(columns[0], "2023-11-14 22:13:20", &ms));
  EXPECT_EQ(ms, 1700000000000);  // 2023-11-14T22:13:20Z
  EXPECT_TRUE(ParseCsvTime(columns[0], "2023-11-14 22:13:20.25", &ms));  // a fraction after the seconds, as Go reads it
  EXPECT_EQ(ms, 1700000000250);
  EXPECT_FALSE(ParseCsvTime(columns[0], "2023-11-14T22:13:20", &ms));
  EXPECT_FALSE(ParseCsvTime(columns[0], "2023-02-30 00:00:00", &ms));
  EXPECT_FALSE(ParseCsvTime(columns[0], "2023-11-14 22:13:20 extra", &ms));
  ASSERT_TRUE(ParseCsvFormat("1:time:custom:02.01.2006,2:metric:x", &columns).ok());
  EXPECT_TRUE(ParseCsvTime(columns[0], "14.11.2023", &ms));
  EXPECT_EQ(ms, 1699920000000);
  ASSERT_TRUE(ParseCsvFormat("1:time:custom:Jan _2 2006 3:04PM Z07:00,2:metric:x", &columns).ok());
  EXPECT_TRUE(ParseCsvTime(columns[0], "nov 14 2023 1:13AM +03:00", &ms));
  EXPECT_EQ(ms, 1699913580000);  // 2023-11-13T22:13:00Z
  EXPECT_TRUE(ParseCsvTime(columns[0], "Nov 14 2023 12:00PM Z", &ms));
  EXPECT_EQ(ms, 1699963200000);
  EXPECT_FALSE(ParseCsvTime(columns[0], "Nox 14 2023 1:13AM Z", &ms));
}

}  // namespace
}  // namespace tsvault::import
