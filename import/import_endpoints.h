// The server's import endpoints (VictoriaMetrics' paths and parameters):
// POST /api/v1/import/csv?format=... and POST /api/v1/import/prometheus.
// See docs/import.md.
#pragma once

namespace tsvault::http {
class Server;
}
namespace tsvault::remote_write {
class Ingester;
}

namespace tsvault::import {

// Registers both endpoints on `server` (blocking routes: an import may run
// long). Samples go through `ingester`, which must outlive the server.
void RegisterImportEndpoints(http::Server* server, remote_write::Ingester* ingester);

}  // namespace tsvault::import
