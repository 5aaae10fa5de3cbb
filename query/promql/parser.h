// PromQL parsing with the grammar, semantics and error messages of
// Prometheus 2.42 (promql/parser). See docs/promql.md for the coverage.
//
// Errors are Status::InvalidArgument with Prometheus' message format,
// e.g. `1:5: parse error: unexpected identifier "bar"`, where 1:5 is the
// line and the byte column (1-based) of the offending token. As in
// Prometheus only the first error is reported.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/promql/ast.h"
#include "storage/matcher.h"

namespace tsvault::query {

// Maximum nesting of an expression tree (parentheses, calls, operator
// chains, unary signs, subqueries). Deeper inputs are rejected so that
// parsing, printing and evaluating never exhaust the stack.
inline constexpr int kMaxPromqlNesting = 1000;

// Parses and type-checks a PromQL expression. On success *out holds the
// tree (see query/promql/ast.h); on failure *out is left untouched and an
// InvalidArgument status describes the first problem. Never throws.
Status ParseExpr(std::string_view input, std::unique_ptr<promql::Expr>* out);

// Parses a series selector such as `up{job="api"}` or `{__name__=~"a.*"}`
// into its matchers (the implicit __name__ matcher last), as Prometheus'
// parser.ParseMetricSelector: no offset, @ or range is allowed, and - as
// there - an all-empty selector like `{}` is accepted (callers that need
// a non-empty matcher check it themselves). *matchers is replaced on
// success.
Status ParseMetricSelector(std::string_view input, std::vector<storage::LabelMatcher>* matchers);

}  // namespace tsvault::query
