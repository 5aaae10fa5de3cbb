// The rest of Prometheus' API that Grafana, promtool and other tooling call,
// in Prometheus 2.42's exact JSON shapes: /api/v1/rules, /alerts,
// /targets, /targets/metadata and /alertmanagers answer valid empty lists
// (tsvault scrapes nothing and evaluates no rules), /api/v1/status/config,
// /flags, /runtimeinfo and /walreplay describe the running server. See
// docs/query-api.md.
#pragma once

#include "http/server.h"
#include "query/api/api.h"

namespace tsvault::query {

// Adds the routes (GET, and POST where Prometheus accepts it) to `server`.
// `options` must outlive the server.
void RegisterServerStatusRoutes(http::Server* server, const ApiOptions* options);

}  // namespace tsvault::query
