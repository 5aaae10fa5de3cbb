#include "common/time_parse.h"

#include <gtest/gtest.h>

namespace tsvault {
namespace {

TEST(TimeParseTest, UnixSecondsAndRfc3339) {
  int64_t ms;
  ASSERT_TRUE(ParseTimeParam("1700000000", &ms).ok());
  EXPECT_EQ(ms, 1700000000000);
  ASSERT_TRUE(ParseTimeParam("1700000000.123", &ms).ok());
  EXPECT_EQ(ms, 1700000000123);
  ASSERT_TRUE(ParseTimeParam("-1.5", &ms).ok());
  EXPECT_EQ(ms, -1500);
  ASSERT_TRUE(ParseTimeParam("2023-11-14T22:13:20Z", &ms).ok());
  EXPECT_EQ(ms, 1700000000000);
  ASSERT_TRUE(ParseTimeParam("2023-11-14T23:13:20.5+01:00", &ms).ok());
  EXPECT_EQ(ms, 1700000000500);
  ASSERT_TRUE(ParseTimeParam("1970-01-01T00:00:00Z", &ms).ok());
  EXPECT_EQ(ms, 0);
  EXPECT_FALSE(ParseTimeParam("yesterday", &ms).ok());
  EXPECT_FALSE(ParseTimeParam("2023-13-01T00:00:00Z", &ms).ok());
  EXPECT_FALSE(ParseTimeParam("", &ms).ok());
}

TEST(TimeParseTest, Durations) {
  int64_t ms;
  ASSERT_TRUE(ParseDurationParam("1h30m", &ms).ok());
  EXPECT_EQ(ms, 5400000);
  ASSERT_TRUE(ParseDurationParam("15", &ms).ok());
  EXPECT_EQ(ms, 15000);
  ASSERT_TRUE(ParseDurationParam("0.5", &ms).ok());
  EXPECT_EQ(ms, 500);
  ASSERT_TRUE(ParseDurationParam("250ms", &ms).ok());
  EXPECT_EQ(ms, 250);
  ASSERT_TRUE(ParseDurationParam("1y2w3d", &ms).ok());
  EXPECT_EQ(ms, (365 + 14 + 3) * 86400000LL);
  EXPECT_FALSE(ParseDurationParam("5m1h", &ms).ok());  // units out of order
  EXPECT_FALSE(ParseDurationParam("5x", &ms).ok());
  EXPECT_FALSE(ParseDurationParam("", &ms).ok());
}

}  // namespace
}  // namespace tsvault
