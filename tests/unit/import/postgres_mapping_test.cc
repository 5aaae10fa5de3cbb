// The YAML mapping of `tsvault import postgres`: the shipped examples
// parse, and mistakes are named by line and column.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "import/postgres_import.h"

namespace tsvault::import {
namespace {

Status Parse(const std::string& text, PostgresMapping* mapping) { return ParsePostgresMapping(text, mapping); }

TEST(PostgresMappingTest, ReadsEveryKey) {
  PostgresMapping mapping;
  ASSERT_TRUE(Parse(R"(schema: app
table: ReengagementMetrics
time:
  column: date
  timezone: Europe/Moscow
labels:
  level: level
  type: type
constant_labels:
  source: pg
metrics:
  - column: notifications_sent
    name: reengagement_notifications_sent
  - column: notifications_sent
    name: reengagement_notifications_sent_total
    type: counter
)",
                    &mapping)
                  .ok());
  EXPECT_EQ(mapping.schema, "app");
  EXPECT_EQ(mapping.table, "ReengagementMetrics");
  EXPECT_EQ(mapping.time_column, "date");
  EXPECT_EQ(mapping.timezone, "Europe/Moscow");
  ASSERT_EQ(mapping.label_columns.size(), 2u);
  EXPECT_EQ(mapping.label_columns[1], (std::pair<std::string, std::string>{"type", "type"}));
  EXPECT_EQ(mapping.constant_labels, (Labels{{"source", "pg"}}));
  ASSERT_EQ(mapping.metrics.size(), 2u);
  EXPECT_EQ(mapping.metrics[0].type, PostgresMetricType::kGauge);
  EXPECT_EQ(mapping.metrics[1].type, PostgresMetricType::kCounter);
}

TEST(PostgresMappingTest, DefaultsArePublicAndUtc) {
  PostgresMapping mapping;
  ASSERT_TRUE(Parse("table: t\ntime: {column: day}\nmetrics: [{column: n, name: n}]\n", &mapping).ok());
  EXPECT_EQ(mapping.schema, "public");
  EXPECT_EQ(mapping.timezone, "UTC");
  EXPECT_TRUE(mapping.label_columns.empty());
}

TEST(PostgresMappingTest, ShippedExamplesParse) {
  for (const char* name : {"reengagement-metrics.yaml", "course-statistics.yaml"}) {
    std::ifstream file(std::string(TSVAULT_SOURCE_DIR) + "/docs/examples/" + name);
    ASSERT_TRUE(file) << name;
    std::stringstream text;
    text << file.rdbuf();
    PostgresMapping mapping;
    Status s = Parse(text.str(), &mapping);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
    EXPECT_FALSE(mapping.metrics.empty()) << name;
  }
}

TEST(PostgresMappingTest, MistakesAreNamedByLineAndColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  } cases[] = {
      {"time: {column: d}\nmetrics: [{column: n, name: n}]\n", "the mapping needs a table"},
      {"table: t\nmetrics: [{column: n, name: n}]\n", "the mapping needs time"},
      {"table: t\ntime: {column: d}\n", "metrics must be a list"},
      {"table: t\ntime: {column: d}\nmetrics: []\n", "metrics must be a list"},
      {"table: t\ntime: {column: d}\nmetrics:\n  - column: n\n    name: 1bad\n", "line 5, column 11: \"1bad\" is not a valid metric name"},
      {"table: t\ntime: {column: d}\nmetrics: [{column: n, name: n, type: sum}]\n", "type must be gauge"},
      {"table: t\ntime: {column: d}\nlabels: {__x: c}\nmetrics: [{column: n, name: n}]\n", "\"__x\" is not a valid label name"},
      {"table: t\ntime: {column: d}\nlabels: {a: c}\nconstant_labels: {a: v}\nmetrics: [{column: n, name: n}]\n", "label a is mapped twice"},
      {"table: t\ntime: {column: d}\nmetrics: [{column: n, name: n}, {column: m, name: n}]\n", "metric n is mapped twice"},
      {"table: t\ntime: {column: d, zone: UTC}\nmetrics: [{column: n, name: n}]\n", "line 2, column 19: unknown key \"zone\" in time"},
      {"table: t\ntabel: u\n", "unknown key \"tabel\""},
      {"table: [t\n", "mapping line"},
  };
  for (const Case& c : cases) {
    PostgresMapping mapping;
    Status s = Parse(c.yaml, &mapping);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.yaml;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.yaml << " -> " << s.message();
  }
}

}  // namespace
}  // namespace tsvault::import
