// PreprocessExpr: @ start()/end() resolution and step-invariant wrapping.
#include "query/promql/preprocess.h"

#include <gtest/gtest.h>

#include <string>

#include "query/promql/parser.h"
#include "query/promql/printer.h"

namespace tsvault::query::promql {
namespace {

// Prints the tree marking step-invariant subtrees as {{...}}.
std::string Marked(const Expr& expr) {
  switch (expr.kind) {
    case ExprKind::kStepInvariant:
      return std::string("{{").append(Marked(*expr.As<StepInvariantExpr>().expr)).append("}}");
    case ExprKind::kBinary: {
      const auto& binary = expr.As<BinaryExpr>();
      return Marked(*binary.lhs) + " " + BinaryOpName(binary.op) + " " + Marked(*binary.rhs);
    }
    case ExprKind::kCall: {
      const auto& call = expr.As<Call>();
      std::string out = ExprToString(expr).substr(0, ExprToString(expr).find('(')) + "(";
      for (size_t i = 0; i < call.args.size(); ++i) out.append(i ? ", " : "").append(Marked(*call.args[i]));
      return out + ")";
    }
    case ExprKind::kSubquery: {
      const auto& subquery = expr.As<SubqueryExpr>();
      return Marked(*subquery.expr).append("[sq]");
    }
    case ExprKind::kParen: return std::string("(").append(Marked(*expr.As<ParenExpr>().expr)).append(")");
    default: return ExprToString(expr);
  }
}

std::string Preprocessed(const std::string& input, int64_t start_ms = 1000, int64_t end_ms = 2000) {
  std::unique_ptr<Expr> expr;
  Status status = ParseExpr(input, &expr);
  EXPECT_TRUE(status.ok()) << status.ToString();
  if (!status.ok()) return "";
  PreprocessExpr(&expr, start_ms, end_ms);
  return Marked(*expr);
}

TEST(PromqlPreprocessTest, WrapsStepInvariantSubtrees) {
  EXPECT_EQ(Preprocessed("1"), "{{1}}");
  EXPECT_EQ(Preprocessed("foo"), "foo");
  EXPECT_EQ(Preprocessed("foo @ 10"), "{{foo @ 10.000}}");
  EXPECT_EQ(Preprocessed("foo @ start()"), "{{foo @ 1.000}}");
  EXPECT_EQ(Preprocessed("foo[5m] @ end()"), "{{foo[5m] @ 2.000}}");
  EXPECT_EQ(Preprocessed("foo + 1"), "foo + {{1}}");
  EXPECT_EQ(Preprocessed("foo @ 1 + bar"), "{{foo @ 1.000}} + bar");
  EXPECT_EQ(Preprocessed("foo @ 1 + bar @ 2"), "{{foo @ 1.000 + bar @ 2.000}}");
  EXPECT_EQ(Preprocessed("rate(foo[5m] @ 1)"), "{{rate(foo[5m] @ 1.000)}}");
  EXPECT_EQ(Preprocessed("sum(rate(foo[5m] @ 1))"), "{{sum(rate(foo[5m] @ 1.000))}}");
  EXPECT_EQ(Preprocessed("time()"), "time()");
  EXPECT_EQ(Preprocessed("timestamp(foo @ 1)"), "timestamp({{foo @ 1.000}})");
  EXPECT_EQ(Preprocessed("pi()"), "{{pi()}}");
  EXPECT_EQ(Preprocessed("(foo @ 1)"), "{{(foo @ 1.000)}}");
  EXPECT_EQ(Preprocessed("max_over_time(foo[5m:1m])"), "max_over_time(foo[sq])");
  EXPECT_EQ(Preprocessed("max_over_time((foo @ 1)[5m:1m])"), "max_over_time({{(foo @ 1.000)}}[sq])");
  EXPECT_EQ(Preprocessed("max_over_time(foo[5m:1m] @ end())"), "{{max_over_time(foo[sq])}}");
}

TEST(PromqlPreprocessTest, KeepsPreprocessorForPrinting) {
  std::unique_ptr<Expr> expr;
  ASSERT_TRUE(ParseExpr("foo @ start() + sum_over_time(bar[1m:] @ end())", &expr).ok());
  PreprocessExpr(&expr, 5000, 9000);
  EXPECT_EQ(ExprToString(*expr), "foo @ 5.000 + sum_over_time(bar[1m:] @ 9.000)");
  const auto& binary = expr->As<StepInvariantExpr>().expr->As<BinaryExpr>();
  EXPECT_EQ(binary.lhs->As<VectorSelector>().at_preprocessor, AtPreprocessor::kStart);
  EXPECT_EQ(binary.lhs->As<VectorSelector>().timestamp_ms, 5000);
}

TEST(PromqlPreprocessTest, IsIdempotent) {
  std::unique_ptr<Expr> expr;
  ASSERT_TRUE(ParseExpr("foo @ 1 + bar", &expr).ok());
  PreprocessExpr(&expr, 0, 0);
  const std::string once = Marked(*expr);
  PreprocessExpr(&expr, 0, 0);
  EXPECT_EQ(Marked(*expr), once);
}

}  // namespace
}  // namespace tsvault::query::promql
