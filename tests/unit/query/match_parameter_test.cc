// match[] goes through the PromQL parser's selector entry point, with
// Prometheus' non-empty-matcher rule on top.
#include "query/api/match_parameter.h"

#include <gtest/gtest.h>

#include "query/promql/text.h"

namespace tsvault::query {
namespace {

std::vector<storage::LabelMatcher> ParseOne(const std::string& selector) {
  std::vector<std::vector<storage::LabelMatcher>> sets;
  Status status = ParseMatchParameter({selector}, &sets);
  EXPECT_TRUE(status.ok()) << selector << ": " << status.ToString();
  return sets.empty() ? std::vector<storage::LabelMatcher>{} : sets[0];
}

TEST(MatchParameterTest, ParsesNameAndMatchers) {
  auto m = ParseOne("http_requests_total{app=~\"web|admin\", status!='200',route=`/a\\b`}");
  ASSERT_EQ(m.size(), 4u);
  // As Prometheus' ParseMetricSelector: the implicit name matcher comes last.
  EXPECT_EQ(m[0].type(), storage::MatchType::kRegexMatch);
  EXPECT_EQ(m[1].value(), "200");
  EXPECT_EQ(m[2].value(), "/a\\b");
  EXPECT_EQ(m[3].ToString(), "__name__=\"http_requests_total\"");
  EXPECT_EQ(ParseOne("{__name__=\"up\"}").size(), 1u);
  EXPECT_EQ(ParseOne("job:rate5m{}")[0].value(), "job:rate5m");
}

TEST(MatchParameterTest, SeveralValuesGiveSeveralSets) {
  std::vector<std::vector<storage::LabelMatcher>> sets;
  ASSERT_TRUE(ParseMatchParameter({"up", "{job=\"node\"}"}, &sets).ok());
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[1][0].name(), "job");
}

TEST(MatchParameterTest, RejectsBadInputNamingTheParameterAndPosition) {
  std::vector<std::vector<storage::LabelMatcher>> sets;
  Status s = ParseMatchParameter({"up{job=}"}, &sets);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("invalid parameter \"match[]\": 1:8: parse error", 0), 0u) << s.message();
  for (const char* bad : {"up{job=\"a\"", "up{job=~\"(\"}", "up{job=\"a\"} extra", "", "up[5m]",
                          "up offset 5m", "sum(up)"}) {
    EXPECT_FALSE(ParseMatchParameter({bad}, &sets).ok()) << bad;
  }
}

TEST(MatchParameterTest, RequiresANonEmptyMatcher) {
  std::vector<std::vector<storage::LabelMatcher>> sets;
  for (const char* empty : {"{}", "{job=\"\"}", "{job=~\".*\"}", "{job!=\"x\"}"}) {
    Status s = ParseMatchParameter({"up", empty}, &sets);
    ASSERT_FALSE(s.ok()) << empty;
    EXPECT_EQ(s.message(), "invalid parameter \"match[]\": match[] must contain at least one non-empty matcher");
  }
  EXPECT_TRUE(ParseMatchParameter({"{job=~\".+\"}"}, &sets).ok());
}

TEST(MatchParameterTest, UnquoteEscapes) {
  std::string out;
  ASSERT_TRUE(promql::UnquoteString("\"a\\n\\t\\\"\\u00e9\\x41\\101\"", &out).ok());
  EXPECT_EQ(out, "a\n\t\"\xc3\xa9" "AA");
  EXPECT_FALSE(promql::UnquoteString("\"\\q\"", &out).ok());
  EXPECT_FALSE(promql::UnquoteString("\"\\u12\"", &out).ok());
}

}  // namespace
}  // namespace tsvault::query
