// Type checking of a parsed PromQL tree: a port of Prometheus' checkAST.
// Checks run in Prometheus' order and only the first error is kept.
#include <string>

#include "query/promql/functions.h"
#include "query/promql/parser_internal.h"
#include "query/promql/text.h"

namespace tsvault::query::promql::internal {

namespace {

bool IsSpaceByte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsScalarOrVector(ValueType type) {
  return type == ValueType::kScalar || type == ValueType::kVector;
}

class Checker {
 public:
  explicit Checker(std::string_view input) : input_(input) {}

  const Status& status() const { return status_; }

  // Checks `expr` and its subtree; returns its value type.
  ValueType Check(Expr* expr) {
    const ValueType type = expr->Type();
    switch (expr->kind) {
      case ExprKind::kAggregate: CheckAggregate(expr->As<AggregateExpr>()); break;
      case ExprKind::kBinary: CheckBinary(expr->As<BinaryExpr>()); break;
      case ExprKind::kCall: CheckCall(expr->As<Call>()); break;
      case ExprKind::kParen: Check(expr->As<ParenExpr>().expr.get()); break;
      case ExprKind::kStepInvariant: Check(expr->As<StepInvariantExpr>().expr.get()); break;
      case ExprKind::kUnary: {
        const ValueType operand = Check(expr->As<UnaryExpr>().expr.get());
        if (!IsScalarOrVector(operand)) {
          Fail(expr->position.start,
               std::string("unary expression only allowed on expressions of type scalar or instant "
                           "vector, got \"") +
                   DocumentedValueTypeName(operand) + "\"");
        }
        break;
      }
      case ExprKind::kSubquery: {
        const ValueType inner = Check(expr->As<SubqueryExpr>().expr.get());
        if (inner != ValueType::kVector) {
          Fail(expr->position.start, std::string("subquery is only allowed on instant vector, got ") +
                                         ValueTypeName(inner) + " instead");
        }
        break;
      }
      case ExprKind::kMatrixSelector: Check(expr->As<MatrixSelector>().selector.get()); break;
      case ExprKind::kVectorSelector: CheckSelector(expr->As<VectorSelector>()); break;
      case ExprKind::kNumberLiteral:
      case ExprKind::kStringLiteral:
        break;
    }
    return type;
  }

 private:
  void Fail(size_t pos, std::string_view message) {
    if (status_.ok()) status_ = MakeParseError(input_, pos, message);
  }

  void ExpectType(Expr* expr, ValueType want, std::string_view context) {
    const ValueType got = Check(expr);
    if (got != want) {
      Fail(expr->position.start, std::string("expected type ") + DocumentedValueTypeName(want) + " in " +
                                     std::string(context) + ", got " + DocumentedValueTypeName(got));
    }
  }

  void CheckAggregate(AggregateExpr& aggregate) {
    ExpectType(aggregate.expr.get(), ValueType::kVector, "aggregation expression");
    if (aggregate.op == AggregateOp::kTopk || aggregate.op == AggregateOp::kBottomk ||
        aggregate.op == AggregateOp::kQuantile) {
      ExpectType(aggregate.param.get(), ValueType::kScalar, "aggregation parameter");
    }
    if (aggregate.op == AggregateOp::kCountValues) {
      ExpectType(aggregate.param.get(), ValueType::kString, "aggregation parameter");
    }
  }

  // The operator's position: the first non-space byte after the left operand.
  size_t OperatorPosition(const BinaryExpr& binary) const {
    size_t pos = binary.lhs->position.end;
    while (pos < input_.size() && IsSpaceByte(input_[pos])) ++pos;
    return pos;
  }

  void CheckBinary(BinaryExpr& binary) {
    const ValueType left = Check(binary.lhs.get());
    const ValueType right = Check(binary.rhs.get());
    const BinaryOp op = binary.op;
    if (binary.return_bool && !IsComparisonOp(op)) {
      Fail(OperatorPosition(binary), "bool modifier can only be used on comparison operators");
    }
    if (IsComparisonOp(op) && !binary.return_bool && binary.lhs->Type() == ValueType::kScalar &&
        binary.rhs->Type() == ValueType::kScalar) {
      Fail(OperatorPosition(binary), "comparisons between scalars must use BOOL modifier");
    }
    if (IsSetOp(op) && binary.matching && binary.matching->card == VectorMatchCardinality::kOneToOne) {
      binary.matching->card = VectorMatchCardinality::kManyToMany;
    }
    if (binary.matching && binary.matching->on) {
      for (const std::string& matching_label : binary.matching->matching_labels) {
        for (const std::string& included : binary.matching->include) {
          if (matching_label == included) {
            Fail(OperatorPosition(binary), "label " + QuoteGoString(matching_label) +
                                               " must not occur in ON and GROUP clause at once");
          }
        }
      }
    }
    if (!IsScalarOrVector(left)) {
      Fail(binary.lhs->position.start, "binary expression must contain only scalar and instant vector types");
    }
    if (!IsScalarOrVector(right)) {
      Fail(binary.rhs->position.start, "binary expression must contain only scalar and instant vector types");
    }
    if ((left != ValueType::kVector || right != ValueType::kVector) && binary.matching) {
      if (!binary.matching->matching_labels.empty()) {
        Fail(binary.position.start, "vector matching only allowed between instant vectors");
      }
      binary.matching.reset();
    } else if (IsSetOp(op) && binary.matching) {
      const VectorMatchCardinality card = binary.matching->card;
      if (card == VectorMatchCardinality::kOneToMany || card == VectorMatchCardinality::kManyToOne) {
        Fail(binary.position.start, std::string("no grouping allowed for \"") + BinaryOpName(op) + "\" operation");
      }
      if (card != VectorMatchCardinality::kManyToMany) {
        Fail(binary.position.start, "set operations must always be many-to-many");
      }
    }
    if ((left == ValueType::kScalar || right == ValueType::kScalar) && IsSetOp(op)) {
      Fail(binary.position.start, std::string("set operator \"") + BinaryOpName(op) +
                                      "\" not allowed in binary scalar expression");
    }
  }

  void CheckCall(Call& call) {
    const Function& function = *call.function;
    const std::string name = QuoteGoString(function.name);
    const size_t declared = function.arg_types.size();
    const size_t given = call.args.size();
    if (function.variadic == 0) {
      if (declared != given) {
        Fail(call.position.start, "expected " + std::to_string(declared) + " argument(s) in call to " + name +
                                      ", got " + std::to_string(given));
      }
    } else {
      const size_t required = declared - 1;
      if (required > given) {
        Fail(call.position.start, "expected at least " + std::to_string(required) +
                                      " argument(s) in call to " + name + ", got " + std::to_string(given));
      } else if (function.variadic > 0 && required + function.variadic < given) {
        Fail(call.position.start, "expected at most " + std::to_string(required + function.variadic) +
                                      " argument(s) in call to " + name + ", got " + std::to_string(given));
      }
    }
    const std::string context = "call to function " + name;
    for (size_t i = 0; i < given; ++i) {
      size_t type_index = i;
      if (i >= declared) {
        if (function.variadic == 0) break;  // extra arguments are not type-checked
        type_index = declared - 1;
      }
      ExpectType(call.args[i].get(), function.arg_types[type_index], context);
    }
  }

  void CheckSelector(const VectorSelector& selector) {
    if (!selector.name.empty()) {
      // The last matcher is the implicit one for the name outside the braces.
      for (size_t i = 0; i + 1 < selector.matchers.size(); ++i) {
        if (selector.matchers[i].name() == "__name__") {
          Fail(selector.position.start, "metric name must not be set twice: " + QuoteGoString(selector.name) +
                                            " or " + QuoteGoString(selector.matchers[i].value()));
        }
      }
      return;  // an explicit metric name is a non-empty matcher
    }
    for (const storage::LabelMatcher& matcher : selector.matchers) {
      if (!matcher.MatchesEmpty()) return;
    }
    Fail(selector.position.start, "vector selector must contain at least one non-empty matcher");
  }

  std::string_view input_;
  Status status_;
};

}  // namespace

Status CheckExpr(std::string_view input, Expr* expr) {
  Checker checker(input);
  checker.Check(expr);
  return checker.status();
}

}  // namespace tsvault::query::promql::internal
