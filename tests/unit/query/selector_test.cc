#include "query/selector.h"

#include <gtest/gtest.h>

namespace tsvault::query {
namespace {

TEST(SelectorTest, ParsesNameAndMatchers) {
  std::vector<storage::LabelMatcher> m;
  ASSERT_TRUE(ParseSeriesSelector("http_requests_total{app=~\"web|admin\", status!='200',route=`/a\\b`}", &m).ok());
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].ToString(), "__name__=\"http_requests_total\"");
  EXPECT_EQ(m[1].type(), storage::MatchType::kRegexMatch);
  EXPECT_EQ(m[2].value(), "200");
  EXPECT_EQ(m[3].value(), "/a\\b");
  ASSERT_TRUE(ParseSeriesSelector("{__name__=\"up\"}", &m).ok());
  ASSERT_EQ(m.size(), 1u);
  ASSERT_TRUE(ParseSeriesSelector("job:rate5m{}", &m).ok());
  EXPECT_EQ(m[0].value(), "job:rate5m");
  ASSERT_TRUE(ParseSeriesSelector("{\"utf8.name\"=\"x\"}", &m).ok());
  EXPECT_EQ(m[0].name(), "utf8.name");
}

TEST(SelectorTest, RejectsBadInputWithPosition) {
  std::vector<storage::LabelMatcher> m;
  Status s = ParseSeriesSelector("up{job=}", &m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("1:8"), std::string::npos) << s.message();
  EXPECT_FALSE(ParseSeriesSelector("{}", &m).ok());
  EXPECT_FALSE(ParseSeriesSelector("up{job=\"a\"", &m).ok());
  EXPECT_FALSE(ParseSeriesSelector("up{job=~\"(\"}", &m).ok());
  EXPECT_FALSE(ParseSeriesSelector("up{job=\"a\"} extra", &m).ok());
  EXPECT_FALSE(ParseSeriesSelector("", &m).ok());
}

TEST(SelectorTest, UnquoteEscapes) {
  std::string out;
  ASSERT_TRUE(UnquoteString("\"a\\n\\t\\\"\\u00e9\\x41\\101\"", &out).ok());
  EXPECT_EQ(out, "a\n\t\"\xc3\xa9" "AA");
  EXPECT_FALSE(UnquoteString("\"\\q\"", &out).ok());
  EXPECT_FALSE(UnquoteString("\"\\u12\"", &out).ok());
}

}  // namespace
}  // namespace tsvault::query
