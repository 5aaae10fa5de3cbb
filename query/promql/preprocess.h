// The step Prometheus' engine runs on a parsed expression before
// evaluating it (PreprocessExpr in promql/engine.go, 2.42).
#pragma once

#include <cstdint>
#include <memory>

#include "query/promql/ast.h"

namespace tsvault::query::promql {

// Prepares `*expr` for evaluation of a query over [start_ms, end_ms]:
//  - `@ start()` / `@ end()` on selectors and subqueries get their
//    timestamp_ms set to start_ms / end_ms (at_preprocessor is kept, so the
//    expression still prints as written);
//  - every maximal subtree whose value does not change between evaluation
//    steps (number and string literals, anything whose selectors all carry
//    an @ modifier, calls of time-independent functions on such arguments)
//    is wrapped in a StepInvariantExpr, which the evaluator computes once
//    at start_ms and reuses for every step. The inside of a subquery is
//    wrapped when invariant even if the subquery itself is not.
// `expr` must be a tree returned by ParseExpr. Already-wrapped
// StepInvariantExpr nodes are left as they are.
void PreprocessExpr(std::unique_ptr<Expr>* expr, int64_t start_ms, int64_t end_ms);

}  // namespace tsvault::query::promql
