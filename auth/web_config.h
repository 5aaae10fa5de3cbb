// The web config file (`tsvault serve --web.config.file`): Prometheus'
// exporter-toolkit format (tls_server_config, http_server_config,
// basic_auth_users) plus tsvault's bearer_tokens and roles. docs/security.md
// describes every field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/server.h"

namespace tsvault::auth {

// What a user or token may do; a set of these bits.
enum Role : uint8_t {
  kRoleRead = 1,   // queries, series, labels, exports, remote read, status, /metrics
  kRoleWrite = 2,  // remote write and imports
  kRoleAdmin = 4,  // /api/v1/admin/* (delete series, snapshots)
};
inline constexpr uint8_t kAllRoles = kRoleRead | kRoleWrite | kRoleAdmin;

// "read,write" for a set of role bits ("none" for 0).
std::string RoleNames(uint8_t roles);

struct WebConfig {
  // tls_server_config; absent: plain HTTP.
  std::optional<http::TlsServerOptions> tls;
  // http_server_config.headers: added to every response.
  std::vector<std::pair<std::string, std::string>> headers;
  // basic_auth_users: user name -> bcrypt hash of the password.
  std::map<std::string, std::string> basic_auth_users;
  // bearer_tokens (tsvault): a name -> bcrypt hash of the token a client
  // sends as "Authorization: Bearer <token>" (Prometheus' `authorization:
  // credentials`).
  std::map<std::string, std::string> bearer_tokens;
  // roles (tsvault): user or token name -> role bits. Absent: every user
  // and token has every role (exporter-toolkit's meaning); present: names
  // it does not list have none.
  std::optional<std::map<std::string, uint8_t>> roles;

  // True when requests must carry credentials (a user or token exists).
  bool RequiresCredentials() const { return !basic_auth_users.empty() || !bearer_tokens.empty(); }
};

// Parses the YAML text of a web config. Relative file names (cert_file,
// key_file, client_ca_file) are taken from `base_dir`. InvalidArgument
// naming the line, column and field for what is wrong: unknown fields,
// values of the wrong kind, malformed hashes, unknown role names, roles for
// names that are neither users nor tokens, a user and a token with one name.
// Certificates are not loaded here (http::CheckTlsServerOptions does).
Status ParseWebConfig(const std::string& yaml_text, const std::string& base_dir, WebConfig* out);

// Reads and parses `path` (ParseWebConfig with its directory as base), and
// checks that the TLS files load. Errors start with the file name.
Status LoadWebConfigFile(const std::string& path, WebConfig* out);

}  // namespace tsvault::auth
