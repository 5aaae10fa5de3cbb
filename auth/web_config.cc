#include "auth/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "auth/password_hash.h"

namespace tsvault::auth {

namespace {

// Errors name where in the file they are (1-based, as editors count).
Status ErrorAt(const YAML::Node& node, const std::string& message) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return Status::InvalidArgument(message);
  return Status::InvalidArgument("line " + std::to_string(mark.line + 1) + " column " +
                                 std::to_string(mark.column + 1) + ": " + message);
}

Status ExpectMap(const YAML::Node& node, const std::string& what) {
  if (node.IsNull() || node.IsMap()) return Status::OK();
  return ErrorAt(node, what + " must be a mapping");
}

Status ReadString(const YAML::Node& node, const std::string& what, std::string* out) {
  if (node.IsNull()) {
    out->clear();
    return Status::OK();
  }
  if (!node.IsScalar()) return ErrorAt(node, what + " must be a string");
  *out = node.Scalar();
  return Status::OK();
}

Status ReadBool(const YAML::Node& node, const std::string& what, bool* out) {
  if (!node.IsScalar()) return ErrorAt(node, what + " must be true or false");
  const std::string& text = node.Scalar();
  if (text == "true") {
    *out = true;
  } else if (text == "false") {
    *out = false;
  } else {
    return ErrorAt(node, what + " must be true or false, not \"" + text + "\"");
  }
  return Status::OK();
}

std::string Resolve(const std::string& base_dir, const std::string& file) {
  if (file.empty() || file[0] == '/' || base_dir.empty()) return file;
  return base_dir + "/" + file;
}

Status ParseTlsVersion(const YAML::Node& node, const std::string& what, http::TlsVersion* out) {
  std::string text;
  Status s = ReadString(node, what, &text);
  if (!s.ok()) return s;
  static const std::pair<const char*, http::TlsVersion> kVersions[] = {{"TLS10", http::TlsVersion::kTls10},
                                                                       {"TLS11", http::TlsVersion::kTls11},
                                                                       {"TLS12", http::TlsVersion::kTls12},
                                                                       {"TLS13", http::TlsVersion::kTls13}};
  for (const auto& [name, version] : kVersions) {
    if (text == name) {
      *out = version;
      return Status::OK();
    }
  }
  return ErrorAt(node, what + ": unknown TLS version \"" + text + "\" (TLS10, TLS11, TLS12 or TLS13)");
}

Status ParseClientAuth(const YAML::Node& node, http::ClientAuth* out) {
  std::string text;
  Status s = ReadString(node, "client_auth_type", &text);
  if (!s.ok()) return s;
  static const std::pair<const char*, http::ClientAuth> kTypes[] = {
      {"", http::ClientAuth::kNone},
      {"NoClientCert", http::ClientAuth::kNone},
      {"RequestClientCert", http::ClientAuth::kRequest},
      {"RequireAnyClientCert", http::ClientAuth::kRequireAny},
      {"VerifyClientCertIfGiven", http::ClientAuth::kVerifyIfGiven},
      {"RequireAndVerifyClientCert", http::ClientAuth::kRequireAndVerify}};
  for (const auto& [name, type] : kTypes) {
    if (text == name) {
      *out = type;
      return Status::OK();
    }
  }
  return ErrorAt(node, "client_auth_type: unknown value \"" + text +
                           "\" (NoClientCert, RequestClientCert, RequireAnyClientCert, "
                           "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
}

Status ParseTls(const YAML::Node& node, const std::string& base_dir, http::TlsServerOptions* tls) {
  Status s = ExpectMap(node, "tls_server_config");
  if (!s.ok() || node.IsNull()) return s;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const YAML::Node& value = entry.second;
    if (key == "cert_file" || key == "key_file" || key == "client_ca_file") {
      std::string file;
      s = ReadString(value, key, &file);
      if (!s.ok()) return s;
      file = Resolve(base_dir, file);
      (key == "cert_file" ? tls->cert_file : key == "key_file" ? tls->key_file : tls->client_ca_file) = file;
    } else if (key == "client_auth_type") {
      s = ParseClientAuth(value, &tls->client_auth);
    } else if (key == "min_version") {
      s = ParseTlsVersion(value, key, &tls->min_version);
    } else if (key == "max_version") {
      s = ParseTlsVersion(value, key, &tls->max_version);
    } else if (key == "cipher_suites") {
      if (!value.IsNull() && !value.IsSequence()) return ErrorAt(value, "cipher_suites must be a list");
      for (const auto& suite : value) {
        std::string name;
        s = ReadString(suite, "cipher_suites entry", &name);
        if (!s.ok()) return s;
        tls->cipher_suites.push_back(name);
      }
    } else if (key == "prefer_server_cipher_suites") {
      bool ignored;  // the server's order always wins here
      s = ReadBool(value, key, &ignored);
    } else {
      return ErrorAt(entry.first, "unknown field \"" + key + "\" in tls_server_config (tsvault reads cert_file, "
                                  "key_file, client_auth_type, client_ca_file, min_version, max_version, "
                                  "cipher_suites, prefer_server_cipher_suites)");
    }
    if (!s.ok()) return s;
  }
  if (tls->cert_file.empty() || tls->key_file.empty()) {
    return ErrorAt(node, "tls_server_config needs both cert_file and key_file");
  }
  return Status::OK();
}

// The response headers exporter-toolkit allows; others are refused, as there.
const char* const kAllowedHeaders[] = {"Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
                                       "X-XSS-Protection", "Content-Security-Policy"};

Status ParseHttpServerConfig(const YAML::Node& node, WebConfig* out) {
  Status s = ExpectMap(node, "http_server_config");
  if (!s.ok() || node.IsNull()) return s;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (key == "http2") {
      bool ignored;  // HTTP/1.1 only
      s = ReadBool(entry.second, key, &ignored);
      if (!s.ok()) return s;
    } else if (key == "headers") {
      s = ExpectMap(entry.second, "http_server_config.headers");
      if (!s.ok()) return s;
      for (const auto& header : entry.second) {
        const std::string name = header.first.Scalar();
        const auto allowed = std::find_if(std::begin(kAllowedHeaders), std::end(kAllowedHeaders),
                                          [&](const char* known) { return name == known; });
        if (allowed == std::end(kAllowedHeaders)) {
          return ErrorAt(header.first, "header \"" + name + "\" may not be set (Strict-Transport-Security, "
                                       "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
                                       "Content-Security-Policy)");
        }
        std::string value;
        s = ReadString(header.second, "header " + name, &value);
        if (!s.ok()) return s;
        if (value.find_first_of("\r\n") != std::string::npos) {
          return ErrorAt(header.second, "header " + name + " holds a line break");
        }
        out->headers.emplace_back(name, value);
      }
    } else {
      return ErrorAt(entry.first, "unknown field \"" + key + "\" in http_server_config (headers, http2)");
    }
  }
  return Status::OK();
}

// basic_auth_users or bearer_tokens: name -> bcrypt hash.
Status ParseHashes(const YAML::Node& node, const std::string& what, std::map<std::string, std::string>* out) {
  Status s = ExpectMap(node, what);
  if (!s.ok()) return s;
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    if (name.empty()) return ErrorAt(entry.first, what + ": an empty name");
    if (name.find(':') != std::string::npos && what == "basic_auth_users") {
      return ErrorAt(entry.first, what + ": user name \"" + name + "\" holds a colon, which basic auth cannot send");
    }
    std::string hash;
    s = ReadString(entry.second, what + "." + name, &hash);
    if (!s.ok()) return s;
    s = CheckPasswordHash(hash);
    if (!s.ok()) return ErrorAt(entry.second, what + "." + name + ": " + s.message());
    (*out)[name] = hash;
  }
  return Status::OK();
}

Status ParseRoles(const YAML::Node& node, std::map<std::string, uint8_t>* out) {
  Status s = ExpectMap(node, "roles");
  if (!s.ok()) return s;
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    const YAML::Node& list = entry.second;
    if (!list.IsNull() && !list.IsSequence()) {
      return ErrorAt(list, "roles." + name + " must be a list of read, write, admin");
    }
    uint8_t bits = 0;
    for (const auto& role : list) {
      std::string text;
      s = ReadString(role, "roles." + name, &text);
      if (!s.ok()) return s;
      if (text == "read") {
        bits |= kRoleRead;
      } else if (text == "write") {
        bits |= kRoleWrite;
      } else if (text == "admin") {
        bits |= kRoleAdmin;
      } else {
        return ErrorAt(role, "roles." + name + ": unknown role \"" + text + "\" (read, write, admin)");
      }
    }
    (*out)[name] = bits;
  }
  return Status::OK();
}

}  // namespace

std::string RoleNames(uint8_t roles) {
  std::string out;
  for (const auto& [bit, name] : {std::pair<uint8_t, const char*>{kRoleRead, "read"},
                                  {kRoleWrite, "write"},
                                  {kRoleAdmin, "admin"}}) {
    if ((roles & bit) == 0) continue;
    if (!out.empty()) out += ",";
    out += name;
  }
  return out.empty() ? "none" : out;
}

Status ParseWebConfig(const std::string& yaml_text, const std::string& base_dir, WebConfig* out) {
  *out = WebConfig();
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("line " + std::to_string(e.mark.line + 1) + " column " +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return Status::OK();  // an empty file: no TLS, no users
  if (!root.IsMap()) return ErrorAt(root, "the web config must be a mapping");
  Status s;
  std::optional<YAML::Node> roles_node;
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    if (key == "tls_server_config") {
      if (entry.second.IsNull()) continue;
      http::TlsServerOptions tls;
      s = ParseTls(entry.second, base_dir, &tls);
      if (s.ok()) out->tls = std::move(tls);
    } else if (key == "http_server_config") {
      s = ParseHttpServerConfig(entry.second, out);
    } else if (key == "basic_auth_users") {
      s = ParseHashes(entry.second, key, &out->basic_auth_users);
    } else if (key == "bearer_tokens") {
      s = ParseHashes(entry.second, key, &out->bearer_tokens);
    } else if (key == "roles") {
      std::map<std::string, uint8_t> roles;
      s = ParseRoles(entry.second, &roles);
      if (s.ok()) out->roles = std::move(roles);
      roles_node = entry.second;
    } else {
      s = ErrorAt(entry.first, "unknown field \"" + key + "\" (tls_server_config, http_server_config, "
                               "basic_auth_users, bearer_tokens, roles)");
    }
    if (!s.ok()) return s;
  }
  for (const auto& [name, hash] : out->bearer_tokens) {
    if (out->basic_auth_users.count(name) > 0) {
      return Status::InvalidArgument("\"" + name + "\" is both a user and a token name; roles could not tell them apart");
    }
  }
  if (out->roles) {
    for (const auto& entry : *roles_node) {
      const std::string name = entry.first.Scalar();
      if (out->basic_auth_users.count(name) == 0 && out->bearer_tokens.count(name) == 0) {
        return ErrorAt(entry.first, "roles: \"" + name + "\" is neither in basic_auth_users nor in bearer_tokens");
      }
    }
  }
  return Status::OK();
}

Status LoadWebConfigFile(const std::string& path, WebConfig* out) {
  std::ifstream file(path);
  if (!file) return Status::InvalidArgument(path + ": cannot read the file");
  std::stringstream text;
  text << file.rdbuf();
  const size_t slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  Status s = ParseWebConfig(text.str(), base_dir, out);
  if (s.ok() && out->tls) s = http::CheckTlsServerOptions(*out->tls);
  if (!s.ok()) return Status::InvalidArgument(path + ": " + s.message());
  return Status::OK();
}

}  // namespace tsvault::auth
