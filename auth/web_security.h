// Who may reach the server and what each may do, from the web config file
// (`tsvault serve --web.config.file`, auth/web_config.h): TLS for the
// listener, basic-auth users and bearer tokens checked for every request,
// roles per endpoint, extra response headers. Reloadable (SIGHUP).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/web_config.h"
#include "common/status.h"
#include "http/http.h"
#include "http/server.h"

namespace tsvault::auth {

// The role a request to `path` needs: 0 for the health probes (/-/healthy,
// /-/ready, always open), kRoleWrite for remote write and imports,
// kRoleAdmin for /api/v1/admin/*, kRoleRead for everything else.
uint8_t RequiredRole(std::string_view path);

class WebSecurity {
 public:
  // Loads `path` (LoadWebConfigFile); an empty path means no file: plain
  // HTTP and no credentials asked.
  static Status Open(const std::string& path, std::unique_ptr<WebSecurity>* out);
  ~WebSecurity();
  WebSecurity(const WebSecurity&) = delete;
  WebSecurity& operator=(const WebSecurity&) = delete;

  // Sets options->tls (from the file), options->admit (credentials and
  // roles) and options->decorate (headers); without a file, neither hook.
  // The hooks use this object, which must outlive the server.
  void ConfigureServer(http::ServerOptions* options);

  // Decides one request (what options->admit does): true to serve it;
  // false with *refusal a 401 (no or wrong credentials, with
  // WWW-Authenticate) or 403 (the user or token lacks the role). Checked
  // credentials are remembered, so a bcrypt runs once per distinct
  // credential, not once per request. Thread-safe.
  bool Admit(const http::Request& request, http::Response* refusal) const;

  // Reads the file again. On success, new requests see the new users,
  // tokens, roles and headers, and (when `server` serves TLS) new
  // connections the new certificate settings; on error nothing changes and
  // the error says why. Turning TLS on or off needs a restart. Thread-safe.
  Status Reload(http::Server* server);

  // True when the file asks for TLS.
  bool tls() const;
  // A one-line description for the start-up log, e.g. "TLS, 2 users, 1
  // token, roles".
  std::string Describe() const;

 private:
  struct Policy;
  explicit WebSecurity(std::string path);
  std::shared_ptr<const Policy> CurrentPolicy() const;

  const std::string path_;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tsvault::auth
