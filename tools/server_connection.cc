#include "tools/server_connection.h"

#include "remote_write/forward/config.h"

namespace tsvault::tools {

Status ConnectToServer(const std::string& url, const std::string& http_config_file, ServerConnection* out) {
  forward::HttpClientConfig config;
  if (!http_config_file.empty()) {
    Status s = forward::LoadHttpClientConfigFile(http_config_file, &config);
    if (!s.ok()) return Status::InvalidArgument("--http.config.file: " + s.message());
  }
  std::string authorization;
  Status s = forward::AuthorizationHeader(config, &authorization);
  if (!s.ok()) return Status::InvalidArgument("--http.config.file " + http_config_file + ": " + s.message());
  out->headers.clear();
  if (!authorization.empty()) out->headers.emplace_back("Authorization", authorization);
  s = http::Client::Create(url, forward::ClientTlsOptions(config.tls), &out->client);
  if (!s.ok()) return Status::InvalidArgument("--url: " + s.message());
  return Status::OK();
}

}  // namespace tsvault::tools
