#include "query/promql/preprocess.h"

#include <utility>
#include <vector>

#include "query/promql/functions.h"

namespace tsvault::query::promql {

namespace {

std::unique_ptr<Expr> WrapStepInvariant(std::unique_ptr<Expr> expr) {
  if (expr->kind == ExprKind::kStepInvariant) return expr;
  auto wrapper = std::make_unique<StepInvariantExpr>();
  wrapper->position = expr->position;
  wrapper->expr = std::move(expr);
  return wrapper;
}

void ResolveAt(std::optional<int64_t>* timestamp, AtPreprocessor preprocessor, int64_t start_ms,
               int64_t end_ms) {
  if (preprocessor == AtPreprocessor::kStart) *timestamp = start_ms;
  if (preprocessor == AtPreprocessor::kEnd) *timestamp = end_ms;
}

// Returns true when the subtree `*slot` is step-invariant; wraps invariant
// children of variant nodes along the way.
bool Preprocess(std::unique_ptr<Expr>* slot, int64_t start_ms, int64_t end_ms) {
  Expr& expr = **slot;
  switch (expr.kind) {
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral:
    case ExprKind::kStepInvariant:
      return true;
    case ExprKind::kVectorSelector: {
      auto& selector = expr.As<VectorSelector>();
      ResolveAt(&selector.timestamp_ms, selector.at_preprocessor, start_ms, end_ms);
      return selector.timestamp_ms.has_value();
    }
    case ExprKind::kMatrixSelector: {
      auto& selector = *expr.As<MatrixSelector>().selector;
      ResolveAt(&selector.timestamp_ms, selector.at_preprocessor, start_ms, end_ms);
      return selector.timestamp_ms.has_value();
    }
    case ExprKind::kAggregate:
      // As in Prometheus, only the aggregated expression decides (the
      // parameter is a literal or scalar expression evaluated per step).
      return Preprocess(&expr.As<AggregateExpr>().expr, start_ms, end_ms);
    case ExprKind::kParen:
      return Preprocess(&expr.As<ParenExpr>().expr, start_ms, end_ms);
    case ExprKind::kUnary:
      return Preprocess(&expr.As<UnaryExpr>().expr, start_ms, end_ms);
    case ExprKind::kBinary: {
      auto& binary = expr.As<BinaryExpr>();
      const bool lhs_invariant = Preprocess(&binary.lhs, start_ms, end_ms);
      const bool rhs_invariant = Preprocess(&binary.rhs, start_ms, end_ms);
      if (lhs_invariant && rhs_invariant) return true;
      if (lhs_invariant) binary.lhs = WrapStepInvariant(std::move(binary.lhs));
      if (rhs_invariant) binary.rhs = WrapStepInvariant(std::move(binary.rhs));
      return false;
    }
    case ExprKind::kCall: {
      auto& call = expr.As<Call>();
      bool invariant = call.function == nullptr || !IsAtModifierUnsafeFunction(call.function->name);
      std::vector<bool> argument_invariant(call.args.size());
      for (size_t i = 0; i < call.args.size(); ++i) {
        argument_invariant[i] = Preprocess(&call.args[i], start_ms, end_ms);
        invariant = invariant && argument_invariant[i];
      }
      if (invariant) return true;
      for (size_t i = 0; i < call.args.size(); ++i) {
        if (argument_invariant[i]) call.args[i] = WrapStepInvariant(std::move(call.args[i]));
      }
      return false;
    }
    case ExprKind::kSubquery: {
      auto& subquery = expr.As<SubqueryExpr>();
      if (Preprocess(&subquery.expr, start_ms, end_ms)) {
        subquery.expr = WrapStepInvariant(std::move(subquery.expr));
      }
      ResolveAt(&subquery.timestamp_ms, subquery.at_preprocessor, start_ms, end_ms);
      return subquery.timestamp_ms.has_value();
    }
  }
  return false;
}

}  // namespace

void PreprocessExpr(std::unique_ptr<Expr>* expr, int64_t start_ms, int64_t end_ms) {
  if (expr == nullptr || *expr == nullptr) return;
  if (Preprocess(expr, start_ms, end_ms)) *expr = WrapStepInvariant(std::move(*expr));
}

}  // namespace tsvault::query::promql
