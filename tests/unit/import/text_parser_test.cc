#include "import/text_parser.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tsvault::import {
namespace {

TEST(TextParserTest, PrometheusSamples) {
  TextLine line;
  ASSERT_TRUE(ParseTextLine(R"(http_requests_total{method="post",code="200"} 1027 1395066363000)",
                            TextDialect::kPrometheus, &line)
                  .ok());
  EXPECT_EQ(line.kind, TextLine::Kind::kSample);
  EXPECT_EQ(line.labels, (Labels{{"__name__", "http_requests_total"}, {"method", "post"}, {"code", "200"}}));
  EXPECT_EQ(line.value, 1027);
  EXPECT_TRUE(line.has_timestamp);
  EXPECT_EQ(line.timestamp_ms, 1395066363000);

  ASSERT_TRUE(ParseTextLine("  metric_without_labels   +Inf", TextDialect::kPrometheus, &line).ok());
  EXPECT_TRUE(std::isinf(line.value));
  EXPECT_FALSE(line.has_timestamp);
  ASSERT_TRUE(ParseTextLine(R"(msdos{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\"",} NaN)",
                            TextDialect::kPrometheus, &line)
                  .ok());
  EXPECT_EQ(line.labels[1].value, R"(C:\DIR\FILE.TXT)");
  EXPECT_EQ(line.labels[2].value, "Cannot find file:\n\"FILE.TXT\"");
  EXPECT_TRUE(std::isnan(line.value));
  ASSERT_TRUE(ParseTextLine("x {a=\"1\"} -1.5e3", TextDialect::kPrometheus, &line).ok());
  EXPECT_EQ(line.value, -1500);
  // As Go's ParseFloat: underflow is 0, overflow an error.
  ASSERT_TRUE(ParseTextLine("x 1e-400", TextDialect::kPrometheus, &line).ok());
  EXPECT_EQ(line.value, 0);
  EXPECT_FALSE(ParseTextLine("x 1e400", TextDialect::kPrometheus, &line).ok());
  EXPECT_FALSE(ParseTextLine("x nan(1)", TextDialect::kPrometheus, &line).ok());
}

TEST(TextParserTest, CommentsAndMetadata) {
  TextLine line;
  ASSERT_TRUE(ParseTextLine("# HELP api_http_requests_total The total number\\nof requests.", TextDialect::kPrometheus,
                            &line)
                  .ok());
  EXPECT_EQ(line.kind, TextLine::Kind::kHelp);
  EXPECT_EQ(line.family, "api_http_requests_total");
  EXPECT_EQ(line.text, "The total number\nof requests.");
  ASSERT_TRUE(ParseTextLine("# TYPE rpc_duration_seconds summary", TextDialect::kPrometheus, &line).ok());
  EXPECT_EQ(line.kind, TextLine::Kind::kType);
  EXPECT_EQ(line.text, "summary");
  ASSERT_TRUE(ParseTextLine("# just a comment", TextDialect::kPrometheus, &line).ok());
  EXPECT_EQ(line.kind, TextLine::Kind::kComment);
  ASSERT_TRUE(ParseTextLine("", TextDialect::kPrometheus, &line).ok());
  EXPECT_EQ(line.kind, TextLine::Kind::kBlank);
  ASSERT_TRUE(ParseTextLine("# EOF", TextDialect::kOpenMetrics, &line).ok());
  EXPECT_EQ(line.kind, TextLine::Kind::kEof);
  ASSERT_TRUE(ParseTextLine("# UNIT process_cpu_seconds seconds", TextDialect::kOpenMetrics, &line).ok());
  EXPECT_EQ(line.kind, TextLine::Kind::kUnit);
  EXPECT_EQ(line.text, "seconds");
}

TEST(TextParserTest, OpenMetricsTimestampsAreSecondsAndExemplarsAreSkipped) {
  TextLine line;
  ASSERT_TRUE(ParseTextLine(R"(foo_bucket{le="0.01"} 0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67 1520879602.3)",
                            TextDialect::kOpenMetrics, &line)
                  .ok());
  EXPECT_EQ(line.timestamp_ms, 1520879607789);
  EXPECT_EQ(line.labels.size(), 2u);
  ASSERT_TRUE(ParseTextLine("foo_total 17.0 1520879607", TextDialect::kOpenMetrics, &line).ok());
  EXPECT_EQ(line.timestamp_ms, 1520879607000);
}

TEST(TextParserTest, ErrorsNameTheColumn) {
  TextLine line;
  struct Case {
    const char* text;
    TextDialect dialect;
    const char* message;
  } cases[] = {
      {"metric{a=\"1\" 5", TextDialect::kPrometheus, "column 14: expected ',' or '}' after the label value"},
      {"metric{a:\"1\"} 5", TextDialect::kPrometheus, "column 9: expected '=' after the label name"},
      {"metric{a=1} 5", TextDialect::kPrometheus, "column 10: expected '\"' to start the label value"},
      {"metric{a=\"1} 5", TextDialect::kPrometheus, "the label value has no closing '\"'"},
      {"metric abc", TextDialect::kPrometheus, "column 8: \"abc\" is not a number"},
      {"metric 1 12.5", TextDialect::kPrometheus, "column 10: \"12.5\" is not a timestamp in milliseconds"},
      {"metric 1 2 3", TextDialect::kPrometheus, "column 12: unexpected text after the sample"},
      {"metric", TextDialect::kPrometheus, "expected a sample value"},
      {"9metric 1", TextDialect::kPrometheus, "column 1: expected a metric name"},
      {"# TYPE m colour", TextDialect::kPrometheus, "unknown metric type \"colour\""},
      {"", TextDialect::kOpenMetrics, "empty lines are not allowed"},
      {"# random comment", TextDialect::kOpenMetrics, "unknown comment"},
      {"m{a=\"\\q\"} 1 1", TextDialect::kOpenMetrics, "invalid escape \\q"},
      {"m 1 x", TextDialect::kOpenMetrics, "\"x\" is not a timestamp in seconds"},
  };
  for (const Case& c : cases) {
    Status s = ParseTextLine(c.text, c.dialect, &line);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.text << " -> " << s.message();
  }
}

}  // namespace
}  // namespace tsvault::import
