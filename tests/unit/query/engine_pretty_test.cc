// PrettifyExpr: Prometheus 2.42's format_query layout (splitting nodes
// longer than the line limit, two-space indentation per level).
#include <gtest/gtest.h>

#include "query/promql/prettifier.h"
#include "query/promql/parser.h"

namespace tsvault::query {
namespace {

std::string Pretty(const std::string& input, size_t limit) {
  std::unique_ptr<promql::Expr> expr;
  Status s = ParseExpr(input, &expr);
  EXPECT_TRUE(s.ok()) << input << ": " << s.ToString();
  return expr ? PrettifyExpr(*expr, limit) : "";
}

TEST(PrettifyTest, ShortExpressionsStayOnOneLine) {
  EXPECT_EQ(Pretty("sum(foo)", 10), "sum(foo)");
  EXPECT_EQ(Pretty("sum by(job) (rate(x[5m]))  /  on(job) group_left  y", 100),
            "sum by (job) (rate(x[5m])) / on (job) group_left () y");
  EXPECT_EQ(Pretty("a @ 1", 10), "a @ 1.000");
}

TEST(PrettifyTest, Aggregations) {
  EXPECT_EQ(Pretty("sum without(job,foo) (task:errors:rate10s{job=\"s\"})", 10),
            "sum without (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)");
  EXPECT_EQ(Pretty("topk(10, ask:errors:rate10s{job=\"s\"})", 10), "topk(\n  10,\n  ask:errors:rate10s{job=\"s\"}\n)");
  EXPECT_EQ(Pretty("sum by(job) (sum by(job) (task_errors_rate{job=\"s\"}))", 10),
            "sum by (job) (\n  sum by (job) (\n    task_errors_rate{job=\"s\"}\n  )\n)");
}

TEST(PrettifyTest, BinaryExpressions) {
  EXPECT_EQ(Pretty("a+b", 10), "a + b");
  EXPECT_EQ(Pretty("foo_1 + foo_2 + foo_3", 10), "    foo_1\n  +\n    foo_2\n+\n  foo_3");
  EXPECT_EQ(Pretty("a + ignoring(job) b", 10), "  a\n+ ignoring (job)\n  b");
  EXPECT_EQ(Pretty("a == bool 1", 10), "  a\n== bool\n  1");
  EXPECT_EQ(Pretty("foo_1 + on(instance) group_right foo_2", 10),
            "  foo_1\n+ on (instance) group_right ()\n  foo_2");
}

TEST(PrettifyTest, CallsSubqueriesParensUnary) {
  EXPECT_EQ(Pretty("histogram_quantile(0.9, rate(foo[1m]))", 10),
            "histogram_quantile(\n  0.9,\n  rate(\n    foo[1m]\n  )\n)");
  EXPECT_EQ(Pretty("max_over_time(rate(demo_api_request_duration_seconds_count[1m])[1m:] @ start() offset 1m)", 10),
            "max_over_time(\n  rate(\n    demo_api_request_duration_seconds_count[1m]\n  )[1m:] @ start() offset 1m\n)");
  EXPECT_EQ(Pretty("((foo_long))", 10), "(\n  (foo_long)\n)");
  EXPECT_EQ(Pretty("-histogram_quantile(0.9,rate(foo[1m]))", 10),
            "-histogram_quantile(\n  0.9,\n  rate(\n    foo[1m]\n  )\n)");
}

}  // namespace
}  // namespace tsvault::query
