#include "common/labels.h"

#include <gtest/gtest.h>

#include "common/status.h"

namespace tsvault {
namespace {

TEST(LabelsTest, SortAndLookup) {
  Labels labels = {{"job", "node"}, {"__name__", "up"}, {"instance", "a:9100"}};
  SortLabels(&labels);
  EXPECT_EQ(labels[0].name, "__name__");
  EXPECT_EQ(labels[2].name, "job");
  EXPECT_EQ(MetricName(labels), "up");
  EXPECT_EQ(GetLabelValue(labels, "instance"), "a:9100");
  EXPECT_EQ(GetLabelValue(labels, "missing"), "");
}

TEST(LabelsTest, ToStringEscapes) {
  Labels labels = {{"__name__", "up"}, {"path", "a\"b\\c\n"}};
  EXPECT_EQ(LabelsToString(labels), "up{path=\"a\\\"b\\\\c\\n\"}");
  EXPECT_EQ(LabelsToString({{"a", "1"}, {"b", "2"}}), "{a=\"1\", b=\"2\"}");
}

TEST(LabelsTest, CompareAndHash) {
  Labels a = {{"a", "1"}, {"b", "2"}};
  Labels b = {{"a", "1"}, {"b", "3"}};
  Labels c = {{"a", "1"}};
  EXPECT_LT(CompareLabels(a, b), 0);
  EXPECT_GT(CompareLabels(a, c), 0);
  EXPECT_EQ(CompareLabels(a, a), 0);
  EXPECT_EQ(HashLabels(a), HashLabels(Labels(a)));
  EXPECT_NE(HashLabels(a), HashLabels(b));
  // Name/value boundaries matter: {ab=""} differs from {a="b"}.
  EXPECT_NE(HashLabels({{"ab", ""}}), HashLabels({{"a", "b"}}));
}

TEST(StatusTest, CodesAndMessages) {
  EXPECT_TRUE(Status::OK().ok());
  Status s = Status::InvalidArgument("bad thing");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "bad thing");
  EXPECT_EQ(s.ToString(), "Invalid argument: bad thing");
  Status copy = s;
  EXPECT_EQ(copy.message(), "bad thing");
}

}  // namespace
}  // namespace tsvault
