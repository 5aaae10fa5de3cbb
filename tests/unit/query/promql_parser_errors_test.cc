// Invalid PromQL: the exact Prometheus-style message, position included.
#include <gtest/gtest.h>

#include <string>

#include "query/promql/parser.h"

namespace tsvault::query {
namespace {

struct ErrorCase {
  std::string input;
  std::string message;  // the full Status message
};

const ErrorCase kErrorCases[] = {
    // Empty input and stray tokens.
    {"", "1:1: parse error: no expression found in input"},
    {"   ", "1:1: parse error: no expression found in input"},
    {"# just a comment\n\n", "1:1: parse error: no expression found in input"},
    {"1+", "1:3: parse error: unexpected end of input"},
    {"1 /", "1:4: parse error: unexpected end of input"},
    {"foo +", "1:6: parse error: unexpected end of input"},
    {"foo + bool", "1:11: parse error: unexpected end of input"},
    {"foo atan2", "1:10: parse error: unexpected end of input"},
    {"*1", "1:1: parse error: unexpected <op:*>"},
    {"*test", "1:1: parse error: unexpected <op:*>"},
    {"-=", R"(1:2: parse error: unexpected "=")"},
    {"++-++-+-+-<", "1:11: parse error: unexpected <op:<>"},
    {"e-+=/(0)", R"(1:4: parse error: unexpected "=")"},
    {"atan2", "1:1: parse error: unexpected <op:atan2>"},
    {"bool", "1:1: parse error: unexpected <bool>"},
    {"group_left", "1:1: parse error: unexpected <group_left>"},
    {"on", "1:1: parse error: unexpected <on>"},
    {"@", "1:1: parse error: unexpected <op:@>"},
    {"[5m]", R"(1:1: parse error: unexpected "[")"},
    {"foo bool", "1:5: parse error: unexpected <bool>"},
    {"foo bar", R"(1:5: parse error: unexpected identifier "bar")"},
    {"foo 12345678901", R"(1:5: parse error: unexpected number "1234567890"...)"},
    {R"(foo "abcdefghijklmnop")", R"(1:5: parse error: unexpected string "\"abcdefghi"...)"},
    {"foo 5m", R"(1:5: parse error: unexpected duration "5m")"},
    {R"(foo{a="b"}{c="d"})", R"(1:11: parse error: unexpected "{")"},
    {"foo:bar(x)", R"(1:8: parse error: unexpected "(")"},
    {"start()", R"(1:6: parse error: unexpected "(")"},
    {"end()", R"(1:4: parse error: unexpected "(")"},
    {"a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"},
    {"foo + group_left(baz) bar", "1:7: parse error: unexpected <group_left>"},
    {"foo +\n  bar baz", R"(2:7: parse error: unexpected identifier "baz")"},
    {"foo # comment\n+", "2:2: parse error: unexpected end of input"},
    // Lexical errors.
    {".", "1:1: parse error: unexpected character: '.'"},
    {"2.5.", "1:4: parse error: unexpected character: '.'"},
    {"100..4", R"(1:5: parse error: unexpected number ".4")"},
    {"0deadbeef", R"(1:1: parse error: bad number or duration syntax: "0de")"},
    {"1_000", R"(1:1: parse error: bad number or duration syntax: "1")"},
    {"(1))", "1:5: parse error: unexpected right parenthesis ')'"},
    {"((1)", "1:5: parse error: unclosed left parenthesis"},
    {"(", "1:2: parse error: unclosed left parenthesis"},
    {"rate(foo[5m]", "1:13: parse error: unclosed left parenthesis"},
    {"1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"},
    {"1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"},
    {"foo !", "1:5: parse error: unexpected character after '!': '\xEF\xBF\xBD'"},
    {"foo ; bar", "1:5: parse error: unexpected character: ';'"},
    {"foo\f", R"(1:4: parse error: unexpected character: '\f')"},
    {"foo é", "1:5: parse error: unexpected character: 'é'"},
    {"{", "1:2: parse error: unexpected end of input inside braces"},
    {"}", "1:1: parse error: unexpected character: '}'"},
    {"some{", "1:6: parse error: unexpected end of input inside braces"},
    {"some}", "1:5: parse error: unexpected character: '}'"},
    {"foo]", "1:4: parse error: unexpected right bracket ']'"},
    {"foo[5m]]", "1:8: parse error: unexpected right bracket ']'"},
    {"foo[[5m]", "1:5: parse error: missing unit character in duration"},
    {"foo[5m", "1:7: parse error: unclosed left bracket"},
    {"foo[5m:1m", "1:10: parse error: unclosed left bracket"},
    {"foo[5m:1m:]", "1:10: parse error: unexpected colon ':'"},
    {"foo[5m:1m x]", "1:11: parse error: unexpected colon 'x'"},
    {R"("unterminated)", "1:1: parse error: unterminated quoted string"},
    {"\"a\nb\"", "1:1: parse error: unterminated quoted string"},
    {"`\\``", "1:4: parse error: unterminated raw string"},
    {R"("\)", "1:1: parse error: escape sequence not terminated"},
    {R"("\c")", "1:1: parse error: unknown escape sequence U+0063 'c'"},
    {R"("\x.")", "1:1: parse error: illegal character U+002E '.' in escape sequence"},
    {R"("\x4)", "1:1: parse error: escape sequence not terminated"},
    {R"("\400")", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {R"("\ud800")", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {R"('\"')", "1:1: parse error: unknown escape sequence U+0022 '\"'"},
    {"\"\xff\"", "1:1: parse error: invalid UTF-8 rune"},
    {"some_metric{a=\"\xff\"}", "1:15: parse error: invalid UTF-8 rune"},
    {"label_replace(a, `b`, `c\xff`, `d`, `.*`)", "1:23: parse error: invalid UTF-8 rune"},
    {"sum() \"x", "1:7: parse error: unterminated quoted string"},
    // Numbers.
    {"1e", R"(1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e": invalid syntax)"},
    {"0x", R"(1:1: parse error: error parsing number: strconv.ParseFloat: parsing "0x": invalid syntax)"},
    {"0x8000000000000000",
     R"(1:1: parse error: error parsing number: strconv.ParseFloat: parsing "0x8000000000000000": invalid syntax)"},
    {"1e400", R"(1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e400": value out of range)"},
    {"foo @ 1e", R"(1:7: parse error: error parsing number: strconv.ParseFloat: parsing "1e": invalid syntax)"},
    // Binary operator rules.
    {"1 and 1", R"(1:1: parse error: set operator "and" not allowed in binary scalar expression)"},
    {"1 or 1", R"(1:1: parse error: set operator "or" not allowed in binary scalar expression)"},
    {"1 unless 1", R"(1:1: parse error: set operator "unless" not allowed in binary scalar expression)"},
    {"foo and 1", R"(1:1: parse error: set operator "and" not allowed in binary scalar expression)"},
    {"1 unless foo", R"(1:1: parse error: set operator "unless" not allowed in binary scalar expression)"},
    {"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 + 2 == 3", "1:7: parse error: comparisons between scalars must use BOOL modifier"},
    {"(1 == 1)", "1:4: parse error: comparisons between scalars must use BOOL modifier"},
    {"time() < 1", "1:8: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 or on(bar) foo", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"foo == on(bar) 10", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"foo and on(bar) group_left(baz) bar", R"(1:1: parse error: no grouping allowed for "and" operation)"},
    {"foo or on(bar) group_right(baz) bar", R"(1:1: parse error: no grouping allowed for "or" operation)"},
    {"foo unless on(bar) group_left(baz) bar", R"(1:1: parse error: no grouping allowed for "unless" operation)"},
    {R"(http_requests{group="production"} + on(instance) group_left(job,instance) cpu_count{type="smp"})",
     R"(1:35: parse error: label "instance" must not occur in ON and GROUP clause at once)"},
    {"foo + on(a) group_left(a) bar", R"(1:5: parse error: label "a" must not occur in ON and GROUP clause at once)"},
    {"foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo + bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo and bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"a * bool on(b) c", "1:3: parse error: bool modifier can only be used on comparison operators"},
    {R"("a" + 1)", "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {R"(1 + "a")", "1:5: parse error: binary expression must contain only scalar and instant vector types"},
    {"foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"foo + on", R"(1:9: parse error: unexpected end of input in grouping opts, expected "(")"},
    {"foo + on bar", R"(1:10: parse error: unexpected identifier "bar" in grouping opts, expected "(")"},
    {"foo + on(a) group_left(", "1:24: parse error: unclosed left parenthesis"},
    // Unary operators.
    {R"(-"string")",
     R"(1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string")"},
    {"-test[5m]",
     R"(1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector")"},
    {"-1[5m:]", "1:2: parse error: subquery is only allowed on instant vector, got scalar instead"},
    // Selectors.
    {"some_metric{a=b}", R"(1:15: parse error: unexpected identifier "b" in label matching, expected string)"},
    {R"(some_metric{a:b="b"})", "1:14: parse error: unexpected character inside braces: ':'"},
    {R"(foo{a*"b"})", "1:6: parse error: unexpected character inside braces: '*'"},
    {R"(foo{a>="b"})", "1:6: parse error: unexpected character inside braces: '>'"},
    {"foo{a!}", "1:6: parse error: unexpected character after '!' inside braces: '}'"},
    {R"(foo{a="b"{)", "1:10: parse error: unexpected left brace '{'"},
    {"foo{gibberish}", R"(1:14: parse error: unexpected "}" in label matching, expected label matching operator)"},
    {"foo{1}", "1:5: parse error: unexpected character inside braces: '1'"},
    {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"({x=""})", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"({x=~".*"})", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"({x!~".+"})", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"({x!="a"})", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"(sum({x=""}))", "1:5: parse error: vector selector must contain at least one non-empty matcher"},
    {R"(foo{__name__="bar"})", R"(1:1: parse error: metric name must not be set twice: "foo" or "bar")"},
    {"foo{__name__= =}", R"(1:15: parse error: unexpected "=" in label matching, expected string)"},
    {"foo{,}", R"(1:5: parse error: unexpected "," in label matching, expected identifier or "}")"},
    {R"(foo{a="b",,})", R"(1:11: parse error: unexpected "," in label matching, expected identifier or "}")"},
    {R"(foo{__name__ == "bar"})", R"(1:15: parse error: unexpected "=" in label matching, expected string)"},
    {R"(foo{__name__="bar" lol})",
     R"(1:20: parse error: unexpected identifier "lol" in label matching, expected "," or "}")"},
    {R"(foo{"a"="b"})", R"(1:5: parse error: unexpected string "\"a\"" in label matching, expected identifier or "}")"},
    // Ranges, subqueries, offsets and @.
    {"foo[5mm]", R"(1:5: parse error: bad duration syntax: "5mm")"},
    {"foo[5m1]", R"(1:5: parse error: bad duration syntax: "5m1")"},
    {"foo[5m:1m1]", R"(1:8: parse error: bad number or duration syntax: "1m1")"},
    {"foo[5y1hs]", R"(1:5: parse error: not a valid duration string: "5y1hs")"},
    {"foo[5m1h]", R"(1:5: parse error: not a valid duration string: "5m1h")"},
    {"foo[5m1m]", R"(1:5: parse error: not a valid duration string: "5m1m")"},
    {"foo[1d1y]", R"(1:5: parse error: bad duration syntax: "1d1")"},
    {"foo[0m]", "1:5: parse error: duration must be greater than 0"},
    {"foo[5m:0s]", "1:8: parse error: duration must be greater than 0"},
    {"foo[300y]", "1:5: parse error: duration out of range"},
    {R"(foo["5m"])", "1:5: parse error: missing unit character in duration"},
    {"foo[]", "1:5: parse error: missing unit character in duration"},
    {"foo[1]", "1:5: parse error: missing unit character in duration"},
    {"foo[ 1]", "1:6: parse error: missing unit character in duration"},
    {"foo[5m:1]", R"(1:8: parse error: unexpected number "1" in subquery selector, expected duration or "]")"},
    {"foo[5m:1m 1]", R"(1:11: parse error: unexpected number "1" in subquery selector, expected "]")"},
    {"foo[5m 1]", R"(1:8: parse error: unexpected number "1" in subquery or range, expected ":" or "]")"},
    {"some_metric[5m] OFFSET 1", R"(1:24: parse error: unexpected number "1" in offset, expected duration)"},
    {"some_metric[5m] OFFSET 1mm", R"(1:24: parse error: bad number or duration syntax: "1mm")"},
    {"some_metric[5m] OFFSET", "1:23: parse error: unexpected end of input in offset, expected duration"},
    {"foo offset 0s", "1:12: parse error: duration must be greater than 0"},
    {"foo offset 0", R"(1:12: parse error: unexpected number "0" in offset, expected duration)"},
    {"foo offset 300y", "1:12: parse error: duration out of range"},
    {"foo offset 1.5m", R"(1:12: parse error: not a valid duration string: "1.5m")"},
    {"foo offset -", "1:13: parse error: unexpected end of input in offset, expected duration"},
    {"foo offset --5m", "1:13: parse error: unexpected <op:-> in offset, expected duration"},
    {"some_metric OFFSET 1m[5m]", "1:22: parse error: no offset modifiers allowed before range"},
    {"some_metric[5m] @ 1m", R"(1:19: parse error: unexpected duration "1m" in @, expected timestamp)"},
    {"some_metric[5m] @", "1:18: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ sum", "1:7: parse error: unexpected <aggr:sum> in @, expected timestamp"},
    {"foo @ start", "1:12: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ start(1)", R"(1:13: parse error: unexpected number "1" in @, expected timestamp)"},
    {"foo @ --1", "1:8: parse error: unexpected <op:-> in @, expected timestamp"},
    {"some_metric @ 1234 [5m]", "1:20: parse error: no @ modifiers allowed before range"},
    {"(foo + bar)[5m]", "1:12: parse error: ranges only allowed for vector selectors"},
    {"foo[5m][5m]", "1:8: parse error: ranges only allowed for vector selectors"},
    {"rate(food[1m])[1h] offset 1h", "1:15: parse error: ranges only allowed for vector selectors"},
    {"rate(food[1m])[1h] @ 100", "1:15: parse error: ranges only allowed for vector selectors"},
    {"sum(foo) by (a) [5m]", "1:17: parse error: ranges only allowed for vector selectors"},
    {"test[5d] OFFSET 10s [10m:5s]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {R"((foo + bar{nm="val"})[5m:][10m:5s])",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"rate(foo[5m] [5m:])", "1:6: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"1[5m:]", "1:1: parse error: subquery is only allowed on instant vector, got scalar instead"},
    {"1 offset 1d",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"(foo) offset 5m",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"sum(x) offset 5m",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"},
    {R"(foo{a="b"}[5m] offset 1m offset 1m)", "1:1: parse error: offset may not be set multiple times"},
    {"rate(some_metric[5m]) @ 1234",
     "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo @ start() @ end()", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo @ +Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"foo @ -Inf", "1:1: parse error: timestamp out of bounds for @ modifier: -Inf"},
    {"foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
    {"foo @ 9223372036854775808",
     "1:1: parse error: timestamp out of bounds for @ modifier: 9223372036854775808.000000"},
    {"foo @ -9223372036854775809",
     "1:1: parse error: timestamp out of bounds for @ modifier: -9223372036854775808.000000"},
    // Aggregations.
    {"sum without(==)(some_metric)", "1:13: parse error: unexpected <op:==> in grouping opts, expected label"},
    {"sum without(,)(some_metric)", R"(1:13: parse error: unexpected "," in grouping opts, expected label)"},
    {"sum without(foo,,)(some_metric)", R"(1:17: parse error: unexpected "," in grouping opts, expected label)"},
    {"sum some_metric by (test)", R"(1:5: parse error: unexpected identifier "some_metric")"},
    {"sum (some_metric) by test",
     R"(1:22: parse error: unexpected identifier "test" in grouping opts, expected "(")"},
    {"sum(x) by", R"(1:10: parse error: unexpected end of input in grouping opts, expected "(")"},
    {"sum by (a", "1:10: parse error: unclosed left parenthesis"},
    {"sum by (a b) (x)", R"x(1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")")x"},
    {"sum by (a:b) (x)", R"(1:9: parse error: unexpected metric identifier "a:b" in grouping opts, expected label)"},
    {"sum by (inf) (x)", R"(1:9: parse error: unexpected number "inf" in grouping opts, expected label)"},
    {"sum by (without) (x)", "1:9: parse error: unexpected <without> in grouping opts, expected label"},
    {"sum () by (test)", "1:1: parse error: no arguments for aggregate expression provided"},
    {"MIN keep_common (some_metric)", R"(1:5: parse error: unexpected identifier "keep_common")"},
    {"MIN (some_metric) keep_common", R"(1:19: parse error: unexpected identifier "keep_common")"},
    {"sum (some_metric) without (test) by (test)", "1:34: parse error: unexpected <by>"},
    {"sum without (test) (some_metric) by (test)", "1:34: parse error: unexpected <by>"},
    {"sum without (a) by (b) (x)", "1:17: parse error: unexpected <by> in aggregation"},
    {"sum by (a) foo", R"(1:12: parse error: unexpected identifier "foo" in aggregation)"},
    {"sum(foo bar)", R"(1:9: parse error: unexpected identifier "bar" in aggregation)"},
    {"sum(rate(foo bar))", R"(1:14: parse error: unexpected identifier "bar" in aggregation)"},
    {"sum by (a)", "1:11: parse error: unexpected end of input in aggregation"},
    {"topk(some_metric)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"},
    {"topk(1, 2, foo)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 3"},
    {"sum(1, foo)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"},
    {R"(count_values("a"))",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"},
    {"topk(some_metric,)", "1:17: parse error: trailing commas not allowed in function call args"},
    {"sum(foo,)", "1:8: parse error: trailing commas not allowed in function call args"},
    {"rate(foo[5m],,)", "1:13: parse error: trailing commas not allowed in function call args"},
    {"topk(some_metric, other_metric)", "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"},
    {"count_values(5, other_metric)", "1:14: parse error: expected type string in aggregation parameter, got scalar"},
    {R"(quantile("a", foo))", "1:10: parse error: expected type scalar in aggregation parameter, got string"},
    {"sum(foo[5m])", "1:5: parse error: expected type instant vector in aggregation expression, got range vector"},
    {"sum(1)", "1:5: parse error: expected type instant vector in aggregation expression, got scalar"},
    // Function calls.
    {"floor()", R"(1:1: parse error: expected 1 argument(s) in call to "floor", got 0)"},
    {"floor(some_metric, other_metric)", R"(1:1: parse error: expected 1 argument(s) in call to "floor", got 2)"},
    {"floor(some_metric, 1)", R"(1:1: parse error: expected 1 argument(s) in call to "floor", got 2)"},
    {"floor(1)", R"(1:7: parse error: expected type instant vector in call to function "floor", got scalar)"},
    {"hour(some_metric, some_metric, some_metric)",
     R"(1:1: parse error: expected at most 1 argument(s) in call to "hour", got 3)"},
    {"time(some_metric)", R"(1:1: parse error: expected 0 argument(s) in call to "time", got 1)"},
    {"non_existent_function_far_bar()",
     R"(1:1: parse error: unknown function with name "non_existent_function_far_bar")"},
    {"RATE(foo[5m])", R"(1:1: parse error: unknown function with name "RATE")"},
    {"a>b()", R"(1:3: parse error: unknown function with name "b")"},
    {"unknownfn(1) + foo{", R"(1:1: parse error: unknown function with name "unknownfn")"},
    {"unknown_fn(foo bar)", R"(1:16: parse error: unexpected identifier "bar")"},
    {"rate(some_metric)", R"(1:6: parse error: expected type range vector in call to function "rate", got instant vector)"},
    {"rate(avg)", R"(1:6: parse error: expected type range vector in call to function "rate", got instant vector)"},
    {"rate(foo bar)", R"(1:10: parse error: unexpected identifier "bar")"},
    {R"(label_join(up, "a"))", R"(1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 2)"},
    {R"(label_join(up, "a", ",", 1))",
     R"(1:26: parse error: expected type string in call to function "label_join", got scalar)"},
    {"round(foo, 1, 2)", R"(1:1: parse error: expected at most 2 argument(s) in call to "round", got 3)"},
    {"histogram_quantile(foo, 0.9)",
     R"(1:20: parse error: expected type scalar in call to function "histogram_quantile", got instant vector)"},
    {"abs(foo, bar)", R"(1:1: parse error: expected 1 argument(s) in call to "abs", got 2)"},
    {"vector(foo)", R"(1:8: parse error: expected type scalar in call to function "vector", got instant vector)"},
};

TEST(PromqlParserErrorsTest, ReportsPrometheusMessages) {
  int checked = 0;
  for (const ErrorCase& c : kErrorCases) {
    std::unique_ptr<promql::Expr> expr;
    Status status = ParseExpr(c.input, &expr);
    EXPECT_TRUE(status.IsInvalidArgument()) << "input: " << c.input << " -> " << status.ToString();
    EXPECT_EQ(status.message(), c.message) << "input: " << c.input;
    EXPECT_EQ(expr, nullptr) << "input: " << c.input;
    ++checked;
  }
  EXPECT_GT(checked, 200);
}

TEST(PromqlParserErrorsTest, HugeNumberIsOutOfRange) {
  std::unique_ptr<promql::Expr> expr;
  Status status = ParseExpr(std::string(320, '9'), &expr);
  ASSERT_TRUE(status.IsInvalidArgument());
  EXPECT_EQ(status.message().rfind("1:1: parse error: error parsing number: strconv.ParseFloat: parsing ", 0), 0u);
  EXPECT_NE(status.message().find("value out of range"), std::string::npos);
}

TEST(PromqlParserErrorsTest, BadRegexReportsMatcherPosition) {
  std::unique_ptr<promql::Expr> expr;
  Status status = ParseExpr(R"(foo{a="b", bar=~"("})", &expr);
  ASSERT_TRUE(status.IsInvalidArgument());
  EXPECT_EQ(status.message().rfind("1:12: parse error: invalid regular expression", 0), 0u) << status.message();
}

TEST(PromqlParserErrorsTest, OutputUntouchedOnError) {
  std::unique_ptr<promql::Expr> expr;
  ASSERT_TRUE(ParseExpr("up", &expr).ok());
  promql::Expr* before = expr.get();
  EXPECT_FALSE(ParseExpr("up +", &expr).ok());
  EXPECT_EQ(expr.get(), before);
}

}  // namespace
}  // namespace tsvault::query
