#include "query/promql/printer.h"

#include <algorithm>
#include <vector>

#include "common/time_parse.h"
#include "query/promql/functions.h"
#include "query/promql/text.h"

namespace tsvault::query::promql {

namespace {

void AppendJoined(const std::vector<std::string>& items, std::string* out) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) *out += ", ";
    *out += items[i];
  }
}

// " @ <seconds with 3 decimals>" or " @ start()" / " @ end()".
void AppendAt(const std::optional<int64_t>& timestamp_ms, AtPreprocessor preprocessor, std::string* out) {
  if (timestamp_ms.has_value()) {
    out->append(" @ ").append(FormatGoFixed(static_cast<double>(*timestamp_ms) / 1000.0, 3));
  } else if (preprocessor == AtPreprocessor::kStart) {
    *out += " @ start()";
  } else if (preprocessor == AtPreprocessor::kEnd) {
    *out += " @ end()";
  }
}

void AppendOffset(int64_t offset_ms, std::string* out) {
  if (offset_ms > 0) {
    out->append(" offset ").append(FormatPromDuration(offset_ms));
  } else if (offset_ms < 0) {
    out->append(" offset -").append(FormatPromDuration(offset_ms));  // prints the magnitude
  }
}

void AppendExpr(const Expr& expr, std::string* out);

void AppendAggregate(const AggregateExpr& aggregate, std::string* out) {
  *out += AggregateOpName(aggregate.op);
  if (aggregate.without) {
    *out += " without (";
    AppendJoined(aggregate.grouping, out);
    *out += ") ";
  } else if (!aggregate.grouping.empty()) {
    *out += " by (";
    AppendJoined(aggregate.grouping, out);
    *out += ") ";
  }
  *out += "(";
  if (AggregateTakesParam(aggregate.op) && aggregate.param) {
    AppendExpr(*aggregate.param, out);
    *out += ", ";
  }
  if (aggregate.expr) AppendExpr(*aggregate.expr, out);
  *out += ")";
}

void AppendBinary(const BinaryExpr& binary, std::string* out) {
  AppendExpr(*binary.lhs, out);
  *out += " ";
  *out += BinaryOpName(binary.op);
  if (binary.return_bool) *out += " bool";
  const std::optional<VectorMatching>& matching = binary.matching;
  if (matching && (!matching->matching_labels.empty() || matching->on)) {
    *out += matching->on ? " on (" : " ignoring (";
    AppendJoined(matching->matching_labels, out);
    *out += ")";
    if (matching->card == VectorMatchCardinality::kManyToOne ||
        matching->card == VectorMatchCardinality::kOneToMany) {
      *out += matching->card == VectorMatchCardinality::kManyToOne ? " group_left (" : " group_right (";
      AppendJoined(matching->include, out);
      *out += ")";
    }
  }
  *out += " ";
  AppendExpr(*binary.rhs, out);
}

void AppendExpr(const Expr& expr, std::string* out) {
  switch (expr.kind) {
    case ExprKind::kNumberLiteral:
      *out += FormatGoFloat(expr.As<NumberLiteral>().value);
      return;
    case ExprKind::kStringLiteral:
      *out += QuoteGoString(expr.As<StringLiteral>().value);
      return;
    case ExprKind::kVectorSelector: {
      const auto& selector = expr.As<VectorSelector>();
      *out += SelectorToString(selector);
      AppendAt(selector.timestamp_ms, selector.at_preprocessor, out);
      AppendOffset(selector.offset_ms, out);
      return;
    }
    case ExprKind::kMatrixSelector: {
      const auto& matrix = expr.As<MatrixSelector>();
      *out += SelectorToString(*matrix.selector);
      out->append("[").append(FormatPromDuration(matrix.range_ms)).append("]");
      AppendAt(matrix.selector->timestamp_ms, matrix.selector->at_preprocessor, out);
      AppendOffset(matrix.selector->offset_ms, out);
      return;
    }
    case ExprKind::kSubquery: {
      const auto& subquery = expr.As<SubqueryExpr>();
      AppendExpr(*subquery.expr, out);
      out->append("[").append(FormatPromDuration(subquery.range_ms)).append(":");
      if (subquery.step_ms != 0) *out += FormatPromDuration(subquery.step_ms);
      *out += "]";
      AppendAt(subquery.timestamp_ms, subquery.at_preprocessor, out);
      AppendOffset(subquery.offset_ms, out);
      return;
    }
    case ExprKind::kParen:
      *out += "(";
      AppendExpr(*expr.As<ParenExpr>().expr, out);
      *out += ")";
      return;
    case ExprKind::kUnary:
      *out += UnaryOpName(expr.As<UnaryExpr>().op);
      AppendExpr(*expr.As<UnaryExpr>().expr, out);
      return;
    case ExprKind::kBinary:
      AppendBinary(expr.As<BinaryExpr>(), out);
      return;
    case ExprKind::kAggregate:
      AppendAggregate(expr.As<AggregateExpr>(), out);
      return;
    case ExprKind::kCall: {
      const auto& call = expr.As<Call>();
      *out += call.function ? std::string(call.function->name) : std::string("<unknown>");
      *out += "(";
      for (size_t i = 0; i < call.args.size(); ++i) {
        if (i > 0) *out += ", ";
        AppendExpr(*call.args[i], out);
      }
      *out += ")";
      return;
    }
    case ExprKind::kStepInvariant:
      AppendExpr(*expr.As<StepInvariantExpr>().expr, out);
      return;
  }
}

}  // namespace

std::string SelectorToString(const VectorSelector& selector) {
  std::vector<std::string> matchers;
  for (const storage::LabelMatcher& matcher : selector.matchers) {
    // Skip the implicit matcher for the name written outside the braces.
    if (matcher.name() == "__name__" && matcher.type() == storage::MatchType::kEqual &&
        matcher.value() == selector.name && !matcher.value().empty()) {
      continue;
    }
    matchers.push_back(matcher.name() + matcher.OperatorString() + QuoteGoString(matcher.value()));
  }
  std::string out = selector.name;
  if (matchers.empty()) return out;
  std::sort(matchers.begin(), matchers.end());
  out += "{";
  for (size_t i = 0; i < matchers.size(); ++i) {
    if (i > 0) out += ",";
    out += matchers[i];
  }
  out += "}";
  return out;
}

std::string ExprToString(const Expr& expr) {
  std::string out;
  AppendExpr(expr, &out);
  return out;
}

}  // namespace tsvault::query::promql
