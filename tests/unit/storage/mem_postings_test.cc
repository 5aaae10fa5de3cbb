#include "storage/mem_postings.h"

#include <gtest/gtest.h>

namespace tsvault::storage {
namespace {

LabelMatcher M(MatchType type, const char* name, const char* value) {
  LabelMatcher m;
  EXPECT_TRUE(LabelMatcher::Create(type, name, value, &m).ok());
  return m;
}

TEST(MemPostingsTest, SetOperations) {
  EXPECT_EQ(MemPostings::Intersect({1, 3, 5, 7}, {3, 4, 5}), (SeriesIds{3, 5}));
  EXPECT_EQ(MemPostings::Subtract({1, 3, 5, 7}, {3, 4, 5}), (SeriesIds{1, 7}));
  SeriesIds a{1, 4}, b{2, 4, 9};
  EXPECT_EQ(MemPostings::Union({&a, &b}), (SeriesIds{1, 2, 4, 9}));
}

TEST(MemPostingsTest, SelectFollowsPrometheusEmptyValueRules) {
  MemPostings postings;
  postings.Add(1, {{"__name__", "up"}, {"job", "a"}});
  postings.Add(2, {{"__name__", "up"}, {"job", "b"}});
  postings.Add(3, {{"__name__", "up"}});
  postings.Add(5, {{"__name__", "down"}, {"job", "a"}});
  EXPECT_EQ(postings.Select({M(MatchType::kEqual, "__name__", "up")}), (SeriesIds{1, 2, 3}));
  EXPECT_EQ(postings.Select({M(MatchType::kEqual, "__name__", "up"), M(MatchType::kEqual, "job", "")}),
            (SeriesIds{3}));
  EXPECT_EQ(postings.Select({M(MatchType::kEqual, "__name__", "up"), M(MatchType::kNotEqual, "job", "a")}),
            (SeriesIds{2, 3}));
  EXPECT_EQ(postings.Select({M(MatchType::kRegexMatch, "job", "a|b")}), (SeriesIds{1, 2, 5}));
  EXPECT_EQ(postings.Select({M(MatchType::kRegexNoMatch, "job", "a")}), (SeriesIds{2, 3}));
  EXPECT_EQ(postings.Select({}), (SeriesIds{1, 2, 3, 5}));
  EXPECT_TRUE(postings.Select({M(MatchType::kEqual, "nope", "x")}).empty());
}

TEST(MemPostingsTest, OutOfOrderIdsStaySorted) {
  MemPostings postings;
  postings.AddPosting("a", "1", 9);
  postings.AddPosting("a", "1", 2);
  postings.AddPosting("a", "1", 5);
  postings.AddPosting("a", "1", 5);
  EXPECT_EQ(postings.Get("a", "1"), (SeriesIds{2, 5, 9}));
}

}  // namespace
}  // namespace tsvault::storage
