// Structure, positions and value types of parsed PromQL trees.
#include "query/promql/parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "query/promql/functions.h"
#include "query/promql/printer.h"

namespace tsvault::query::promql {
namespace {

std::unique_ptr<Expr> MustParse(const std::string& input) {
  std::unique_ptr<Expr> expr;
  Status status = ParseExpr(input, &expr);
  EXPECT_TRUE(status.ok()) << input << ": " << status.ToString();
  return expr;
}

// Prints the tree with every binary and unary node parenthesised, to make
// precedence and associativity visible.
std::string Bracketed(const Expr& expr) {
  switch (expr.kind) {
    case ExprKind::kBinary: {
      const auto& binary = expr.As<BinaryExpr>();
      return std::string("(").append(Bracketed(*binary.lhs)).append(" ").append(BinaryOpName(binary.op))
          .append(" ").append(Bracketed(*binary.rhs)).append(")");
    }
    case ExprKind::kUnary: {
      const auto& unary = expr.As<UnaryExpr>();
      return std::string("(") + UnaryOpName(unary.op) + Bracketed(*unary.expr) + ")";
    }
    case ExprKind::kParen: return std::string("[").append(Bracketed(*expr.As<ParenExpr>().expr)).append("]");
    default: return ExprToString(expr);
  }
}

struct PrecedenceCase {
  const char* input;
  const char* bracketed;
};

const PrecedenceCase kPrecedenceCases[] = {
    {"1 + 2 * 3", "(1 + (2 * 3))"},
    {"1 * 2 + 3", "((1 * 2) + 3)"},
    {"1 - 2 - 3", "((1 - 2) - 3)"},
    {"1 / 2 / 3", "((1 / 2) / 3)"},
    {"1 % 2 * 3", "((1 % 2) * 3)"},
    {"2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"},
    {"2 * 3 ^ 2", "(2 * (3 ^ 2))"},
    {"2 ^ 3 * 2", "((2 ^ 3) * 2)"},
    {"a atan2 b * c", "((a atan2 b) * c)"},
    {"a + b atan2 c", "(a + (b atan2 c))"},
    {"a + b > c - d", "((a + b) > (c - d))"},
    {"a == b != c", "((a == b) != c)"},
    {"a > b and c < d", "((a > b) and (c < d))"},
    {"a and b unless c", "((a and b) unless c)"},
    {"a unless b and c", "((a unless b) and c)"},
    {"a or b and c", "(a or (b and c))"},
    {"a and b or c", "((a and b) or c)"},
    {"foo + bar or bla and blub", "((foo + bar) or (bla and blub))"},
    {"foo and bar unless baz or qux", "(((foo and bar) unless baz) or qux)"},
    {"a or b or c", "((a or b) or c)"},
    {"-1 ^ 2", "(-(1 ^ 2))"},  // the sign applies to 1 ^ 2, so it is not folded
    {"-a ^ 2", "(-(a ^ 2))"},
    {"-a * 2", "((-a) * 2)"},
    {"-a + 2", "((-a) + 2)"},
    {"a * -b", "(a * (-b))"},
    {"a ^ -b", "(a ^ (-b))"},
    {"a ^ -b ^ c", "(a ^ (-(b ^ c)))"},
    {"a ^ -b * c", "((a ^ (-b)) * c)"},
    {"a + -b * c", "(a + ((-b) * c))"},
    {"--a", "(-(-a))"},
    {"-(a + b) * c", "((-[(a + b)]) * c)"},
    {"(a + b) * c", "([(a + b)] * c)"},
    {"a + b offset 5m", "(a + b offset 5m)"},
    {"a offset 5m + b", "(a offset 5m + b)"},
    {"-a offset 5m", "(-a offset 5m)"},
    {"a + b offset 1m @ 5", "(a + b @ 5.000 offset 1m)"},
    {"a > bool b + c", "(a > (b + c))"},
    {"a + on(x) b * ignoring(y) c", "(a + (b * c))"},
    {"a ^ b ^ c ^ d", "(a ^ (b ^ (c ^ d)))"},
    {"1 < bool 2 - 1 * 2", "(1 < (2 - (1 * 2)))"},
    {"+1 + -2 * 1", "(1 + (-2 * 1))"},
};

TEST(PromqlParserTest, PrecedenceAndAssociativity) {
  for (const PrecedenceCase& c : kPrecedenceCases) {
    std::unique_ptr<Expr> expr = MustParse(c.input);
    ASSERT_TRUE(expr) << c.input;
    EXPECT_EQ(Bracketed(*expr), c.bracketed) << "input: " << c.input;
  }
}

TEST(PromqlParserTest, UnaryMinusOnPowerIsNotFolded) {
  std::unique_ptr<Expr> expr = MustParse("-1 ^ 2");
  const auto& unary = expr->As<UnaryExpr>();
  EXPECT_EQ(unary.op, UnaryOp::kMinus);
  const auto& power = unary.expr->As<BinaryExpr>();
  EXPECT_EQ(power.op, BinaryOp::kPow);
  EXPECT_EQ(power.lhs->As<NumberLiteral>().value, 1);
  EXPECT_EQ(expr->Type(), ValueType::kScalar);
}

TEST(PromqlParserTest, SignFoldsIntoNumberLiteralWithPosition) {
  std::unique_ptr<Expr> expr = MustParse("-1^-2");
  const auto& power = expr->As<UnaryExpr>().expr->As<BinaryExpr>();
  const auto& rhs = power.rhs->As<NumberLiteral>();
  EXPECT_EQ(rhs.value, -2);
  EXPECT_EQ(rhs.position.start, 3u);
  EXPECT_EQ(rhs.position.end, 5u);

  expr = MustParse(" +some_metric");
  EXPECT_EQ(expr->As<UnaryExpr>().op, UnaryOp::kPlus);
  EXPECT_EQ(expr->position.start, 1u);
  EXPECT_EQ(expr->As<UnaryExpr>().expr->position.start, 2u);
  EXPECT_EQ(expr->As<UnaryExpr>().expr->position.end, 13u);
}

TEST(PromqlParserTest, NumberForms) {
  struct Case {
    const char* input;
    double value;
  };
  const Case cases[] = {
      {"1", 1},         {".5", 0.5},        {"5.", 5},          {"123.4567", 123.4567},
      {"5e-3", 0.005},  {"5e3", 5000},      {"5E3", 5000},      {"0xc", 12},
      {"0X1f", 31},     {"0755", 493},      {"-0755", -493},    {"+5.5e-3", 0.0055},
      {"08", 8},        {"0", 0},           {"00", 0},          {"1e+2", 100},
      {"0x7fffffffffffffff", 9223372036854775807.0},
      {"99999999999999999999", 1e20},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Expr> expr = MustParse(c.input);
    ASSERT_TRUE(expr) << c.input;
    EXPECT_EQ(expr->As<NumberLiteral>().value, c.value) << c.input;
  }
  EXPECT_TRUE(std::isinf(MustParse("Inf")->As<NumberLiteral>().value));
  EXPECT_LT(MustParse("-inF")->As<NumberLiteral>().value, 0);
  EXPECT_TRUE(std::isnan(MustParse("NaN")->As<NumberLiteral>().value));
  EXPECT_TRUE(std::isnan(MustParse("-nan")->As<NumberLiteral>().value));
}

TEST(PromqlParserTest, VectorSelectorMatchersAndImplicitName) {
  std::unique_ptr<Expr> expr = MustParse(R"(foo{a="b", foo!="bar", test=~"test", bar!~"baz",})");
  const auto& selector = expr->As<VectorSelector>();
  EXPECT_EQ(selector.name, "foo");
  ASSERT_EQ(selector.matchers.size(), 5u);
  EXPECT_EQ(selector.matchers[0].ToString(), R"(a="b")");
  EXPECT_EQ(selector.matchers[1].type(), storage::MatchType::kNotEqual);
  EXPECT_EQ(selector.matchers[2].type(), storage::MatchType::kRegexMatch);
  EXPECT_TRUE(selector.matchers[2].Matches("test"));
  EXPECT_FALSE(selector.matchers[2].Matches("xtest"));  // anchored
  EXPECT_EQ(selector.matchers[3].type(), storage::MatchType::kRegexNoMatch);
  EXPECT_EQ(selector.matchers[4].ToString(), R"(__name__="foo")");
  EXPECT_EQ(selector.position.start, 0u);
  EXPECT_EQ(selector.position.end, 49u);
  EXPECT_EQ(expr->Type(), ValueType::kVector);

  expr = MustParse(R"({__name__=~"foo.+", job="x"})");
  EXPECT_TRUE(expr->As<VectorSelector>().name.empty());
  EXPECT_EQ(expr->As<VectorSelector>().matchers.size(), 2u);

  expr = MustParse(R"(foo{NaN='bc', bar='}'})");
  EXPECT_EQ(expr->As<VectorSelector>().matchers[0].name(), "NaN");
  EXPECT_EQ(expr->As<VectorSelector>().matchers[1].value(), "}");
}

TEST(PromqlParserTest, OffsetAndAtModifiers) {
  std::unique_ptr<Expr> expr = MustParse("foo offset 5m");
  EXPECT_EQ(expr->As<VectorSelector>().offset_ms, 300000);
  EXPECT_EQ(expr->position.end, 13u);

  expr = MustParse("foo offset -7m");
  EXPECT_EQ(expr->As<VectorSelector>().offset_ms, -420000);

  expr = MustParse("foo OFFSET 1m30ms");
  EXPECT_EQ(expr->As<VectorSelector>().offset_ms, 60030);

  expr = MustParse("foo @ 1603774568");
  EXPECT_EQ(expr->As<VectorSelector>().timestamp_ms, 1603774568000);
  EXPECT_EQ(expr->position.end, 16u);

  expr = MustParse("foo @ -3.3e1");
  EXPECT_EQ(expr->As<VectorSelector>().timestamp_ms, -33000);

  expr = MustParse("foo @ 3.3335");
  EXPECT_EQ(expr->As<VectorSelector>().timestamp_ms, 3334);

  expr = MustParse("foo @ start()");
  EXPECT_EQ(expr->As<VectorSelector>().at_preprocessor, AtPreprocessor::kStart);
  EXPECT_FALSE(expr->As<VectorSelector>().timestamp_ms.has_value());
  EXPECT_EQ(expr->position.end, 13u);

  expr = MustParse("test[5h] OFFSET 5m");
  const auto& matrix = expr->As<MatrixSelector>();
  EXPECT_EQ(matrix.range_ms, 5 * 3600000);
  EXPECT_EQ(matrix.selector->offset_ms, 300000);
  EXPECT_EQ(matrix.selector->position.end, 4u);
  EXPECT_EQ(matrix.position.end, 18u);
  EXPECT_EQ(expr->Type(), ValueType::kMatrix);

  expr = MustParse("test[5y] @ end()");
  EXPECT_EQ(expr->As<MatrixSelector>().selector->at_preprocessor, AtPreprocessor::kEnd);
  EXPECT_EQ(expr->As<MatrixSelector>().range_ms, 5LL * 365 * 86400000);
}

TEST(PromqlParserTest, Subqueries) {
  std::unique_ptr<Expr> expr = MustParse(R"(foo{bar="baz"}[10m:6s])");
  const auto& subquery = expr->As<SubqueryExpr>();
  EXPECT_EQ(subquery.range_ms, 600000);
  EXPECT_EQ(subquery.step_ms, 6000);
  EXPECT_EQ(subquery.position.end, 22u);
  EXPECT_EQ(subquery.expr->kind, ExprKind::kVectorSelector);
  EXPECT_EQ(expr->Type(), ValueType::kMatrix);

  expr = MustParse("foo[10m:]");
  EXPECT_EQ(expr->As<SubqueryExpr>().step_ms, 0);

  expr = MustParse("some_metric @ 123 offset 1m [10m:5s]");
  const auto& inner = expr->As<SubqueryExpr>().expr->As<VectorSelector>();
  EXPECT_EQ(inner.timestamp_ms, 123000);
  EXPECT_EQ(inner.offset_ms, 60000);
  EXPECT_EQ(inner.position.end, 27u);
  EXPECT_EQ(expr->position.end, 36u);

  expr = MustParse("some_metric[10m:5s] offset 1m @ 123");
  EXPECT_EQ(expr->As<SubqueryExpr>().offset_ms, 60000);
  EXPECT_EQ(expr->As<SubqueryExpr>().timestamp_ms, 123000);
  EXPECT_EQ(expr->position.end, 35u);

  expr = MustParse("min_over_time(rate(foo[2s])[5m:5s])");
  const auto& call = expr->As<Call>();
  EXPECT_EQ(call.function->name, "min_over_time");
  EXPECT_EQ(call.args[0]->As<SubqueryExpr>().expr->As<Call>().function->name, "rate");
  EXPECT_EQ(call.position.end, 35u);
}

TEST(PromqlParserTest, Aggregations) {
  std::unique_ptr<Expr> expr = MustParse("sum by (foo)(some_metric)");
  auto* aggregate = &expr->As<AggregateExpr>();
  EXPECT_EQ(aggregate->op, AggregateOp::kSum);
  EXPECT_EQ(aggregate->grouping, std::vector<std::string>{"foo"});
  EXPECT_FALSE(aggregate->without);
  EXPECT_EQ(aggregate->param, nullptr);
  EXPECT_EQ(aggregate->position.end, 25u);
  EXPECT_EQ(aggregate->expr->position.start, 13u);

  expr = MustParse("sum (some_metric) without (foo)");
  aggregate = &expr->As<AggregateExpr>();
  EXPECT_TRUE(aggregate->without);
  EXPECT_EQ(aggregate->position.end, 31u);

  expr = MustParse("topk(5, some_metric)");
  aggregate = &expr->As<AggregateExpr>();
  EXPECT_EQ(aggregate->op, AggregateOp::kTopk);
  EXPECT_EQ(aggregate->param->As<NumberLiteral>().value, 5);
  EXPECT_EQ(aggregate->param->position.start, 5u);

  expr = MustParse(R"(count_values("value", some_metric))");
  EXPECT_EQ(expr->As<AggregateExpr>().param->As<StringLiteral>().value, "value");

  expr = MustParse("sum without(and, by, avg, count, alert, annotations)(some_metric)");
  EXPECT_EQ(expr->As<AggregateExpr>().grouping,
            (std::vector<std::string>{"and", "by", "avg", "count", "alert", "annotations"}));
  EXPECT_EQ(expr->Type(), ValueType::kVector);

  expr = MustParse("sum(sum)");
  EXPECT_EQ(expr->As<AggregateExpr>().expr->As<VectorSelector>().name, "sum");
}

TEST(PromqlParserTest, BinaryVectorMatching) {
  std::unique_ptr<Expr> expr = MustParse("foo * bar");
  ASSERT_TRUE(expr->As<BinaryExpr>().matching.has_value());
  EXPECT_EQ(expr->As<BinaryExpr>().matching->card, VectorMatchCardinality::kOneToOne);

  expr = MustParse("foo == 1");
  EXPECT_FALSE(expr->As<BinaryExpr>().matching.has_value());
  EXPECT_EQ(expr->Type(), ValueType::kVector);

  expr = MustParse("1 + 1");
  EXPECT_FALSE(expr->As<BinaryExpr>().matching.has_value());
  EXPECT_EQ(expr->Type(), ValueType::kScalar);

  expr = MustParse("foo and bar");
  EXPECT_EQ(expr->As<BinaryExpr>().matching->card, VectorMatchCardinality::kManyToMany);

  expr = MustParse("bar + on(foo) bla / on(baz, buz) group_right(test) blub");
  const auto& add = expr->As<BinaryExpr>();
  EXPECT_TRUE(add.matching->on);
  EXPECT_EQ(add.matching->matching_labels, std::vector<std::string>{"foo"});
  const auto& divide = add.rhs->As<BinaryExpr>();
  EXPECT_EQ(divide.matching->card, VectorMatchCardinality::kOneToMany);
  EXPECT_EQ(divide.matching->matching_labels, (std::vector<std::string>{"baz", "buz"}));
  EXPECT_EQ(divide.matching->include, std::vector<std::string>{"test"});
  EXPECT_EQ(divide.rhs->position.start, 51u);

  expr = MustParse("foo / ignoring(test,blub) group_left(blub) bar");
  EXPECT_FALSE(expr->As<BinaryExpr>().matching->on);
  EXPECT_EQ(expr->As<BinaryExpr>().matching->card, VectorMatchCardinality::kManyToOne);

  expr = MustParse("foo and on() bar");
  EXPECT_TRUE(expr->As<BinaryExpr>().matching->on);
  EXPECT_TRUE(expr->As<BinaryExpr>().matching->matching_labels.empty());

  expr = MustParse("foo == bool 1");
  EXPECT_TRUE(expr->As<BinaryExpr>().return_bool);
  EXPECT_EQ(expr->As<BinaryExpr>().rhs->position.start, 12u);
}

TEST(PromqlParserTest, ValueTypes) {
  struct Case {
    const char* input;
    ValueType type;
  };
  const Case cases[] = {
      {"1", ValueType::kScalar},
      {R"("s")", ValueType::kString},
      {"foo", ValueType::kVector},
      {"foo[5m]", ValueType::kMatrix},
      {"foo[5m:]", ValueType::kMatrix},
      {"(foo[5m])", ValueType::kMatrix},
      {"-foo", ValueType::kVector},
      {"time()", ValueType::kScalar},
      {"scalar(foo) * 2", ValueType::kScalar},
      {"scalar(foo) * foo", ValueType::kVector},
      {"-(1 + 2)", ValueType::kScalar},
      {"sum(foo)", ValueType::kVector},
      {"rate(foo[5m])", ValueType::kVector},
      {"pi()", ValueType::kScalar},
      {"vector(1)", ValueType::kVector},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Expr> expr = MustParse(c.input);
    ASSERT_TRUE(expr) << c.input;
    EXPECT_EQ(expr->Type(), c.type) << c.input;
  }
}

TEST(PromqlParserTest, EveryFunctionIsCallableWithItsDeclaredArguments) {
  int checked = 0;
  for (const Function& function : AllFunctions()) {
    std::string call = std::string(function.name) + "(";
    for (size_t i = 0; i < function.arg_types.size(); ++i) {
      if (i > 0) call += ", ";
      switch (function.arg_types[i]) {
        case ValueType::kScalar: call += "1"; break;
        case ValueType::kVector: call += "foo"; break;
        case ValueType::kMatrix: call += "foo[5m]"; break;
        case ValueType::kString: call += R"("a")"; break;
        case ValueType::kNone: break;
      }
    }
    call += ")";
    std::unique_ptr<Expr> expr = MustParse(call);
    ASSERT_TRUE(expr) << call;
    EXPECT_EQ(expr->Type(), function.return_type) << call;
    EXPECT_EQ(ExprToString(*expr), call);
    ++checked;
  }
  EXPECT_EQ(checked, 70);
  EXPECT_EQ(LookupFunction("rate")->arg_types, std::vector<ValueType>{ValueType::kMatrix});
  EXPECT_EQ(LookupFunction("RATE"), nullptr);
  EXPECT_EQ(LookupFunction("label_join")->variadic, -1);
  EXPECT_TRUE(MustParse(R"(label_join(up, "a", ",", "b", "c", "d", "e"))"));
  EXPECT_TRUE(MustParse("round(foo)"));
  EXPECT_TRUE(MustParse("hour()"));
}

TEST(PromqlParserTest, KeywordsAsMetricNames) {
  for (const char* name : {"sum", "min", "by", "without", "offset", "and", "start", "end", "topk"}) {
    std::unique_ptr<Expr> expr = MustParse(name);
    ASSERT_TRUE(expr) << name;
    EXPECT_EQ(expr->As<VectorSelector>().name, name);
  }
  std::unique_ptr<Expr> expr = MustParse("foo * sum");
  EXPECT_EQ(expr->As<BinaryExpr>().rhs->As<VectorSelector>().name, "sum");
  expr = MustParse("rate(avg[5m])");
  EXPECT_EQ(expr->As<Call>().args[0]->As<MatrixSelector>().selector->name, "avg");
}

TEST(PromqlParserTest, StringEscapes) {
  struct Case {
    const char* input;
    const char* value;
  };
  const Case cases[] = {
      {R"("double-quoted string \" with escaped quote")", "double-quoted string \" with escaped quote"},
      {R"('single-quoted string \' with escaped quote')", "single-quoted string ' with escaped quote"},
      {"`backtick-quoted string`", "backtick-quoted string"},
      {R"("\a\b\f\n\r\t\v\\\" - \xFF\377\u1234\U00010111\U0001011111☺")",
       "\a\b\f\n\r\t\v\\\" - \xFF\377\u1234\U00010111\U0001011111☺"},
      {R"('\a\b\f\n\r\t\v\\\' - \xFF\377\u1234\U00010111\U0001011111☺')",
       "\a\b\f\n\r\t\v\\' - \xFF\377\u1234\U00010111\U0001011111☺"},
      {R"(`\a\b\f\n\r\t\v\\\"\' - \xFF\377\u1234\U00010111\U0001011111☺`)",
       R"(\a\b\f\n\r\t\v\\\"\' - \xFF\377\u1234\U00010111\U0001011111☺)"},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Expr> expr = MustParse(c.input);
    ASSERT_TRUE(expr) << c.input;
    EXPECT_EQ(expr->As<StringLiteral>().value, c.value) << c.input;
  }
}

TEST(PromqlParserTest, ChildrenFollowPrometheusOrder) {
  std::unique_ptr<Expr> expr = MustParse("topk(3, foo) + rate(bar[1m])");
  std::vector<Expr*> children = Children(*expr);
  ASSERT_EQ(children.size(), 2u);
  std::vector<Expr*> aggregate_children = Children(*children[0]);
  ASSERT_EQ(aggregate_children.size(), 2u);
  EXPECT_EQ(aggregate_children[0]->kind, ExprKind::kNumberLiteral);
  EXPECT_EQ(aggregate_children[1]->kind, ExprKind::kVectorSelector);
  EXPECT_EQ(Children(*children[1]).size(), 1u);
}

TEST(PromqlParserTest, ParseMetricSelector) {
  std::vector<storage::LabelMatcher> matchers;
  ASSERT_TRUE(ParseMetricSelector(R"(up{job="api", code=~"5.."})", &matchers).ok());
  ASSERT_EQ(matchers.size(), 3u);
  EXPECT_EQ(matchers[0].ToString(), R"(job="api")");
  EXPECT_EQ(matchers[2].ToString(), R"(__name__="up")");

  ASSERT_TRUE(ParseMetricSelector("sum", &matchers).ok());
  ASSERT_EQ(matchers.size(), 1u);
  EXPECT_EQ(matchers[0].value(), "sum");

  ASSERT_TRUE(ParseMetricSelector("{}", &matchers).ok());  // as Prometheus: no emptiness check
  EXPECT_TRUE(matchers.empty());

  Status status = ParseMetricSelector("foo offset 5m", &matchers);
  EXPECT_TRUE(status.IsInvalidArgument());
  EXPECT_EQ(status.message(), "1:5: parse error: unexpected <offset>");
  status = ParseMetricSelector("sum(x)", &matchers);
  EXPECT_EQ(status.message(), R"(1:4: parse error: unexpected "(")");
  status = ParseMetricSelector("", &matchers);
  EXPECT_EQ(status.message(), "1:1: parse error: unexpected end of input");
  status = ParseMetricSelector("foo[5m]", &matchers);
  EXPECT_EQ(status.message(), R"(1:4: parse error: unexpected "[")");
  status = ParseMetricSelector(R"(foo{a=~"("})", &matchers);
  EXPECT_TRUE(status.IsInvalidArgument());
  EXPECT_NE(status.message().find("1:5: parse error:"), std::string::npos) << status.message();
}

TEST(PromqlParserTest, DeepButBoundedNesting) {
  std::string nested = std::string(200, '(') + "1" + std::string(200, ')');
  EXPECT_TRUE(MustParse(nested));
  std::string chain = "a";
  for (int i = 0; i < 500; ++i) chain += " or a";
  EXPECT_TRUE(MustParse(chain));

  // Right at the limit everything still works (and fits the stack under ASan).
  const int deepest = kMaxPromqlNesting - 2;
  std::unique_ptr<Expr> expr = MustParse(std::string(deepest, '(') + "-foo" + std::string(deepest, ')'));
  ASSERT_TRUE(expr);
  EXPECT_EQ(ExprToString(*expr).size(), 2u * deepest + 4);
  std::string calls = "foo";
  for (int i = 0; i < deepest / 2; ++i) calls = "abs(-" + calls + ")";
  EXPECT_TRUE(MustParse(calls));
  std::string powers = "1";
  for (int i = 0; i < deepest; ++i) powers += "^1";
  EXPECT_TRUE(MustParse(powers));

  Status status = ParseExpr(std::string(5000, '(') + "1" + std::string(5000, ')'), &expr);
  EXPECT_TRUE(status.IsInvalidArgument());
  EXPECT_NE(status.message().find("nesting exceeds the maximum depth"), std::string::npos);
  chain = "a";
  for (int i = 0; i < 5000; ++i) chain += " + a";
  status = ParseExpr(chain, &expr);
  EXPECT_NE(status.message().find("nesting exceeds the maximum depth"), std::string::npos);
  std::string subqueries = "a";
  for (int i = 0; i < 5000; ++i) subqueries += "[1m:]";
  status = ParseExpr(subqueries, &expr);
  EXPECT_NE(status.message().find("nesting exceeds the maximum depth"), std::string::npos);
  status = ParseExpr(std::string(5000, '-') + "a", &expr);
  EXPECT_NE(status.message().find("nesting exceeds the maximum depth"), std::string::npos);
}

}  // namespace
}  // namespace tsvault::query::promql
