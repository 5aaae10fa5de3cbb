#include "auth/web_security.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <mutex>
#include <unordered_map>

#include "auth/password_hash.h"

namespace tsvault::auth {

namespace {

// Checked credentials remembered per policy; emptied when full.
constexpr size_t kMaxCachedCredentials = 10'000;

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    const char y = (b[i] >= 'A' && b[i] <= 'Z') ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// Standard base64 (with padding) to bytes; false when malformed.
bool DecodeBase64(std::string_view text, std::string* out) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return false;
  std::string decoded(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (length < 0) return false;
  size_t padding = 0;
  if (text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  decoded.resize(static_cast<size_t>(length) - padding);
  *out = std::move(decoded);
  return true;
}

std::string Sha256(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 64)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  if (text.size() > 64) out += "...";
  return out + "\"";
}

}  // namespace

uint8_t RequiredRole(std::string_view path) {
  if (path == "/-/healthy" || path == "/-/ready") return 0;
  if (path == "/api/v1/write" || StartsWith(path, "/api/v1/import/")) return kRoleWrite;
  if (StartsWith(path, "/api/v1/admin/")) return kRoleAdmin;
  return kRoleRead;
}

// One loaded web config and the credentials checked against it.
struct WebSecurity::Policy {
  WebConfig config;
  // Compared against when the user is unknown, so an unknown user costs
  // what a wrong password costs.
  std::string decoy_hash;

  // SHA-256 of the credential -> the user or token name ("" when wrong).
  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::string> checked;  // Guarded by cache_mutex.

  // The name the credential belongs to, or "" when it is wrong.
  // REQUIRES: cache_mutex not held.
  std::string Identify(bool bearer, std::string_view user, std::string_view secret) const {
    std::string key;
    key.reserve(user.size() + secret.size() + 3);
    key.append(bearer ? "t" : "b").push_back('\0');
    key.append(user).push_back('\0');
    key.append(secret);
    const std::string digest = Sha256(key);
    {
      std::lock_guard<std::mutex> lock(cache_mutex);
      auto found = checked.find(digest);
      if (found != checked.end()) return found->second;
    }
    std::string identity;
    if (bearer) {
      // Every token is tried, so the time does not tell which came close.
      for (const auto& [name, hash] : config.bearer_tokens) {
        if (PasswordMatches(secret, hash) && identity.empty()) identity = name;
      }
    } else {
      auto found = config.basic_auth_users.find(std::string(user));
      const std::string& hash = found != config.basic_auth_users.end() ? found->second : decoy_hash;
      if (PasswordMatches(secret, hash) && found != config.basic_auth_users.end()) identity = found->first;
    }
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (checked.size() >= kMaxCachedCredentials) checked.clear();
    checked.emplace(digest, identity);
    return identity;
  }

  uint8_t RolesOf(const std::string& identity) const {
    if (!config.roles) return kAllRoles;
    auto found = config.roles->find(identity);
    return found == config.roles->end() ? 0 : found->second;
  }
};

struct WebSecurity::State {
  mutable std::mutex mutex;
  std::shared_ptr<const Policy> policy;  // Guarded by mutex.
};

WebSecurity::WebSecurity(std::string path) : path_(std::move(path)), state_(std::make_unique<State>()) {}

WebSecurity::~WebSecurity() = default;

Status WebSecurity::Open(const std::string& path, std::unique_ptr<WebSecurity>* out) {
  std::unique_ptr<WebSecurity> security(new WebSecurity(path));
  auto policy = std::make_shared<Policy>();
  if (!path.empty()) {
    Status s = LoadWebConfigFile(path, &policy->config);
    if (!s.ok()) return s;
    int cost = 10;
    if (!policy->config.basic_auth_users.empty()) {
      const std::string& first = policy->config.basic_auth_users.begin()->second;
      cost = (first[4] - '0') * 10 + (first[5] - '0');
    }
    s = HashPassword("tsvault decoy password", cost, &policy->decoy_hash);
    if (!s.ok()) return s;
  }
  security->state_->policy = std::move(policy);
  *out = std::move(security);
  return Status::OK();
}

std::shared_ptr<const WebSecurity::Policy> WebSecurity::CurrentPolicy() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->policy;
}

void WebSecurity::ConfigureServer(http::ServerOptions* options) {
  const std::shared_ptr<const Policy> policy = CurrentPolicy();
  options->tls = policy->config.tls;
  // Without a file nothing is asked and no header added, now or after a
  // reload (which then has nothing to read): requests skip both hooks.
  if (path_.empty()) return;
  options->admit = [this](const http::Request& request, http::Response* refusal) { return Admit(request, refusal); };
  options->decorate = [this](http::Response* response) {
    const std::shared_ptr<const Policy> current = CurrentPolicy();
    for (const auto& [name, value] : current->config.headers) response->SetHeader(name, value);
  };
}

bool WebSecurity::Admit(const http::Request& request, http::Response* refusal) const {
  const std::shared_ptr<const Policy> policy = CurrentPolicy();
  const WebConfig& config = policy->config;
  const uint8_t needed = RequiredRole(request.path);
  if (needed == 0 || !config.RequiresCredentials()) return true;

  auto unauthorized = [&](const std::string& why) {
    refusal->status = 401;
    refusal->SetHeader("WWW-Authenticate", config.basic_auth_users.empty() ? "Bearer realm=\"tsvault\""
                                                                           : "Basic realm=\"tsvault\"");
    refusal->body = "401 unauthorized: " + why + "\n";
    return false;
  };
  const std::string_view header = request.Header("authorization");
  if (header.empty()) return unauthorized("credentials are required (basic auth or a bearer token)");
  const size_t space = header.find(' ');
  const std::string_view scheme = header.substr(0, space);
  std::string_view credential = space == std::string_view::npos ? std::string_view() : header.substr(space + 1);
  while (!credential.empty() && credential.front() == ' ') credential.remove_prefix(1);

  std::string identity;
  std::string described;
  if (EqualsIgnoringCase(scheme, "basic") && !config.basic_auth_users.empty()) {
    std::string decoded;
    if (!DecodeBase64(credential, &decoded) || decoded.find(':') == std::string::npos) {
      return unauthorized("malformed basic credentials");
    }
    const size_t colon = decoded.find(':');
    const std::string_view user = std::string_view(decoded).substr(0, colon);
    identity = policy->Identify(false, user, std::string_view(decoded).substr(colon + 1));
    if (identity.empty()) return unauthorized("wrong user name or password");
    described = "user " + Quoted(identity);
  } else if (EqualsIgnoringCase(scheme, "bearer") && !config.bearer_tokens.empty()) {
    if (credential.empty()) return unauthorized("empty bearer token");
    identity = policy->Identify(true, "", credential);
    if (identity.empty()) return unauthorized("unknown bearer token");
    described = "token " + Quoted(identity);
  } else {
    return unauthorized("the " + Quoted(scheme) + " scheme is not accepted here (" +
                        std::string(config.basic_auth_users.empty() ? "" : "Basic") +
                        (config.basic_auth_users.empty() || config.bearer_tokens.empty() ? "" : " or ") +
                        (config.bearer_tokens.empty() ? "" : "Bearer") + ")");
  }
  const uint8_t roles = policy->RolesOf(identity);
  if ((roles & needed) == needed) return true;
  refusal->status = 403;
  refusal->body = "403 forbidden: " + described + " (roles: " + RoleNames(roles) + ") may not " + request.method +
                  " " + request.path + ", which needs the " + RoleNames(needed) + " role\n";
  return false;
}

Status WebSecurity::Reload(http::Server* server) {
  if (path_.empty()) return Status::OK();
  std::unique_ptr<WebSecurity> fresh;
  Status s = Open(path_, &fresh);
  if (!s.ok()) return s;
  std::shared_ptr<const Policy> policy = fresh->CurrentPolicy();
  const bool had_tls = tls();
  if (policy->config.tls.has_value() != had_tls) {
    return Status::InvalidArgument(path_ + ": tls_server_config was " + (had_tls ? "removed" : "added") +
                                   "; turning TLS on or off needs a restart (nothing was changed)");
  }
  if (server != nullptr && policy->config.tls) {
    s = server->ReloadTls(*policy->config.tls);
    if (!s.ok()) return Status::InvalidArgument(path_ + ": " + s.message());
  }
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->policy = std::move(policy);
  return Status::OK();
}

bool WebSecurity::tls() const { return CurrentPolicy()->config.tls.has_value(); }

std::string WebSecurity::Describe() const {
  const std::shared_ptr<const Policy> policy = CurrentPolicy();
  const WebConfig& config = policy->config;
  if (path_.empty()) return "no web config: plain HTTP, no credentials";
  std::string out = config.tls ? "TLS" : "plain HTTP";
  out += ", " + std::to_string(config.basic_auth_users.size()) + " users, " +
         std::to_string(config.bearer_tokens.size()) + " bearer tokens";
  out += config.roles ? ", roles per user" : ", every user has every role";
  if (!config.RequiresCredentials()) out += " (no credentials asked)";
  return out;
}

}  // namespace tsvault::auth
