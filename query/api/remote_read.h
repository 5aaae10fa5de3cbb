// POST /api/v1/read: Prometheus' remote-read protocol, SAMPLES response
// type (snappy-compressed prometheus.ReadResponse), so a Prometheus with
// `remote_read:` pointing here queries tsvault's history
// (docs/design/remote-read-and-blocks.md). Internal to query/api.
#pragma once

#include "http/server.h"
#include "query/api/api.h"
#include "storage/db.h"

namespace tsvault::query {

// Registers the endpoint on the server's blocking pool. `db` and `options`
// must outlive the server.
void RegisterRemoteReadRoutes(http::Server* server, storage::DB* db, const ApiOptions* options);

}  // namespace tsvault::query
