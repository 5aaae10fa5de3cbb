// Prints a PromQL tree in the canonical form of Prometheus 2.42's String()
// methods (promql/parser/printer.go), which /api/v1/format_query returns for
// expressions that fit on one line. Examples:
//   sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))
//   a / on (instance) group_left (job) b
//   foo[1h30m:1m] @ 1609746000.000 offset -5m
#pragma once

#include <string>

#include "query/promql/ast.h"

namespace tsvault::query::promql {

// Returns the canonical text of `expr`. Parentheses appear only where the
// tree has ParenExpr nodes, so printing a parsed expression and parsing the
// result yields an equivalent tree. Matchers are printed sorted; numbers use
// Go's %v form (e.g. 1e+06); durations use Prometheus' form (e.g. 1h30m).
std::string ExprToString(const Expr& expr);

// Prints the label matchers of `selector` as `name{a="b",c=~"d"}` without
// its @ and offset modifiers.
std::string SelectorToString(const VectorSelector& selector);

}  // namespace tsvault::query::promql
