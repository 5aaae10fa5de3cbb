#include "remote_write/forward/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include <openssl/evp.h>

#include "common/time_parse.h"

namespace tsvault::forward {

namespace {

// Errors carry the file, line and column (1-based) of the offending node.
class ConfigError {
 public:
  ConfigError(const std::string& source, const YAML::Node& node, std::string message)
      : status_(Status::InvalidArgument(source + ":" + std::to_string(node.Mark().line + 1) + ":" +
                                        std::to_string(node.Mark().column + 1) + ": " + message)) {}
  Status status() const { return status_; }

 private:
  Status status_;
};

// Refuses keys outside `allowed`, as Prometheus' strict YAML decoding does.
void CheckKeys(const std::string& source, const YAML::Node& node, const char* type,
               std::initializer_list<const char*> allowed) {
  if (!node.IsMap()) throw ConfigError(source, node, std::string(type) + " must be a mapping");
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
      throw ConfigError(source, entry.first, "field " + key + " not found in type " + type);
    }
  }
}

std::string String(const std::string& source, const YAML::Node& node, const char* field) {
  if (!node.IsScalar()) throw ConfigError(source, node, std::string(field) + " must be a string");
  return node.as<std::string>();
}

bool Bool(const std::string& source, const YAML::Node& node, const char* field) {
  bool value;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    throw ConfigError(source, node, std::string(field) + " must be true or false");
  }
  return value;
}

int64_t Integer(const std::string& source, const YAML::Node& node, const char* field, int64_t min) {
  int64_t value;
  if (!node.IsScalar() || !YAML::convert<int64_t>::decode(node, value)) {
    throw ConfigError(source, node, std::string(field) + " must be an integer");
  }
  if (value < min) throw ConfigError(source, node, std::string(field) + " must be at least " + std::to_string(min));
  return value;
}

int64_t Duration(const std::string& source, const YAML::Node& node, const char* field) {
  const std::string text = String(source, node, field);
  int64_t ms;
  Status s = ParsePromDuration(text, &ms);
  if (!s.ok() || ms < 0) throw ConfigError(source, node, std::string(field) + ": not a valid duration \"" + text + "\"");
  return ms;
}

void CheckUrl(const std::string& source, const YAML::Node& node, const std::string& url, const char* field) {
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    throw ConfigError(source, node, std::string(field) + " \"" + url + "\": scheme must be http or https");
  }
  const size_t host_start = scheme_end + 3;
  const size_t host_end = url.find_first_of("/?#", host_start);
  if (url.substr(host_start, host_end == std::string::npos ? std::string::npos : host_end - host_start).empty()) {
    throw ConfigError(source, node, std::string(field) + " \"" + url + "\": no host");
  }
}

// Headers Prometheus does not let a remote_write block set.
bool IsReservedHeader(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::set<std::string> kReserved = {
      "authorization", "host", "content-encoding", "content-type", "x-prometheus-remote-write-version",
      "user-agent", "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate"};
  return kReserved.count(name) > 0;
}

RelabelConfig ParseRelabel(const std::string& source, const YAML::Node& node) {
  CheckKeys(source, node, "relabel.Config",
            {"source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action"});
  RelabelConfig rule;
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "source_labels") {
      if (!value.IsSequence()) throw ConfigError(source, value, "source_labels must be a list");
      for (const auto& label : value) rule.source_labels.push_back(String(source, label, "source_labels"));
      rule.has_source_labels = true;
    } else if (key == "separator") {
      rule.separator = String(source, value, "separator");
      rule.has_separator = true;
    } else if (key == "regex") {
      rule.regex = String(source, value, "regex");
    } else if (key == "modulus") {
      rule.modulus = static_cast<uint64_t>(Integer(source, value, "modulus", 0));
      rule.has_modulus = true;
    } else if (key == "target_label") {
      rule.target_label = String(source, value, "target_label");
      rule.has_target_label = true;
    } else if (key == "replacement") {
      rule.replacement = String(source, value, "replacement");
      rule.has_replacement = true;
    } else if (key == "action") {
      const std::string action = String(source, value, "action");
      if (!ParseRelabelAction(action, &rule.action)) throw ConfigError(source, value, "unknown relabel action \"" + action + "\"");
    }
  }
  return rule;
}

// Parses `key` when it is one of the HTTP client fields (basic_auth,
// authorization, tls_config) into *client; false for any other key.
bool ParseClientField(const std::string& source, const std::string& key, const YAML::Node& value,
                      HttpClientConfig* client) {
  if (key == "basic_auth") {
    CheckKeys(source, value, "config.BasicAuth", {"username", "password", "password_file"});
    BasicAuth auth;
    if (value["username"]) auth.username = String(source, value["username"], "username");
    if (value["password"]) auth.password = String(source, value["password"], "password");
    if (value["password_file"]) auth.password_file = String(source, value["password_file"], "password_file");
    if (!auth.password.empty() && !auth.password_file.empty()) {
      throw ConfigError(source, value, "at most one of basic_auth password & password_file must be configured");
    }
    client->basic_auth = auth;
  } else if (key == "authorization") {
    CheckKeys(source, value, "config.Authorization", {"type", "credentials", "credentials_file"});
    Authorization auth;
    if (value["type"]) auth.type = String(source, value["type"], "type");
    if (value["credentials"]) auth.credentials = String(source, value["credentials"], "credentials");
    if (value["credentials_file"]) auth.credentials_file = String(source, value["credentials_file"], "credentials_file");
    std::string lower = auth.type;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "basic") throw ConfigError(source, value, "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
    if (!auth.credentials.empty() && !auth.credentials_file.empty()) {
      throw ConfigError(source, value, "at most one of authorization credentials & credentials_file must be configured");
    }
    client->authorization = auth;
  } else if (key == "tls_config") {
    CheckKeys(source, value, "config.TLSConfig",
              {"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify", "min_version"});
    if (value["ca_file"]) client->tls.ca_file = String(source, value["ca_file"], "ca_file");
    if (value["cert_file"]) client->tls.cert_file = String(source, value["cert_file"], "cert_file");
    if (value["key_file"]) client->tls.key_file = String(source, value["key_file"], "key_file");
    if (value["server_name"]) client->tls.server_name = String(source, value["server_name"], "server_name");
    if (value["insecure_skip_verify"]) {
      client->tls.insecure_skip_verify = Bool(source, value["insecure_skip_verify"], "insecure_skip_verify");
    }
    if (client->tls.cert_file.empty() != client->tls.key_file.empty()) {
      throw ConfigError(source, value, "tls_config: cert_file and key_file must be configured together");
    }
  } else {
    return false;
  }
  return true;
}

// Refuses what Prometheus refuses across the client fields.
void CheckClientConfig(const std::string& source, const YAML::Node& node, const HttpClientConfig& client) {
  if (client.basic_auth && client.authorization) {
    throw ConfigError(source, node, "at most one of basic_auth & authorization must be configured");
  }
}

TargetConfig ParseTarget(const std::string& source, const YAML::Node& node) {
  CheckKeys(source, node, "config.RemoteWriteConfig",
            {"url", "name", "remote_timeout", "headers", "basic_auth", "authorization", "tls_config", "proxy_url",
             "write_relabel_configs", "queue_config", "metadata_config", "protobuf_message", "follow_redirects",
             "enable_http2"});
  TargetConfig target;
  if (!node["url"]) throw ConfigError(source, node, "url for remote_write is empty");
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "url") {
      target.url = String(source, value, "url");
      CheckUrl(source, value, target.url, "url");
    } else if (key == "name") {
      target.name = String(source, value, "name");
    } else if (key == "remote_timeout") {
      target.remote_timeout_ms = Duration(source, value, "remote_timeout");
    } else if (key == "headers") {
      if (!value.IsMap()) throw ConfigError(source, value, "headers must be a mapping");
      for (const auto& header : value) {
        const std::string name = header.first.as<std::string>();
        if (IsReservedHeader(name)) throw ConfigError(source, header.first, name + " is a reserved header. It must not be changed");
        target.headers[name] = String(source, header.second, "headers");
      }
    } else if (ParseClientField(source, key, value, &target.client)) {
      // basic_auth, authorization, tls_config
    } else if (key == "proxy_url") {
      target.proxy_url = String(source, value, "proxy_url");
      CheckUrl(source, value, target.proxy_url, "proxy_url");
      // Refused rather than ignored: sending around a proxy the operator
      // configured could reach a network they meant to keep it off.
      throw ConfigError(source, value, "proxy_url is not supported; remove it to send to the url directly");
    } else if (key == "write_relabel_configs") {
      if (!value.IsSequence()) throw ConfigError(source, value, "write_relabel_configs must be a list");
      for (const auto& rule : value) target.write_relabel_configs.push_back(ParseRelabel(source, rule));
      std::unique_ptr<Relabeler> relabeler;
      Status s = Relabeler::Create(target.write_relabel_configs, &relabeler);
      if (!s.ok()) throw ConfigError(source, value, s.message());
    } else if (key == "queue_config") {
      CheckKeys(source, value, "config.QueueConfig",
                {"capacity", "max_shards", "min_shards", "max_samples_per_send", "batch_send_deadline",
                 "min_backoff", "max_backoff", "retry_on_http_429", "max_retries"});
      QueueConfig& q = target.queue;
      if (value["capacity"]) q.capacity = Integer(source, value["capacity"], "capacity", 1);
      if (value["max_shards"]) q.max_shards = Integer(source, value["max_shards"], "max_shards", 1);
      if (value["min_shards"]) q.min_shards = Integer(source, value["min_shards"], "min_shards", 1);
      if (value["max_samples_per_send"]) {
        q.max_samples_per_send = Integer(source, value["max_samples_per_send"], "max_samples_per_send", 1);
      }
      if (value["batch_send_deadline"]) {
        q.batch_send_deadline_ms = Duration(source, value["batch_send_deadline"], "batch_send_deadline");
      }
      if (value["min_backoff"]) q.min_backoff_ms = Duration(source, value["min_backoff"], "min_backoff");
      if (value["max_backoff"]) q.max_backoff_ms = Duration(source, value["max_backoff"], "max_backoff");
      if (value["retry_on_http_429"]) q.retry_on_http_429 = Bool(source, value["retry_on_http_429"], "retry_on_http_429");
      if (q.min_shards > q.max_shards) throw ConfigError(source, value, "min_shards must not exceed max_shards");
      if (q.min_backoff_ms > q.max_backoff_ms) throw ConfigError(source, value, "min_backoff must not exceed max_backoff");
    } else if (key == "metadata_config") {
      CheckKeys(source, value, "config.MetadataConfig", {"send", "send_interval", "max_samples_per_send"});
      if (value["send"]) target.metadata.send = Bool(source, value["send"], "send");
      if (value["send_interval"]) {
        target.metadata.send_interval_ms = Duration(source, value["send_interval"], "send_interval");
      }
    } else if (key == "protobuf_message") {
      const std::string message = String(source, value, "protobuf_message");
      if (message == "prometheus.WriteRequest") {
        target.protocol = remote_write::Protocol::kV1;
      } else if (message == "io.prometheus.write.v2.Request") {
        target.protocol = remote_write::Protocol::kV2;
      } else {
        throw ConfigError(source, value,
                          "unknown protobuf_message \"" + message +
                              "\" (use prometheus.WriteRequest or io.prometheus.write.v2.Request)");
      }
    }
    // follow_redirects, enable_http2: accepted for compatibility; tsvault
    // speaks HTTP/1.1 and does not follow redirects.
  }
  CheckClientConfig(source, node, target.client);
  if (target.name.empty()) target.name = DefaultTargetName(target.url);
  return target;
}

}  // namespace

std::string DefaultTargetName(const std::string& url) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(url.data(), url.size(), digest, &length, EVP_md5(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string name;
  for (int i = 0; i < 3; ++i) {
    name.push_back(kHex[digest[i] >> 4]);
    name.push_back(kHex[digest[i] & 0xf]);
  }
  return name;
}

Status ParseForwardConfig(std::string_view yaml, const std::string& source, std::vector<TargetConfig>* targets) {
  targets->clear();
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap()) return Status::InvalidArgument(source + ": expected a mapping with a remote_write: list");
    const YAML::Node list = root["remote_write"];
    if (!list) return Status::InvalidArgument(source + ": no remote_write: list");
    if (!list.IsSequence()) throw ConfigError(source, list, "remote_write must be a list");
    std::set<std::string> names;
    for (const auto& node : list) {
      TargetConfig target = ParseTarget(source, node);
      if (!names.insert(target.name).second) {
        throw ConfigError(source, node, "found multiple remote write configs with job name \"" + target.name + "\"");
      }
      targets->push_back(std::move(target));
    }
  } catch (const ConfigError& error) {
    targets->clear();
    return error.status();
  } catch (const YAML::Exception& error) {
    targets->clear();
    return Status::InvalidArgument(source + ":" + std::to_string(error.mark.line + 1) + ":" +
                                   std::to_string(error.mark.column + 1) + ": " + error.msg);
  }
  return Status::OK();
}

Status LoadForwardConfigFile(const std::string& path, std::vector<TargetConfig>* targets) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read forward config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseForwardConfig(text.str(), path, targets);
}

Status LoadHttpClientConfigFile(const std::string& path, HttpClientConfig* out) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read HTTP client config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  *out = HttpClientConfig();
  try {
    const YAML::Node root = YAML::Load(text.str());
    if (root.IsNull()) return Status::OK();
    if (!root.IsMap()) return Status::InvalidArgument(path + ": expected a mapping (basic_auth, authorization, tls_config)");
    CheckKeys(path, root, "config.HTTPClientConfig",
              {"basic_auth", "authorization", "tls_config", "follow_redirects", "enable_http2"});
    for (const auto& entry : root) ParseClientField(path, entry.first.as<std::string>(), entry.second, out);
    CheckClientConfig(path, root, *out);
  } catch (const ConfigError& error) {
    *out = HttpClientConfig();
    return error.status();
  } catch (const YAML::Exception& error) {
    *out = HttpClientConfig();
    return Status::InvalidArgument(path + ":" + std::to_string(error.mark.line + 1) + ":" +
                                   std::to_string(error.mark.column + 1) + ": " + error.msg);
  }
  return Status::OK();
}

Status TargetFromUrl(const std::string& url, TargetConfig* target) {
  std::vector<TargetConfig> targets;
  YAML::Emitter yaml;
  yaml << YAML::BeginMap << YAML::Key << "remote_write" << YAML::Value << YAML::BeginSeq << YAML::BeginMap
       << YAML::Key << "url" << YAML::Value << url << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  Status s = ParseForwardConfig(yaml.c_str(), "--forward.url", &targets);
  if (!s.ok()) return s;
  *target = targets[0];
  return Status::OK();
}

}  // namespace tsvault::forward
