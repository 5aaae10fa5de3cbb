// Prometheus 2.42's PromQL prettifier (promql/parser/prettier.go): a node
// whose canonical text fits in the line limit prints on one line; a longer
// one puts its children on their own lines, indented two spaces per level.
#include "query/promql/prettifier.h"

#include <string>

#include "common/time_parse.h"
#include "query/promql/functions.h"
#include "query/promql/printer.h"
#include "query/promql/text.h"

namespace tsvault::query {

namespace {

using promql::Expr;
using promql::ExprKind;

std::string Indent(int level) { return std::string(static_cast<size_t>(level) * 2, ' '); }

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out;
}

std::string TrimSpace(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\n\r\v\f");
  if (begin == std::string::npos) return "";
  const size_t end = s.find_last_not_of(" \t\n\r\v\f");
  return s.substr(begin, end - begin + 1);
}

class Prettifier {
 public:
  explicit Prettifier(size_t max_line) : max_line_(max_line) {}

  std::string Pretty(const Expr& e, int level) const {
    switch (e.kind) {
      case ExprKind::kAggregate: return Aggregate(e.As<promql::AggregateExpr>(), level);
      case ExprKind::kBinary: return Binary(e.As<promql::BinaryExpr>(), level);
      case ExprKind::kCall: return Call(e.As<promql::Call>(), level);
      case ExprKind::kParen: {
        if (!NeedsSplit(e)) return Indent(level) + promql::ExprToString(e);
        return Indent(level) + "(\n" + Pretty(*e.As<promql::ParenExpr>().expr, level + 1) + "\n" + Indent(level) +
               ")";
      }
      case ExprKind::kStepInvariant:
        return Pretty(*e.As<promql::StepInvariantExpr>().expr, level);
      case ExprKind::kSubquery: {
        if (!NeedsSplit(e)) return promql::ExprToString(e);
        const auto& subquery = e.As<promql::SubqueryExpr>();
        return Pretty(*subquery.expr, level) + SubquerySuffix(subquery);
      }
      case ExprKind::kUnary: {
        const auto& unary = e.As<promql::UnaryExpr>();
        return Indent(level) + promql::UnaryOpName(unary.op) + TrimSpace(Pretty(*unary.expr, level));
      }
      default:
        return Indent(level) + promql::ExprToString(e);
    }
  }

 private:
  bool NeedsSplit(const Expr& e) const { return promql::ExprToString(e).size() > max_line_; }

  std::string Aggregate(const promql::AggregateExpr& e, int level) const {
    std::string s = Indent(level);
    if (!NeedsSplit(e)) return s + promql::ExprToString(e);
    s += promql::AggregateOpName(e.op);
    if (e.without) {
      s.append(" without (").append(Joined(e.grouping)).append(") ");
    } else if (!e.grouping.empty()) {
      s.append(" by (").append(Joined(e.grouping)).append(") ");
    }
    s += "(\n";
    if (promql::AggregateTakesParam(e.op) && e.param) s += Pretty(*e.param, level + 1) + ",\n";
    s += Pretty(*e.expr, level + 1) + "\n" + Indent(level) + ")";
    return s;
  }

  std::string Binary(const promql::BinaryExpr& e, int level) const {
    if (!NeedsSplit(e)) return Indent(level) + promql::ExprToString(e);
    std::string op = promql::BinaryOpName(e.op);
    if (e.return_bool) op += " bool";
    if (e.matching && (!e.matching->matching_labels.empty() || e.matching->on)) {
      op.append(e.matching->on ? " on (" : " ignoring (").append(Joined(e.matching->matching_labels)).append(")");
      using Card = promql::VectorMatchCardinality;
      if (e.matching->card == Card::kManyToOne || e.matching->card == Card::kOneToMany) {
        op.append(e.matching->card == Card::kManyToOne ? " group_left (" : " group_right (")
            .append(Joined(e.matching->include))
            .append(")");
      }
    }
    return Pretty(*e.lhs, level + 1) + "\n" + Indent(level) + op + "\n" + Pretty(*e.rhs, level + 1);
  }

  std::string Call(const promql::Call& e, int level) const {
    std::string s = Indent(level);
    if (!NeedsSplit(e)) return s + promql::ExprToString(e);
    s += std::string(e.function->name) + "(\n";
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (i > 0) s += ",\n";
      s += Pretty(*e.args[i], level + 1);
    }
    return s + "\n" + Indent(level) + ")";
  }

  static std::string SubquerySuffix(const promql::SubqueryExpr& e) {
    std::string s = "[";
    s.append(FormatPromDuration(e.range_ms)).append(":");
    if (e.step_ms != 0) s += FormatPromDuration(e.step_ms);
    s += "]";
    if (e.timestamp_ms.has_value()) {
      s.append(" @ ").append(promql::FormatGoFixed(static_cast<double>(*e.timestamp_ms) / 1000.0, 3));
    } else if (e.at_preprocessor == promql::AtPreprocessor::kStart) {
      s += " @ start()";
    } else if (e.at_preprocessor == promql::AtPreprocessor::kEnd) {
      s += " @ end()";
    }
    if (e.offset_ms > 0) s.append(" offset ").append(FormatPromDuration(e.offset_ms));
    if (e.offset_ms < 0) s.append(" offset -").append(FormatPromDuration(-e.offset_ms));
    return s;
  }

  size_t max_line_;
};

}  // namespace

std::string PrettifyExpr(const promql::Expr& expr, size_t max_line) { return Prettifier(max_line).Pretty(expr, 0); }

}  // namespace tsvault::query
