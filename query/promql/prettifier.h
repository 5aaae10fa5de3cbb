// Prometheus 2.42's PromQL prettifier (promql/parser/prettier.go), behind
// /api/v1/format_query.
#pragma once

#include <cstddef>
#include <string>

#include "query/promql/ast.h"

namespace tsvault::query {

// The canonical text of `expr`, split over indented lines wherever a node's
// text is longer than `max_line` characters: a node that fits prints on one
// line; a longer one puts its children on their own lines, indented two
// spaces per level.
std::string PrettifyExpr(const promql::Expr& expr, size_t max_line = 100);

}  // namespace tsvault::query
