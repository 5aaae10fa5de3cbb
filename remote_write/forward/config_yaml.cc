// EffectiveConfigYaml: the forwarding configuration as in effect, written
// back in Prometheus' remote_write: format for /api/v1/status/config.
#include <yaml-cpp/yaml.h>

#include "common/time_parse.h"
#include "remote_write/forward/config.h"

namespace tsvault::forward {

namespace {

constexpr const char* kSecret = "<secret>";  // as Prometheus shows secrets

void EmitClient(const HttpClientConfig& client, YAML::Emitter* out) {
  if (client.basic_auth) {
    *out << YAML::Key << "basic_auth" << YAML::Value << YAML::BeginMap;
    *out << YAML::Key << "username" << YAML::Value << client.basic_auth->username;
    if (!client.basic_auth->password.empty()) *out << YAML::Key << "password" << YAML::Value << kSecret;
    if (!client.basic_auth->password_file.empty()) {
      *out << YAML::Key << "password_file" << YAML::Value << client.basic_auth->password_file;
    }
    *out << YAML::EndMap;
  }
  if (client.authorization) {
    *out << YAML::Key << "authorization" << YAML::Value << YAML::BeginMap;
    *out << YAML::Key << "type" << YAML::Value << client.authorization->type;
    if (!client.authorization->credentials.empty()) *out << YAML::Key << "credentials" << YAML::Value << kSecret;
    if (!client.authorization->credentials_file.empty()) {
      *out << YAML::Key << "credentials_file" << YAML::Value << client.authorization->credentials_file;
    }
    *out << YAML::EndMap;
  }
  const TlsConfig& tls = client.tls;
  *out << YAML::Key << "tls_config" << YAML::Value << YAML::BeginMap;
  if (!tls.ca_file.empty()) *out << YAML::Key << "ca_file" << YAML::Value << tls.ca_file;
  if (!tls.cert_file.empty()) *out << YAML::Key << "cert_file" << YAML::Value << tls.cert_file;
  if (!tls.key_file.empty()) *out << YAML::Key << "key_file" << YAML::Value << tls.key_file;
  if (!tls.server_name.empty()) *out << YAML::Key << "server_name" << YAML::Value << tls.server_name;
  *out << YAML::Key << "insecure_skip_verify" << YAML::Value << tls.insecure_skip_verify;
  *out << YAML::EndMap;
}

void EmitRelabel(const RelabelConfig& rule, YAML::Emitter* out) {
  *out << YAML::BeginMap;
  if (!rule.source_labels.empty()) {
    *out << YAML::Key << "source_labels" << YAML::Value << YAML::Flow << rule.source_labels;
  }
  *out << YAML::Key << "separator" << YAML::Value << rule.separator;
  *out << YAML::Key << "regex" << YAML::Value << rule.regex;
  if (rule.modulus != 0) *out << YAML::Key << "modulus" << YAML::Value << rule.modulus;
  if (!rule.target_label.empty()) *out << YAML::Key << "target_label" << YAML::Value << rule.target_label;
  *out << YAML::Key << "replacement" << YAML::Value << rule.replacement;
  *out << YAML::Key << "action" << YAML::Value << RelabelActionName(rule.action);
  *out << YAML::EndMap;
}

}  // namespace

std::string EffectiveConfigYaml(const std::vector<TargetConfig>& targets) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "remote_write" << YAML::Value << YAML::BeginSeq;
  for (const TargetConfig& target : targets) {
    out << YAML::BeginMap;
    out << YAML::Key << "url" << YAML::Value << target.url;
    out << YAML::Key << "name" << YAML::Value << target.name;
    out << YAML::Key << "remote_timeout" << YAML::Value << FormatPromDuration(target.remote_timeout_ms);
    if (!target.headers.empty()) {
      out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
      for (const auto& [name, value] : target.headers) out << YAML::Key << name << YAML::Value << value;
      out << YAML::EndMap;
    }
    out << YAML::Key << "protobuf_message" << YAML::Value
        << (target.protocol == remote_write::Protocol::kV2 ? "io.prometheus.write.v2.Request"
                                                             : "prometheus.WriteRequest");
    if (!target.write_relabel_configs.empty()) {
      out << YAML::Key << "write_relabel_configs" << YAML::Value << YAML::BeginSeq;
      for (const RelabelConfig& rule : target.write_relabel_configs) EmitRelabel(rule, &out);
      out << YAML::EndSeq;
    }
    EmitClient(target.client, &out);
    const QueueConfig& queue = target.queue;
    out << YAML::Key << "queue_config" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "capacity" << YAML::Value << queue.capacity;
    out << YAML::Key << "max_shards" << YAML::Value << queue.max_shards;
    out << YAML::Key << "min_shards" << YAML::Value << queue.min_shards;
    out << YAML::Key << "max_samples_per_send" << YAML::Value << queue.max_samples_per_send;
    out << YAML::Key << "batch_send_deadline" << YAML::Value << FormatPromDuration(queue.batch_send_deadline_ms);
    out << YAML::Key << "min_backoff" << YAML::Value << FormatPromDuration(queue.min_backoff_ms);
    out << YAML::Key << "max_backoff" << YAML::Value << FormatPromDuration(queue.max_backoff_ms);
    out << YAML::Key << "retry_on_http_429" << YAML::Value << queue.retry_on_http_429;
    out << YAML::EndMap;
    out << YAML::Key << "metadata_config" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "send" << YAML::Value << target.metadata.send;
    out << YAML::Key << "send_interval" << YAML::Value << FormatPromDuration(target.metadata.send_interval_ms);
    out << YAML::EndMap;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace tsvault::forward
