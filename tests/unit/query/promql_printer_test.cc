// Canonical printing of parsed PromQL (Prometheus' String()), and the
// round trip parse(print(parse(x))) == parse(x).
#include "query/promql/printer.h"

#include <gtest/gtest.h>

#include <string>

#include "query/promql/parser.h"

namespace tsvault::query::promql {
namespace {

struct PrintCase {
  const char* input;
  const char* printed;  // nullptr: same as input
};

// Expected outputs follow Prometheus 2.42's printer.
const PrintCase kPrintCases[] = {
    // Numbers: Go's %v formatting.
    {"1", nullptr},
    {"1.5", nullptr},
    {".5", "0.5"},
    {"5.", "5"},
    {"1e3", "1000"},
    {"1e6", "1e+06"},
    {"1E6", "1e+06"},
    {"123456", nullptr},
    {"1234567", "1.234567e+06"},
    {"123456789", "1.23456789e+08"},
    {"0.0001", nullptr},
    {"0.00001", "1e-05"},
    {"1.5e-7", "1.5e-07"},
    {"5e-3", "0.005"},
    {"0x1F", "31"},
    {"0xc", "12"},
    {"0755", "493"},
    {"08", "8"},
    {"Inf", "+Inf"},
    {"+Inf", "+Inf"},
    {"-Inf", "-Inf"},
    {"inf", "+Inf"},
    {"NaN", "NaN"},
    {"nan", "NaN"},
    {"-1", nullptr},
    {"+1", "1"},
    {"-0", "-0"},
    {"--1", "1"},
    {"-+-1", "1"},
    {"1e308", "1e+308"},
    {"4.9e-324", "5e-324"},
    {"0.1", nullptr},
    {"100000", nullptr},
    {"1000000", "1e+06"},
    {"3.14159", nullptr},
    {"123.4567", nullptr},
    // Strings: Go %q.
    {R"("foo")", nullptr},
    {R"('foo')", R"("foo")"},
    {"`foo`", R"("foo")"},
    {R"("a\"b")", nullptr},
    {R"('a\'b')", R"("a'b")"},
    {R"("tab\there")", nullptr},
    {R"("\x41\101\u00e9")", R"("AAé")"},
    {"`a\\b`", R"("a\\b")"},
    {R"("\a\b\f\n\r\v")", nullptr},
    {R"("\x01")", nullptr},
    {R"("\u00a0")", nullptr},
    {R"("☺")", nullptr},
    // Vector selectors: matchers sorted, __name__ implicit matcher hidden.
    {"foo", nullptr},
    {"foo:bar", nullptr},
    {":foo", nullptr},
    {"foo{}", "foo"},
    {R"(foo{a="b"})", nullptr},
    {R"(foo{b="c",a="b"})", R"(foo{a="b",b="c"})"},
    {R"(foo{a="b", b!="c", c=~"d", d!~"e",})", R"(foo{a="b",b!="c",c=~"d",d!~"e"})"},
    {R"({__name__="foo"})", nullptr},
    {R"({__name__=~"foo.*"})", nullptr},
    {R"({a="b"})", nullptr},
    {R"(foo{a='b'})", R"(foo{a="b"})"},
    {"foo{a=`b\\c`}", R"(foo{a="b\\c"})"},
    {R"(foo{a="\n"})", nullptr},
    {R"(foo{a="é☺"})", nullptr},
    {R"(foo{offset="x", by="y"})", R"(foo{by="y",offset="x"})"},
    {R"(foo{a="b"} offset 5m)", nullptr},
    {"foo offset 1h30m", nullptr},
    {"foo OFFSET 90m", "foo offset 1h30m"},
    {"foo offset 60s", "foo offset 1m"},
    {"foo offset 1m30ms", nullptr},
    {"foo offset 1000ms", "foo offset 1s"},
    {"foo offset 7d", "foo offset 1w"},
    {"foo offset 8d", nullptr},
    {"foo offset 14d", "foo offset 2w"},
    {"foo offset 365d", "foo offset 1y"},
    {"foo offset 366d", nullptr},
    {"foo offset 1y1d", "foo offset 366d"},
    {"foo offset 52w", nullptr},
    {"foo offset -7m", nullptr},
    {"foo offset - 7m", "foo offset -7m"},
    {"foo @ 10", "foo @ 10.000"},
    {"foo @ 1603774568", "foo @ 1603774568.000"},
    {"foo @ -100", "foo @ -100.000"},
    {"foo @ +100", "foo @ 100.000"},
    {"foo @ .3", "foo @ 0.300"},
    {"foo @ 3.3333", "foo @ 3.333"},
    {"foo @ 3.3335", "foo @ 3.334"},
    {"foo @ 3e2", "foo @ 300.000"},
    {"foo @ 0xA", "foo @ 10.000"},
    {"foo @ start()", nullptr},
    {"foo @ end()", nullptr},
    {"foo @ START ( )", "foo @ start()"},
    {"foo offset 5m @ 10", "foo @ 10.000 offset 5m"},
    {"foo @ 10 offset 5m", "foo @ 10.000 offset 5m"},
    {"foo @ end() offset -1h", nullptr},
    // Keywords and aggregation names as metric names.
    {"sum", nullptr},
    {"SUM", nullptr},
    {"min", nullptr},
    {"by", nullptr},
    {"without", nullptr},
    {"offset", nullptr},
    {"start", nullptr},
    {"end", nullptr},
    {R"(start{end="foo"})", nullptr},
    {"rate", nullptr},
    {"a + sum", nullptr},
    {"sum(sum)", nullptr},
    {"foo and and", nullptr},
    // Matrix selectors.
    {"foo[5m]", nullptr},
    {"foo[ 5m ]", "foo[5m]"},
    {"foo[300s]", "foo[5m]"},
    {"foo[5m30s]", nullptr},
    {"foo[1h30m]", nullptr},
    {"foo[90m]", "foo[1h30m]"},
    {"foo[5y]", nullptr},
    {"foo[1y1d]", "foo[366d]"},
    {"foo[250ms]", nullptr},
    {"foo[2w]", nullptr},
    {R"(foo{a="b"}[5m])", nullptr},
    {"foo[5m] offset 1m", nullptr},
    {"foo[5m] offset -1m", nullptr},
    {"foo[5m] @ 100", "foo[5m] @ 100.000"},
    {"foo[5m] @ start()", nullptr},
    {"foo[5m] offset 1m @ end()", "foo[5m] @ end() offset 1m"},
    {"foo @ start() [5m]", "foo[5m] @ start()"},
    {R"(a{b!="c"}[1m])", nullptr},
    {R"(a{b=~"c"}[1m])", nullptr},
    {R"(a{b!~"c"}[1m])", nullptr},
    // Subqueries.
    {"foo[10m:6s]", nullptr},
    {"foo[10m:]", nullptr},
    {"foo[10m5s:1h6ms]", nullptr},
    {"foo[1h:5m] offset 1m", nullptr},
    {"foo[1h:5m] @ 100 offset -1m", "foo[1h:5m] @ 100.000 offset -1m"},
    {"foo offset 1m [10m:5s]", "foo offset 1m[10m:5s]"},
    {"foo @ 123 [10m:5s]", "foo @ 123.000[10m:5s]"},
    {"rate(foo[5m])[30m:1m]", nullptr},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s]", nullptr},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] offset 4m)[4m:3s]", nullptr},
    {R"((foo + bar{nm="val"})[5m:])", nullptr},
    {R"((foo + bar{nm="val"} @ 1234)[5m:] @ 1603775019)",
     R"((foo + bar{nm="val"} @ 1234.000)[5m:] @ 1603775019.000)"},
    {"sum(foo)[5m:]", nullptr},
    {"foo[5m x]", "foo[5m:]"},  // Prometheus' lexer reads any letter as the colon here
    // Aggregations.
    {"sum(foo)", nullptr},
    {"SUM(foo)", "sum(foo)"},
    {"sum by (job) (foo)", nullptr},
    {"sum by(job)(foo)", "sum by (job) (foo)"},
    {"sum(foo) by (job)", "sum by (job) (foo)"},
    {"sum by (job, instance) (foo)", nullptr},
    {"sum by (job,instance,) (foo)", "sum by (job, instance) (foo)"},
    {"sum by () (foo)", "sum(foo)"},
    {"sum without () (foo)", nullptr},
    {"sum without (job) (foo)", nullptr},
    {"sum(foo) without (job)", "sum without (job) (foo)"},
    {"avg(foo)", nullptr},
    {"count(foo)", nullptr},
    {"min(foo)", nullptr},
    {"max(foo)", nullptr},
    {"group(foo)", nullptr},
    {"stddev(foo)", nullptr},
    {"stdvar(foo)", nullptr},
    {"topk(5, foo)", nullptr},
    {"bottomk(5, foo)", nullptr},
    {"quantile(0.9, foo)", nullptr},
    {"quantile by (job) (0.9, foo)", nullptr},
    {R"(count_values("value", foo))", nullptr},
    {R"(count_values without (a) ('value', foo))", R"(count_values without (a) ("value", foo))"},
    {"topk(scalar(bar), foo)", nullptr},
    {"sum without(and, by, avg, count, alert, annotations)(some_metric)",
     "sum without (and, by, avg, count, alert, annotations) (some_metric)"},
    {"sum by (on, ignoring, group_left, group_right, bool, offset, start, end, atan2, sum) (foo)",
     nullptr},
    {"sum by (BY) (foo)", nullptr},
    {"sum(rate(foo[5m])) by (job)", "sum by (job) (rate(foo[5m]))"},
    {"sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))", nullptr},
    {"max by (le) (sum by (le, job) (foo))", nullptr},
    // Function calls.
    {"time()", nullptr},
    {"pi()", nullptr},
    {"rate(foo[5m])", nullptr},
    {"irate(foo[1m])", nullptr},
    {"round(foo)", nullptr},
    {"round(foo, 5)", nullptr},
    {"round(foo,5)", "round(foo, 5)"},
    {"clamp(foo, 0, 1)", nullptr},
    {"clamp_min(foo, -1)", nullptr},
    {"histogram_quantile(0.9, sum by (le) (rate(foo_bucket[5m])))", nullptr},
    {"histogram_fraction(0, 0.5, foo)", nullptr},
    {"label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")", nullptr},
    {"label_join(up, \"a\", \",\", \"b\", \"c\", \"d\")", nullptr},
    {"label_join(up, 'a', ',')", R"(label_join(up, "a", ","))"},
    {"holt_winters(foo[10m], 0.5, 0.5)", nullptr},
    {"predict_linear(foo[1h], 3600)", nullptr},
    {"quantile_over_time(0.5, foo[5m])", nullptr},
    {"absent(nonexistent{job=\"x\"})", nullptr},
    {"absent_over_time(foo[5m])", nullptr},
    {"vector(1)", nullptr},
    {"scalar(foo)", nullptr},
    {"timestamp(foo)", nullptr},
    {"day_of_week()", nullptr},
    {"day_of_week(foo)", nullptr},
    {"days_in_month(vector(time()))", nullptr},
    {"sort_desc(sum by (job) (foo))", nullptr},
    {"count_over_time(foo[5m] @ end())", nullptr},
    // Binary operators.
    {"1 + 1", nullptr},
    {"1+1", "1 + 1"},
    {"foo + bar", nullptr},
    {"foo - bar", nullptr},
    {"foo * bar", nullptr},
    {"foo / bar", nullptr},
    {"foo % bar", nullptr},
    {"foo ^ bar", nullptr},
    {"foo atan2 bar", nullptr},
    {"foo ATAN2 bar", "foo atan2 bar"},
    {"foo == bar", nullptr},
    {"foo != bar", nullptr},
    {"foo > bar", nullptr},
    {"foo < bar", nullptr},
    {"foo >= bar", nullptr},
    {"foo <= bar", nullptr},
    {"foo and bar", nullptr},
    {"foo AND bar", "foo and bar"},
    {"foo or bar", nullptr},
    {"foo unless bar", nullptr},
    {"up > bool 0", nullptr},
    {"1 == bool 1", nullptr},
    {"foo == bool 1", nullptr},
    {"a - on () c", nullptr},
    {"a - on() c", "a - on () c"},
    {"a - on(b) c", "a - on (b) c"},
    {"a - on(b) group_left(x) c", "a - on (b) group_left (x) c"},
    {"a - on(b) group_left(x, y) c", "a - on (b) group_left (x, y) c"},
    {"a - on(b) group_left c", "a - on (b) group_left () c"},
    {"a - on(b) group_left() (c)", "a - on (b) group_left () (c)"},
    {"a - ignoring(b) c", "a - ignoring (b) c"},
    {"a - ignoring() c", "a - c"},
    {"a * ignoring() group_left(x) c", "a * c"},
    {"a / on(b) group_right(x) c", "a / on (b) group_right (x) c"},
    {"a > bool on(b) c", "a > bool on (b) c"},
    {"foo and on(a) bar", "foo and on (a) bar"},
    {"foo or ignoring(a) bar", "foo or ignoring (a) bar"},
    {"foo + 1", nullptr},
    {"1 - foo", nullptr},
    {"foo + on(a) group_left(b) bar offset 5m", "foo + on (a) group_left (b) bar offset 5m"},
    // Precedence is kept through the tree, parentheses only where written.
    {"1 + 2 * 3", nullptr},
    {"(1 + 2) * 3", nullptr},
    {"2 ^ 3 ^ 2", nullptr},
    {"(2 ^ 3) ^ 2", nullptr},
    {"-1 ^ 2", nullptr},
    {"(-1) ^ 2", nullptr},
    {"-foo", nullptr},
    {"+foo", nullptr},
    {"-(foo)", nullptr},
    {"-(1)", nullptr},
    {"- -foo", "--foo"},
    {"-foo ^ 2", nullptr},
    {"-foo offset 5m", nullptr},
    {"foo + bar or baz and qux unless quux", nullptr},
    {"((foo))", nullptr},
    {"sum(foo) / on(job) group_left count(bar)", "sum(foo) / on (job) group_left () count(bar)"},
    // Comments and layout.
    {"foo # comment", "foo"},
    {"# leading comment\nfoo\n# trailing", "foo"},
    {"sum(\n  rate(foo[5m]) # inner\n) by (job)", "sum by (job) (rate(foo[5m]))"},
    {"foo{a=\"b\" # c\n}", R"(foo{a="b"})"},
};

TEST(PromqlPrinterTest, PrintsCanonicalForm) {
  for (const PrintCase& c : kPrintCases) {
    std::unique_ptr<Expr> expr;
    Status status = ParseExpr(c.input, &expr);
    ASSERT_TRUE(status.ok()) << c.input << ": " << status.ToString();
    const std::string expected = c.printed ? c.printed : c.input;
    EXPECT_EQ(ExprToString(*expr), expected) << "input: " << c.input;
  }
}

TEST(PromqlPrinterTest, PrintedFormReparsesToTheSameText) {
  for (const PrintCase& c : kPrintCases) {
    std::unique_ptr<Expr> expr;
    ASSERT_TRUE(ParseExpr(c.input, &expr).ok()) << c.input;
    const std::string printed = ExprToString(*expr);
    std::unique_ptr<Expr> reparsed;
    Status status = ParseExpr(printed, &reparsed);
    ASSERT_TRUE(status.ok()) << printed << ": " << status.ToString();
    EXPECT_EQ(ExprToString(*reparsed), printed) << "input: " << c.input;
    EXPECT_EQ(reparsed->Type(), expr->Type()) << "input: " << c.input;
  }
}

TEST(PromqlPrinterTest, SelectorToStringOmitsModifiers) {
  std::unique_ptr<Expr> expr;
  ASSERT_TRUE(ParseExpr(R"(foo{b="c",a=~"x"} @ 5 offset 1m)", &expr).ok());
  EXPECT_EQ(SelectorToString(expr->As<VectorSelector>()), R"(foo{a=~"x",b="c"})");
}

TEST(PromqlPrinterTest, KeepsExplicitEmptyNameMatcher) {
  std::unique_ptr<Expr> expr;
  ASSERT_TRUE(ParseExpr(R"({__name__="", a="b"})", &expr).ok());
  EXPECT_EQ(ExprToString(*expr), R"({__name__="",a="b"})");
}

TEST(PromqlPrinterTest, PrintsHandBuiltTrees) {
  auto lhs = std::make_unique<NumberLiteral>();
  lhs->value = 2;
  auto rhs = std::make_unique<StringLiteral>();
  rhs->value = "x\"y";
  auto binary = std::make_unique<BinaryExpr>();
  binary->op = BinaryOp::kDiv;
  binary->lhs = std::move(lhs);
  binary->rhs = std::move(rhs);
  EXPECT_EQ(ExprToString(*binary), R"(2 / "x\"y")");

  auto invariant = std::make_unique<StepInvariantExpr>();
  invariant->expr = std::move(binary);
  EXPECT_EQ(ExprToString(*invariant), R"(2 / "x\"y")");
}

}  // namespace
}  // namespace tsvault::query::promql
