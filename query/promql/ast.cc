#include "query/promql/ast.h"

#include "query/promql/functions.h"

namespace tsvault::query::promql {

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
  }
  return "none";
}

const char* DocumentedValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    default: return ValueTypeName(type);
  }
}

const char* BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr: return "or";
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kUnless: return "unless";
    case BinaryOp::kEqual: return "==";
    case BinaryOp::kNotEqual: return "!=";
    case BinaryOp::kGreater: return ">";
    case BinaryOp::kLess: return "<";
    case BinaryOp::kGreaterOrEqual: return ">=";
    case BinaryOp::kLessOrEqual: return "<=";
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kAtan2: return "atan2";
    case BinaryOp::kPow: return "^";
  }
  return "?";
}

bool IsComparisonOp(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEqual:
    case BinaryOp::kNotEqual:
    case BinaryOp::kGreater:
    case BinaryOp::kLess:
    case BinaryOp::kGreaterOrEqual:
    case BinaryOp::kLessOrEqual:
      return true;
    default:
      return false;
  }
}

bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

const char* UnaryOpName(UnaryOp op) { return op == UnaryOp::kMinus ? "-" : "+"; }

const char* AggregateOpName(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum: return "sum";
    case AggregateOp::kAvg: return "avg";
    case AggregateOp::kCount: return "count";
    case AggregateOp::kMin: return "min";
    case AggregateOp::kMax: return "max";
    case AggregateOp::kGroup: return "group";
    case AggregateOp::kStddev: return "stddev";
    case AggregateOp::kStdvar: return "stdvar";
    case AggregateOp::kTopk: return "topk";
    case AggregateOp::kBottomk: return "bottomk";
    case AggregateOp::kCountValues: return "count_values";
    case AggregateOp::kQuantile: return "quantile";
  }
  return "?";
}

bool AggregateTakesParam(AggregateOp op) {
  return op == AggregateOp::kTopk || op == AggregateOp::kBottomk ||
         op == AggregateOp::kCountValues || op == AggregateOp::kQuantile;
}

ValueType Expr::Type() const {
  switch (kind) {
    case ExprKind::kNumberLiteral: return ValueType::kScalar;
    case ExprKind::kStringLiteral: return ValueType::kString;
    case ExprKind::kVectorSelector: return ValueType::kVector;
    case ExprKind::kMatrixSelector: return ValueType::kMatrix;
    case ExprKind::kSubquery: return ValueType::kMatrix;
    case ExprKind::kAggregate: return ValueType::kVector;
    case ExprKind::kParen: {
      const auto& paren = As<ParenExpr>();
      return paren.expr ? paren.expr->Type() : ValueType::kNone;
    }
    case ExprKind::kUnary: {
      const auto& unary = As<UnaryExpr>();
      return unary.expr ? unary.expr->Type() : ValueType::kNone;
    }
    case ExprKind::kStepInvariant: {
      const auto& invariant = As<StepInvariantExpr>();
      return invariant.expr ? invariant.expr->Type() : ValueType::kNone;
    }
    case ExprKind::kBinary: {
      const auto& binary = As<BinaryExpr>();
      if (binary.lhs && binary.rhs && binary.lhs->Type() == ValueType::kScalar &&
          binary.rhs->Type() == ValueType::kScalar) {
        return ValueType::kScalar;
      }
      return ValueType::kVector;
    }
    case ExprKind::kCall: {
      const auto& call = As<Call>();
      return call.function ? call.function->return_type : ValueType::kNone;
    }
  }
  return ValueType::kNone;
}

std::vector<const Expr*> Children(const Expr& expr) {
  std::vector<const Expr*> children;
  auto add = [&children](const std::unique_ptr<Expr>& child) {
    if (child) children.push_back(child.get());
  };
  switch (expr.kind) {
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral:
    case ExprKind::kVectorSelector:
      break;
    case ExprKind::kMatrixSelector: {
      const auto& matrix = expr.As<MatrixSelector>();
      if (matrix.selector) children.push_back(matrix.selector.get());
      break;
    }
    case ExprKind::kSubquery: add(expr.As<SubqueryExpr>().expr); break;
    case ExprKind::kParen: add(expr.As<ParenExpr>().expr); break;
    case ExprKind::kUnary: add(expr.As<UnaryExpr>().expr); break;
    case ExprKind::kStepInvariant: add(expr.As<StepInvariantExpr>().expr); break;
    case ExprKind::kBinary:
      add(expr.As<BinaryExpr>().lhs);
      add(expr.As<BinaryExpr>().rhs);
      break;
    case ExprKind::kAggregate:
      add(expr.As<AggregateExpr>().param);
      add(expr.As<AggregateExpr>().expr);
      break;
    case ExprKind::kCall:
      for (const auto& arg : expr.As<Call>().args) add(arg);
      break;
  }
  return children;
}

std::vector<Expr*> Children(Expr& expr) {
  std::vector<Expr*> children;
  for (const Expr* child : Children(static_cast<const Expr&>(expr))) {
    children.push_back(const_cast<Expr*>(child));
  }
  return children;
}

}  // namespace tsvault::query::promql
