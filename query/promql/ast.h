// The PromQL abstract syntax tree produced by ParseExpr
// (query/promql/parser.h), modelled on Prometheus 2.42's promql/parser/ast.go.
//
// Design: every node is a plain struct deriving from Expr with public
// fields. Expr::kind tells the concrete type; use As<T>() (aborts on a
// kind mismatch) or DynCast<T>() (nullptr on mismatch) to get at it, or
// static_cast after switching on kind. Children are owned through
// std::unique_ptr. Durations and timestamps are in milliseconds; positions
// are byte offsets into the parsed input.
//
// A tree returned by ParseExpr has passed Prometheus' type checks: every
// Call has a function, every MatrixSelector wraps a VectorSelector, binary
// operands are scalars or instant vectors, and BinaryExpr::matching is set
// exactly when both operands are instant vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/matcher.h"

namespace tsvault::query::promql {

// The type of value an expression evaluates to.
enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };

// Prometheus' name for a value type: "none", "scalar", "vector", "matrix",
// "string".
const char* ValueTypeName(ValueType type);
// The documented name used in error messages: "scalar", "instant vector",
// "range vector", "string", "none".
const char* DocumentedValueTypeName(ValueType type);

// A half-open byte range [start, end) of the input.
struct PositionRange {
  size_t start = 0;
  size_t end = 0;
};

enum class ExprKind {
  kNumberLiteral,
  kStringLiteral,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kParen,
  kUnary,
  kBinary,
  kAggregate,
  kCall,
  kStepInvariant,  // only created by PreprocessExpr
};

// Binary operators, listed by increasing precedence group:
// or < and, unless < comparisons < + - < * / % atan2 < ^ (right-associative).
enum class BinaryOp {
  kOr,
  kAnd,
  kUnless,
  kEqual,           // ==
  kNotEqual,        // !=
  kGreater,         // >
  kLess,            // <
  kGreaterOrEqual,  // >=
  kLessOrEqual,     // <=
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kAtan2,
  kPow,
};
// The operator as written: "+", "==", "and", "atan2", ...
const char* BinaryOpName(BinaryOp op);
// True for == != > < >= <=.
bool IsComparisonOp(BinaryOp op);
// True for and, or, unless.
bool IsSetOp(BinaryOp op);

enum class UnaryOp { kPlus, kMinus };
// "+" or "-".
const char* UnaryOpName(UnaryOp op);

enum class AggregateOp {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};
// The aggregation's name: "sum", "count_values", ...
const char* AggregateOpName(AggregateOp op);
// True for topk, bottomk, count_values and quantile, which take a parameter.
bool AggregateTakesParam(AggregateOp op);

// Which preprocessor an @ modifier used: `@ start()` / `@ end()`. After
// PreprocessExpr the matching timestamp is filled in as well.
enum class AtPreprocessor { kNone, kStart, kEnd };

// How the series of the two sides of a vector/vector binary operation match.
enum class VectorMatchCardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

struct VectorMatching {
  // kManyToOne for group_left, kOneToMany for group_right, kManyToMany for
  // the set operators (and, or, unless), otherwise kOneToOne.
  VectorMatchCardinality card = VectorMatchCardinality::kOneToOne;
  // Labels listed in on(...) or ignoring(...).
  std::vector<std::string> matching_labels;
  // True for on(...), false for ignoring(...) or no clause.
  bool on = false;
  // Extra labels listed in group_left(...)/group_right(...).
  std::vector<std::string> include;
};

struct Function;

// Base of all nodes.
struct Expr {
  explicit Expr(ExprKind k) : kind(k) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  // The value type this expression evaluates to, computed as Prometheus
  // does (a binary expression is a scalar only if both sides are).
  ValueType Type() const;

  // Checked downcast: traps unless kind == T::kKind.
  template <typename T>
  T& As();
  template <typename T>
  const T& As() const;
  // Downcast returning nullptr when the node is not a T.
  template <typename T>
  T* DynCast() {
    return kind == T::kKind ? static_cast<T*>(this) : nullptr;
  }
  template <typename T>
  const T* DynCast() const {
    return kind == T::kKind ? static_cast<const T*>(this) : nullptr;
  }

  const ExprKind kind;
  // The source range; for selectors and subqueries it includes any @ and
  // offset modifiers that follow.
  PositionRange position;
};

// A number such as 1, -2.5, 0x1F, Inf or NaN (a leading sign is folded in).
struct NumberLiteral final : Expr {
  static constexpr ExprKind kKind = ExprKind::kNumberLiteral;
  NumberLiteral() : Expr(kKind) {}
  double value = 0;
};

// A string literal, unquoted.
struct StringLiteral final : Expr {
  static constexpr ExprKind kKind = ExprKind::kStringLiteral;
  StringLiteral() : Expr(kKind) {}
  std::string value;
};

// An instant vector selector: name{matchers} [@ ...] [offset ...].
struct VectorSelector final : Expr {
  static constexpr ExprKind kKind = ExprKind::kVectorSelector;
  VectorSelector() : Expr(kKind) {}
  // The metric name written before the braces; empty if none.
  std::string name;
  // The matchers in source order; when `name` is set, the implicit
  // __name__="<name>" matcher is appended last.
  std::vector<storage::LabelMatcher> matchers;
  // The offset as written (negative for `offset -5m`); 0 if none.
  int64_t offset_ms = 0;
  // The @ timestamp in milliseconds, if any (filled in for start()/end() by
  // PreprocessExpr).
  std::optional<int64_t> timestamp_ms;
  AtPreprocessor at_preprocessor = AtPreprocessor::kNone;
};

// A range vector selector: selector[range]. The selector's offset and @
// modifiers, written after the range, apply to the whole range.
struct MatrixSelector final : Expr {
  static constexpr ExprKind kKind = ExprKind::kMatrixSelector;
  MatrixSelector() : Expr(kKind) {}
  std::unique_ptr<VectorSelector> selector;
  int64_t range_ms = 0;  // > 0
};

// A subquery: expr[range:step] [@ ...] [offset ...].
struct SubqueryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kSubquery;
  SubqueryExpr() : Expr(kKind) {}
  std::unique_ptr<Expr> expr;
  int64_t range_ms = 0;  // > 0
  int64_t step_ms = 0;   // 0 when omitted: use the default evaluation interval
  int64_t offset_ms = 0;
  std::optional<int64_t> timestamp_ms;
  AtPreprocessor at_preprocessor = AtPreprocessor::kNone;
};

// (expr)
struct ParenExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kParen;
  ParenExpr() : Expr(kKind) {}
  std::unique_ptr<Expr> expr;
};

// -expr or +expr (never directly on a number literal, which is folded).
struct UnaryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kUnary;
  UnaryExpr() : Expr(kKind) {}
  UnaryOp op = UnaryOp::kMinus;
  std::unique_ptr<Expr> expr;
};

// lhs op [bool] [on(...)|ignoring(...) [group_left(...)|group_right(...)]] rhs
struct BinaryExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kBinary;
  BinaryExpr() : Expr(kKind) {}
  BinaryOp op = BinaryOp::kAdd;
  std::unique_ptr<Expr> lhs;
  std::unique_ptr<Expr> rhs;
  // Set by the `bool` modifier (comparisons only).
  bool return_bool = false;
  // Present exactly when both operands are instant vectors.
  std::optional<VectorMatching> matching;
};

// op [by|without (labels)] ([param,] expr)
struct AggregateExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kAggregate;
  AggregateExpr() : Expr(kKind) {}
  AggregateOp op = AggregateOp::kSum;
  std::unique_ptr<Expr> expr;
  // The parameter of topk/bottomk/quantile (scalar) or count_values
  // (string); null for the other operators.
  std::unique_ptr<Expr> param;
  std::vector<std::string> grouping;
  // True for `without (...)`, false for `by (...)` or no clause.
  bool without = false;
};

// A function call; `function` points into the static table of
// query/promql/functions.h.
struct Call final : Expr {
  static constexpr ExprKind kKind = ExprKind::kCall;
  Call() : Expr(kKind) {}
  const Function* function = nullptr;
  std::vector<std::unique_ptr<Expr>> args;
};

// Marks a subtree whose value is the same at every evaluation step (see
// PreprocessExpr); it evaluates `expr` once at the query start.
struct StepInvariantExpr final : Expr {
  static constexpr ExprKind kKind = ExprKind::kStepInvariant;
  StepInvariantExpr() : Expr(kKind) {}
  std::unique_ptr<Expr> expr;
};

// The direct children of `expr`, in Prometheus' order (an aggregation's
// parameter comes before its expression).
std::vector<Expr*> Children(Expr& expr);
std::vector<const Expr*> Children(const Expr& expr);

template <typename T>
T& Expr::As() {
  if (kind != T::kKind) __builtin_trap();
  return static_cast<T&>(*this);
}

template <typename T>
const T& Expr::As() const {
  if (kind != T::kKind) __builtin_trap();
  return static_cast<const T&>(*this);
}

}  // namespace tsvault::query::promql
