// How the commands that talk to a running server (`import --url`, `export
// csv --url`) connect: the URL plus an optional --http.config.file in
// Prometheus' HTTP client format (basic_auth, authorization, tls_config),
// for servers behind --web.config.file (docs/security.md).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/client.h"

namespace tsvault::tools {

struct ServerConnection {
  std::unique_ptr<http::Client> client;
  // Headers for every request (Authorization when the file has credentials).
  std::vector<std::pair<std::string, std::string>> headers;
};

// Reads `http_config_file` (may be empty) and connects to `url` with its
// TLS settings. InvalidArgument or IOError naming the file or the URL.
Status ConnectToServer(const std::string& url, const std::string& http_config_file, ServerConnection* out);

}  // namespace tsvault::tools
