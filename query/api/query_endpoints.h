// The PromQL endpoints of the HTTP API: /api/v1/query, /api/v1/query_range,
// /api/v1/format_query and /api/v1/query_exemplars, with Prometheus 2.42's
// parameters, JSON and error types (docs/query-api.md).
#pragma once

#include "http/server.h"
#include "query/engine/engine.h"
#include "storage/db.h"

namespace tsvault::query {

// Adds the four routes (GET and POST form) to `server`. `db` and `engine`
// must outlive the server.
void RegisterQueryRoutes(http::Server* server, storage::DB* db, const Engine* engine);

}  // namespace tsvault::query
