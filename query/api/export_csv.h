// GET/POST /api/v1/export/csv: raw samples of match[] series as CSV in the
// long layout (one row per sample, streamed), or PromQL range queries
// (query=, layout=wide) long or wide; gzip when accepted, timestamps in a
// time zone (tz=). The columns follow VictoriaMetrics' `format=`
// convention so its scripts work unchanged (docs/csv.md). Internal to
// query/api.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/server.h"
#include "query/engine/engine.h"
#include "storage/db.h"

namespace tsvault::query {

// Registers the endpoint on the server's blocking pool. `db` must outlive
// the server.
void RegisterExportCsvRoutes(http::Server* server, storage::DB* db, const Engine* engine);

}  // namespace tsvault::query
