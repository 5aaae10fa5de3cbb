// Forwarding targets, configured with Prometheus' own `remote_write:` YAML
// (docs/design/forwarding.md, "Configuration"), so an operator can copy the
// block from their prometheus.yml as it is.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "remote_write/forward/relabel.h"
#include "http/client.h"
#include "remote_write/protocol.h"

namespace tsvault::forward {

struct BasicAuth {
  std::string username;
  std::string password;       // or:
  std::string password_file;  // read when the target starts
};

// The Authorization header: `type credentials`.
struct Authorization {
  std::string type = "Bearer";
  std::string credentials;       // or:
  std::string credentials_file;  // read when the target starts
};

struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;  // SNI and verification name; default: the URL's host
  bool insecure_skip_verify = false;
};

// How to reach one server, as Prometheus' HTTP client config holds it
// (the part of a remote_write entry, and promtool's --http.config.file):
// credentials and TLS.
struct HttpClientConfig {
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  TlsConfig tls;
};

// queue_config, with Prometheus 2.42's defaults.
struct QueueConfig {
  int64_t capacity = 2500;  // samples held in memory per shard
  int64_t max_shards = 200;
  int64_t min_shards = 1;
  int64_t max_samples_per_send = 500;
  int64_t batch_send_deadline_ms = 5'000;
  int64_t min_backoff_ms = 30;
  int64_t max_backoff_ms = 5'000;
  bool retry_on_http_429 = false;
};

// metadata_config.
struct MetadataConfig {
  bool send = true;
  int64_t send_interval_ms = 60'000;
};

// One remote_write entry.
struct TargetConfig {
  std::string url;
  std::string name;  // the configured name, or one derived from the URL
  int64_t remote_timeout_ms = 30'000;
  std::map<std::string, std::string> headers;
  HttpClientConfig client;  // basic_auth, authorization, tls_config
  std::string proxy_url;
  std::vector<RelabelConfig> write_relabel_configs;
  QueueConfig queue;
  MetadataConfig metadata;
  remote_write::Protocol protocol = remote_write::Protocol::kV1;
};

// Parses `yaml` (a document whose `remote_write:` key lists the targets;
// other top-level keys of a prometheus.yml are ignored). `source` names the
// file in errors. InvalidArgument naming source:line:column and the field
// for unknown fields, wrong types and invalid values (a URL without
// http/https scheme or host, a bad duration, reserved headers, both
// basic_auth and authorization, a relabel rule Relabeler refuses, two
// targets with one name).
Status ParseForwardConfig(std::string_view yaml, const std::string& source, std::vector<TargetConfig>* targets);

// Reads and parses a file; IOError when it cannot be read.
Status LoadForwardConfigFile(const std::string& path, std::vector<TargetConfig>* targets);

// A target with the defaults for `url` (the --forward.url flag); the URL is
// checked as in ParseForwardConfig.
Status TargetFromUrl(const std::string& url, TargetConfig* target);

// Reads an HTTP client config file (the format of promtool's
// --http.config.file: basic_auth, authorization, tls_config; follow_redirects
// and enable_http2 are accepted and ignored). InvalidArgument naming
// path:line:column and the field, as ParseForwardConfig; IOError when the
// file cannot be read.
Status LoadHttpClientConfigFile(const std::string& path, HttpClientConfig* out);

// The Authorization header value `config` asks for (reading password_file
// or credentials_file now), or empty when it has no credentials. IOError
// naming the file that cannot be read.
Status AuthorizationHeader(const HttpClientConfig& config, std::string* value);

// The http::Client TLS settings of a tls_config.
http::TlsOptions ClientTlsOptions(const TlsConfig& config);

// The name Prometheus-style tooling shows for an unnamed target: the first
// six hex digits of the MD5 of its URL.
std::string DefaultTargetName(const std::string& url);

// The targets as in effect, defaults filled in, as a YAML document with a
// Prometheus remote_write: block (/api/v1/status/config). Passwords and
// credentials show as "<secret>", as Prometheus shows them.
std::string EffectiveConfigYaml(const std::vector<TargetConfig>& targets);

}  // namespace tsvault::forward
