// Prometheus' TSDB admin API (web/api/v1 deleteSeries, cleanTombstones,
// snapshot): POST or PUT /api/v1/admin/tsdb/delete_series,
// /clean_tombstones and /snapshot. Off unless --web.enable-admin-api, and
// then refused exactly as Prometheus refuses it (503 "unavailable", "admin
// APIs disabled"). See docs/query-api.md.
#pragma once

#include <string>

#include "http/server.h"
#include "storage/db.h"

namespace tsvault::query {

// Adds the three routes (POST and PUT) to `server`. `db` must outlive the
// server. Snapshots go to `snapshot_directory`/<name>.
void RegisterAdminRoutes(http::Server* server, storage::DB* db, bool enabled, const std::string& snapshot_directory);

}  // namespace tsvault::query
