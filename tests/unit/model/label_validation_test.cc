// UTF-8 checking and label-set canonicalization.
#include "model/label_validation.h"

#include <gtest/gtest.h>

#include "model/utf8.h"

namespace tsvault::model {
namespace {

TEST(Utf8Test, AcceptsWellFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));                 // é
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));                // €
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80 smile"));      // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));            // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));  // NUL is valid UTF-8
}

TEST(Utf8Test, RejectsMalformed) {
  for (std::string bad : {
           std::string("\x80"),              // lone continuation
           std::string("\xc3"),              // truncated
           std::string("abcdefgh\xc3"),      // truncated after fast path
           std::string("\xc0\xaf"),          // overlong '/'
           std::string("\xe0\x80\xaf"),      // overlong 3-byte
           std::string("\xf0\x80\x80\xaf"),  // overlong 4-byte
           std::string("\xed\xa0\x80"),      // surrogate U+D800
           std::string("\xf4\x90\x80\x80"),  // above U+10FFFF
           std::string("\xff"),
           std::string("\xe2\x28\xa1"),      // bad continuation
       }) {
    EXPECT_FALSE(IsValidUtf8(bad)) << ::testing::PrintToString(bad);
  }
}

TEST(CanonicalizeLabelsTest, SortsOnlyWhatNeedsSorting) {
  LabelLimits limits;
  LabelProblem problem;
  Labels labels = {{"job", "a"}, {"__name__", "up"}, {"instance", "x"}};
  ASSERT_TRUE(CanonicalizeLabels(&labels, limits, LabelSetKind::kSeries, false, &problem));
  EXPECT_EQ(labels, (Labels{{"__name__", "up"}, {"instance", "x"}, {"job", "a"}}));
}

TEST(CanonicalizeLabelsTest, ExemplarLabelsNeedNoName) {
  LabelLimits limits;
  LabelProblem problem;
  Labels labels = {{"trace_id", "t"}};
  EXPECT_TRUE(CanonicalizeLabels(&labels, limits, LabelSetKind::kExemplar, false, &problem));
  Labels empty;
  EXPECT_TRUE(CanonicalizeLabels(&empty, limits, LabelSetKind::kExemplar, false, &problem));
  EXPECT_FALSE(CanonicalizeLabels(&empty, limits, LabelSetKind::kSeries, false, &problem));
  EXPECT_EQ(problem.kind, LabelProblemKind::kMissingMetricName);
}

TEST(CanonicalizeLabelsTest, LimitsAreInclusive) {
  LabelLimits limits;
  limits.max_labels_per_series = 2;
  limits.max_label_name_bytes = 8;
  limits.max_label_value_bytes = 3;
  LabelProblem problem;
  Labels at_limit = {{"__name__", "abc"}, {"b", "xyz"}};
  EXPECT_TRUE(CanonicalizeLabels(&at_limit, limits, LabelSetKind::kSeries, false, &problem));
  Labels over = {{"__name__", "abcd"}};
  EXPECT_FALSE(CanonicalizeLabels(&over, limits, LabelSetKind::kSeries, false, &problem));
  EXPECT_EQ(problem.kind, LabelProblemKind::kLabelTooLong);
  // Empty-valued labels do not count toward the limit.
  Labels with_empty = {{"__name__", "a"}, {"b", ""}, {"c", "1"}};
  EXPECT_TRUE(CanonicalizeLabels(&with_empty, limits, LabelSetKind::kSeries, false, &problem));
  EXPECT_EQ(with_empty.size(), 2u);
}

TEST(DescribeLabelsTest, EscapesAndBounds) {
  Labels labels = {{"__name__", "m"}, {"path", std::string("a\"b\\c\n\xff", 7)}, {"we ird", "x"}};
  const std::string text = DescribeLabelsForError(labels);
  EXPECT_EQ(text, "{__name__=\"m\", path=\"a\\\"b\\\\c\\x0a\\xff\", \"we ird\"=\"x\"}");
  Labels huge;
  for (int i = 0; i < 100; ++i) huge.push_back({"label" + std::to_string(i), std::string(200, 'v')});
  EXPECT_LT(DescribeLabelsForError(huge).size(), 1200u);
}

}  // namespace
}  // namespace tsvault::model
