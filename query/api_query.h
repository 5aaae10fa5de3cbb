// The PromQL endpoints of the HTTP API: /api/v1/query, /api/v1/query_range,
// /api/v1/format_query and /api/v1/query_exemplars, with Prometheus 2.42's
// parameters, JSON and error types (docs/query-api.md).
#pragma once

#include <cstddef>
#include <string>

#include "http/server.h"
#include "query/engine.h"
#include "query/promql_ast.h"
#include "storage/db.h"

namespace tsvault::query {

// Adds the four routes (GET and POST form) to `server`. `db` and `engine`
// must outlive the server.
void RegisterQueryRoutes(http::Server* server, storage::DB* db, const Engine* engine);

// Prometheus 2.42's Prettify (what /api/v1/format_query returns): the
// canonical text of `expr`, split over indented lines wherever a node's
// text is longer than `max_line` characters.
std::string PrettifyExpr(const promql::Expr& expr, size_t max_line = 100);

}  // namespace tsvault::query
