// The forwarding configuration: Prometheus' remote_write YAML, copied as it
// is, with its defaults and its refusals (line and column named).
#include "remote_write/forward/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace tsvault::forward {
namespace {

TEST(ForwardConfigTest, ABlockCopiedFromPrometheusYml) {
  const char* yaml = R"(
global:
  scrape_interval: 15s
remote_write:
  - url: https://thanos-receive.example:19291/api/v1/receive
    name: thanos
    remote_timeout: 10s
    headers:
      THANOS-TENANT: seed
    tls_config:
      ca_file: /etc/tsvault/ca.pem
      insecure_skip_verify: false
    write_relabel_configs:
      - source_labels: [__name__]
        regex: reengagement_.*|courses_.*
        action: keep
      - regex: instance
        action: labeldrop
    queue_config:
      max_samples_per_send: 2000
      max_shards: 10
      batch_send_deadline: 2s
      retry_on_http_429: true
  - url: http://mimir:8080/api/v1/push
    headers: {X-Scope-OrgID: seed}
    basic_auth: {username: u, password_file: /run/secrets/mimir}
    protobuf_message: io.prometheus.write.v2.Request
    metadata_config: {send: false}
)";
  std::vector<TargetConfig> targets;
  Status s = ParseForwardConfig(yaml, "forward.yml", &targets);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(targets.size(), 2u);
  const TargetConfig& thanos = targets[0];
  EXPECT_EQ(thanos.name, "thanos");
  EXPECT_EQ(thanos.remote_timeout_ms, 10'000);
  EXPECT_EQ(thanos.headers.at("THANOS-TENANT"), "seed");
  EXPECT_EQ(thanos.client.tls.ca_file, "/etc/tsvault/ca.pem");
  ASSERT_EQ(thanos.write_relabel_configs.size(), 2u);
  EXPECT_EQ(thanos.write_relabel_configs[0].action, RelabelAction::kKeep);
  EXPECT_EQ(thanos.write_relabel_configs[1].action, RelabelAction::kLabelDrop);
  EXPECT_EQ(thanos.queue.max_samples_per_send, 2000);
  EXPECT_EQ(thanos.queue.max_shards, 10);
  EXPECT_EQ(thanos.queue.min_shards, 1);
  EXPECT_EQ(thanos.queue.batch_send_deadline_ms, 2'000);
  EXPECT_TRUE(thanos.queue.retry_on_http_429);
  EXPECT_EQ(thanos.protocol, remote_write::Protocol::kV1);
  const TargetConfig& mimir = targets[1];
  EXPECT_EQ(mimir.name, DefaultTargetName("http://mimir:8080/api/v1/push"));
  EXPECT_EQ(mimir.name.size(), 6u);
  ASSERT_TRUE(mimir.client.basic_auth.has_value());
  EXPECT_EQ(mimir.client.basic_auth->password_file, "/run/secrets/mimir");
  EXPECT_EQ(mimir.protocol, remote_write::Protocol::kV2);
  EXPECT_FALSE(mimir.metadata.send);
  // Prometheus 2.42's queue defaults.
  EXPECT_EQ(mimir.queue.max_samples_per_send, 500);
  EXPECT_EQ(mimir.queue.max_shards, 200);
  EXPECT_EQ(mimir.queue.min_backoff_ms, 30);
  EXPECT_EQ(mimir.queue.max_backoff_ms, 5'000);
  EXPECT_FALSE(mimir.queue.retry_on_http_429);
  EXPECT_EQ(mimir.remote_timeout_ms, 30'000);
}

// /api/v1/status/config shows the targets as in effect: Prometheus'
// format again, defaults filled in, secrets hidden; read back, it is the
// same configuration (apart from the hidden secret).
TEST(ForwardConfigTest, EffectiveConfigReadsBackTheSame) {
  const char* yaml = R"(
remote_write:
  - url: https://thanos-receive.example:19291/api/v1/receive
    name: thanos
    remote_timeout: 1m30s
    headers: {THANOS-TENANT: seed}
    basic_auth: {username: seed, password: hunter2}
    tls_config: {ca_file: /etc/tsvault/ca.pem, server_name: receive}
    write_relabel_configs:
      - source_labels: [__name__, job]
        separator: ':'
        regex: 'reengagement_.*:app'
        action: keep
      - {source_labels: [instance], target_label: shard, modulus: 4, action: hashmod}
    queue_config: {max_samples_per_send: 2000, batch_send_deadline: 250ms, retry_on_http_429: true}
  - url: http://mimir:8080/api/v1/push
    authorization: {credentials_file: /run/secrets/mimir}
    protobuf_message: io.prometheus.write.v2.Request
    metadata_config: {send: false}
)";
  std::vector<TargetConfig> targets;
  ASSERT_TRUE(ParseForwardConfig(yaml, "forward.yml", &targets).ok());
  const std::string effective = EffectiveConfigYaml(targets);
  EXPECT_EQ(effective.find("hunter2"), std::string::npos) << effective;
  EXPECT_NE(effective.find("password: <secret>"), std::string::npos) << effective;
  std::vector<TargetConfig> again;
  Status s = ParseForwardConfig(effective, "effective.yml", &again);
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << effective;
  ASSERT_EQ(again.size(), targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    SCOPED_TRACE(targets[i].name);
    EXPECT_EQ(again[i].url, targets[i].url);
    EXPECT_EQ(again[i].name, targets[i].name);
    EXPECT_EQ(again[i].remote_timeout_ms, targets[i].remote_timeout_ms);
    EXPECT_EQ(again[i].headers, targets[i].headers);
    EXPECT_EQ(again[i].protocol, targets[i].protocol);
    EXPECT_EQ(again[i].metadata.send, targets[i].metadata.send);
    EXPECT_EQ(again[i].client.tls.ca_file, targets[i].client.tls.ca_file);
    EXPECT_EQ(again[i].client.tls.server_name, targets[i].client.tls.server_name);
    EXPECT_EQ(again[i].client.authorization.has_value(), targets[i].client.authorization.has_value());
    EXPECT_EQ(again[i].queue.max_samples_per_send, targets[i].queue.max_samples_per_send);
    EXPECT_EQ(again[i].queue.batch_send_deadline_ms, targets[i].queue.batch_send_deadline_ms);
    EXPECT_EQ(again[i].queue.retry_on_http_429, targets[i].queue.retry_on_http_429);
    EXPECT_EQ(again[i].queue.max_shards, targets[i].queue.max_shards);
    ASSERT_EQ(again[i].write_relabel_configs.size(), targets[i].write_relabel_configs.size());
    for (size_t r = 0; r < targets[i].write_relabel_configs.size(); ++r) {
      const RelabelConfig& before = targets[i].write_relabel_configs[r];
      const RelabelConfig& after = again[i].write_relabel_configs[r];
      EXPECT_EQ(after.action, before.action);
      EXPECT_EQ(after.source_labels, before.source_labels);
      EXPECT_EQ(after.separator, before.separator);
      EXPECT_EQ(after.regex, before.regex);
      EXPECT_EQ(after.modulus, before.modulus);
      EXPECT_EQ(after.target_label, before.target_label);
      EXPECT_EQ(after.replacement, before.replacement);
    }
  }
  EXPECT_EQ(again[0].client.basic_auth->username, "seed");
  EXPECT_EQ(again[0].client.basic_auth->password, "<secret>");
  EXPECT_EQ(again[1].client.authorization->credentials_file, "/run/secrets/mimir");
}

// The error for `yaml`, which must be refused.
std::string Error(const std::string& yaml) {
  std::vector<TargetConfig> targets;
  Status s = ParseForwardConfig(yaml, "f.yml", &targets);
  EXPECT_TRUE(s.IsInvalidArgument()) << yaml;
  EXPECT_TRUE(targets.empty());
  return s.message();
}

TEST(ForwardConfigTest, MistakesAreNamedWithLineAndColumn) {
  std::string e = Error("remote_write:\n  - url: http://a/\n    queue_confg: {}\n");
  EXPECT_NE(e.find("f.yml:3:5"), std::string::npos) << e;
  EXPECT_NE(e.find("field queue_confg not found"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: ftp://a/\n");
  EXPECT_NE(e.find("f.yml:2:10"), std::string::npos) << e;
  EXPECT_NE(e.find("scheme must be http or https"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    remote_timeout: soon\n");
  EXPECT_NE(e.find("remote_timeout"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    headers: {Authorization: x}\n");
  EXPECT_NE(e.find("reserved header"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    basic_auth: {username: u}\n    authorization: {credentials: t}\n");
  EXPECT_NE(e.find("at most one of basic_auth & authorization"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    write_relabel_configs:\n      - regex: '('\n        action: drop\n");
  EXPECT_NE(e.find("write_relabel_configs[0]"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    write_relabel_configs:\n      - action: delete\n");
  EXPECT_NE(e.find("unknown relabel action"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    queue_config: {min_shards: 5, max_shards: 2}\n");
  EXPECT_NE(e.find("min_shards"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    queue_config: {max_shards: many}\n");
  EXPECT_NE(e.find("max_shards must be an integer"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    name: x\n  - url: http://b/\n    name: x\n");
  EXPECT_NE(e.find("multiple remote write configs"), std::string::npos) << e;
  e = Error("remote_write:\n  - name: x\n");
  EXPECT_NE(e.find("url for remote_write is empty"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    protobuf_message: json\n");
  EXPECT_NE(e.find("unknown protobuf_message"), std::string::npos) << e;
  e = Error("remote_write: [\n");
  EXPECT_NE(e.find("f.yml:"), std::string::npos) << e;
  e = Error("scrape_configs: []\n");
  EXPECT_NE(e.find("no remote_write"), std::string::npos) << e;
  e = Error("remote_write:\n  - url: http://a/\n    proxy_url: http://proxy:3128/\n");
  EXPECT_NE(e.find("f.yml:3:16"), std::string::npos) << e;
  EXPECT_NE(e.find("proxy_url is not supported"), std::string::npos) << e;
}

TEST(ForwardConfigTest, FileAndUrlFlag) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/forward.yml";
  std::ofstream(path) << "remote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\n";
  std::vector<TargetConfig> targets;
  ASSERT_TRUE(LoadForwardConfigFile(path, &targets).ok());
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_TRUE(LoadForwardConfigFile(dir.path() + "/missing.yml", &targets).IsIOError());
  TargetConfig target;
  ASSERT_TRUE(TargetFromUrl("http://vm:8428/api/v1/write", &target).ok());
  EXPECT_EQ(target.url, "http://vm:8428/api/v1/write");
  EXPECT_EQ(target.queue.max_samples_per_send, 500);
  Status s = TargetFromUrl("vm:8428", &target);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("--forward.url"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tsvault::forward
