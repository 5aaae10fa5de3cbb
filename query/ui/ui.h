// The trend page (docs/trend-page.md): tsvault's own web UI, the one public
// header of query/ui. Its files are built into the binary; the page runs in
// the browser and reads everything through the Prometheus query API.
#pragma once

#include "http/server.h"

namespace tsvault::ui {

// Adds GET (and HEAD) "/" (the page), "/graph" (Prometheus' address for its
// graph page: redirected to "/", its query string kept) and "/ui/*" (the
// page's scripts and styles, uPlot among them). Answers carry an ETag and
// a matching If-None-Match gets 304, so a reload fetches nothing again.
void RegisterUiRoutes(http::Server* server);

}  // namespace tsvault::ui
