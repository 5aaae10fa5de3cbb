// --web.config.file with real clients: Prometheus 2.42 remote-writing over
// TLS with basic auth and with a bearer token (`authorization:`), a wrong
// password that Prometheus must see as a 401 (dropped, not retried),
// promtool querying over HTTPS as a read-only user and as a write-only one,
// curl with wrong credentials and a reader trying to write, a SIGHUP that
// changes a password, and client certificates.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"
#include "tests/support/tsvault_server.h"

namespace tsvault {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `command` through the shell; its exit code and output (stdout and stderr).
int RunShell(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t got;
  while ((got = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, got);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// `tsvault hash-password` as an operator runs it.
std::string HashPassword(const std::string& password) {
  std::string output;
  EXPECT_EQ(RunShell("echo '" + password + "' | " + testing::TsvaultBinaryPath() + " hash-password --cost 6", &output),
            0)
      << output;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

std::string BasicHeader(const std::string& user, const std::string& password) {
  std::string output;
  EXPECT_EQ(RunShell("printf '%s' '" + user + ":" + password + "' | base64 -w0", &output), 0);
  return "Basic " + output;
}

class WebSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = testing::MakeTestCertificates(dir_.path(), &certificates_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void WriteWebConfig(const std::string& grafana_password, const std::string& tls_extra = "") {
    std::ofstream(web_config_) << "tls_server_config:\n"
                               << "  cert_file: server.pem\n"
                               << "  key_file: server.key\n"
                               << tls_extra << "http_server_config:\n"
                               << "  headers:\n"
                               << "    Strict-Transport-Security: max-age=31536000\n"
                               << "basic_auth_users:\n"
                               << "  prometheus: " << HashPassword("remote-write-pw") << "\n"
                               << "  grafana: " << HashPassword(grafana_password) << "\n"
                               << "bearer_tokens:\n"
                               << "  agent: " << HashPassword("agent-token-1") << "\n"
                               << "roles:\n"
                               << "  prometheus: [write]\n"
                               << "  grafana: [read]\n"
                               << "  agent: [write]\n";
  }

  void StartTsvault(const http::TlsOptions& client_tls = http::TlsOptions()) {
    testing::TsvaultServerOptions options;
    options.binary = testing::TsvaultBinaryPath();
    options.data_dir = dir_.path() + "/tsvault-data";
    options.log_path = dir_.path() + "/tsvault.log";
    options.extra_args = {"--web.config.file=" + web_config_};
    options.https = true;
    options.client_tls = client_tls;
    options.client_tls.ca_file = certificates_.ca_cert;
    tsvault_ = std::make_unique<testing::TsvaultServer>(options);
    Status s = tsvault_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // GET `target` on tsvault with `authorization` (may be empty).
  http::Response Get(const std::string& target, const std::string& authorization,
                     const http::TlsOptions& extra = http::TlsOptions()) {
    http::TlsOptions tls = extra;
    tls.ca_file = certificates_.ca_cert;
    std::unique_ptr<http::Client> client;
    EXPECT_TRUE(http::Client::Create(tsvault_->base_url(), tls, &client).ok());
    http::Response response;
    std::vector<std::pair<std::string, std::string>> headers;
    if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
    Status s = client->Do("GET", target, headers, "", &response);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return response;
  }

  // curl against tsvault, trusting the test CA: "<status code>".
  std::string Curl(const std::string& arguments) {
    std::string output;
    RunShell("curl -s -o /dev/null -w '%{http_code}' --cacert " + certificates_.ca_cert + " " + arguments, &output);
    return output;
  }

  testing::TempDir dir_;
  testing::TestCertificates certificates_;
  const std::string web_config_ = dir_.path() + "/web.yml";
  std::unique_ptr<testing::TsvaultServer> tsvault_;
};

TEST_F(WebSecurityTest, RealClientsOverTlsGetExactlyTheirRoles) {
  ASSERT_NO_FATAL_FAILURE(WriteWebConfig("grafana-pw"));
  ASSERT_NO_FATAL_FAILURE(StartTsvault());

  // Prometheus sends the same samples three ways, labelled apart.
  testing::PrometheusServerOptions prometheus_options;
  prometheus_options.work_dir = dir_.path() + "/prometheus";
  std::filesystem::create_directories(prometheus_options.work_dir);
  testing::PrometheusServer prometheus(prometheus_options);
  auto remote_write = [&](const std::string& name, const std::string& credentials) {
    return "  - url: " + tsvault_->base_url() + "/api/v1/write\n" +
           "    name: " + name + "\n" +
           "    tls_config: {ca_file: " + certificates_.ca_cert + "}\n" + credentials +
           "    write_relabel_configs: [{target_label: via, replacement: " + name + "}]\n" +
           "    queue_config: {batch_send_deadline: 500ms, min_backoff: 100ms, max_backoff: 200ms}\n";
  };
  const std::string config =
      "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
      "scrape_configs:\n"
      "  - job_name: prometheus\n"
      "    static_configs: [{targets: ['127.0.0.1:" + std::to_string(prometheus.port()) + "']}]\n"
      "remote_write:\n" +
      remote_write("basic", "    basic_auth: {username: prometheus, password: remote-write-pw}\n") +
      remote_write("bearer", "    authorization: {credentials: agent-token-1}\n") +
      remote_write("wrong", "    basic_auth: {username: prometheus, password: guessed}\n");
  Status s = prometheus.Start(config);
  ASSERT_TRUE(s.ok()) << s.ToString();

  // Both good queues deliver; read as grafana.
  const std::string reader = BasicHeader("grafana", "grafana-pw");
  const auto deadline = Clock::now() + std::chrono::seconds(40);
  std::string last;
  while (true) {
    http::Response response = Get("/api/v1/query?query=count%20by%20(via)%20(up)", reader);
    last = std::to_string(response.status) + " " + response.body;
    if (response.status == 200 && response.body.find("\"basic\"") != std::string::npos &&
        response.body.find("\"bearer\"") != std::string::npos) {
      EXPECT_EQ(response.body.find("\"wrong\""), std::string::npos) << response.body;
      EXPECT_EQ(response.Header("Strict-Transport-Security"), "max-age=31536000");
      break;
    }
    ASSERT_LT(Clock::now(), deadline) << "last answer: " << last << "\nPrometheus log:\n"
                                      << prometheus.LogTail() << "\ntsvault log:\n" << tsvault_->LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  // The wrong password is a 401 to Prometheus: its samples fail, unretried.
  std::unique_ptr<http::Client> prometheus_client;
  ASSERT_TRUE(http::Client::Create(prometheus.base_url(), &prometheus_client).ok());
  double failed = 0, retried = -1;
  const auto failed_deadline = Clock::now() + std::chrono::seconds(20);
  while (failed == 0 && Clock::now() < failed_deadline) {
    http::Response metrics;
    ASSERT_TRUE(prometheus_client->Get("/metrics", &metrics).ok());
    for (const std::string& line : {std::string("prometheus_remote_storage_samples_failed_total{remote_name=\"wrong\""),
                                    std::string("prometheus_remote_storage_samples_retried_total{remote_name=\"wrong\"")}) {
      const size_t at = metrics.body.find(line);
      if (at == std::string::npos) continue;
      const size_t value = metrics.body.find("} ", at) + 2;
      (line.find("failed") != std::string::npos ? failed : retried) = std::stod(metrics.body.substr(value));
    }
    if (failed == 0) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_GT(failed, 0) << prometheus.LogTail();
  EXPECT_EQ(retried, 0);
  EXPECT_NE(prometheus.LogTail().find("401"), std::string::npos) << prometheus.LogTail();

  // promtool (2.42 has no --http.config.file): credentials in the URL, the
  // CA through SSL_CERT_FILE as for every Go program.
  const std::string host = "@127.0.0.1:" + std::to_string(tsvault_->port());
  std::string output;
  EXPECT_EQ(RunShell("SSL_CERT_FILE=" + certificates_.ca_cert + " promtool query instant https://grafana:grafana-pw" +
                         host + " 'up{via=\"basic\"}'",
                     &output),
            0)
      << output;
  EXPECT_NE(output.find("via=\"basic\""), std::string::npos) << output;
  EXPECT_NE(RunShell("SSL_CERT_FILE=" + certificates_.ca_cert + " promtool query instant https://prometheus:remote-write-pw" +
                         host + " up",
                     &output),
            0);
  EXPECT_NE(output.find("403"), std::string::npos) << output;
  EXPECT_NE(output.find("needs the read role"), std::string::npos) << output;

  // curl: no credentials, a wrong password, a reader writing, the open probe.
  const std::string url = tsvault_->base_url();
  EXPECT_EQ(Curl(url + "/api/v1/labels"), "401");
  EXPECT_EQ(Curl("-u grafana:nope " + url + "/api/v1/labels"), "401");
  EXPECT_EQ(Curl("-u grafana:grafana-pw " + url + "/api/v1/labels"), "200");
  EXPECT_EQ(Curl("-u grafana:grafana-pw -X POST --data-binary @" + certificates_.ca_cert + " " + url + "/api/v1/write"),
            "403");
  EXPECT_EQ(Curl("-u grafana:grafana-pw -X POST --data-binary 'up 1' " + url + "/api/v1/import/prometheus"), "403");
  EXPECT_EQ(Curl("-H 'Authorization: Bearer agent-token-1' " + url + "/api/v1/labels"), "403");
  EXPECT_EQ(Curl(url + "/-/healthy"), "200");
  EXPECT_EQ(Curl("http://127.0.0.1:" + std::to_string(tsvault_->port()) + "/-/healthy"), "000");  // plain HTTP: no

  // tsvault's own client commands, with Prometheus' HTTP client config.
  const std::string writer_config = dir_.path() + "/writer-http.yml";
  const std::string reader_config = dir_.path() + "/reader-http.yml";
  std::ofstream(dir_.path() + "/agent-token") << "agent-token-1\n";
  std::ofstream(writer_config) << "authorization:\n  credentials_file: " << dir_.path() << "/agent-token\n"
                               << "tls_config:\n  ca_file: " << certificates_.ca_cert << "\n";
  std::ofstream(reader_config) << "basic_auth: {username: grafana, password: grafana-pw}\n"
                               << "tls_config: {ca_file: " << certificates_.ca_cert << "}\n";
  const std::string binary = testing::TsvaultBinaryPath();
  EXPECT_EQ(RunShell("echo 'cli_imported{via=\"cli\"} 42' | " + binary + " import prometheus - --url " + url +
                         " --http.config.file " + writer_config,
                     &output),
            0)
      << output;
  EXPECT_NE(RunShell("echo 'cli_imported{via=\"cli\"} 43' | " + binary + " import prometheus - --url " + url +
                         " --http.config.file " + reader_config,
                     &output),
            0);
  EXPECT_NE(output.find("403"), std::string::npos) << output;
  EXPECT_EQ(RunShell(binary + " export csv --url " + url + " --http.config.file " + reader_config +
                         " --match 'cli_imported' --format __name__,via,__value__",
                     &output),
            0)
      << output;
  EXPECT_NE(output.find("cli_imported,cli,42"), std::string::npos) << output;
  EXPECT_NE(RunShell(binary + " export csv --url " + url + " --match cli_imported", &output), 0);
  EXPECT_NE(output.find("certificate"), std::string::npos) << output;  // the test CA is not trusted without the file

  // SIGHUP with a new password for grafana: the old one stops working.
  ASSERT_NO_FATAL_FAILURE(WriteWebConfig("grafana-pw-2"));
  ASSERT_EQ(kill(tsvault_->pid(), SIGHUP), 0);
  const auto reload_deadline = Clock::now() + std::chrono::seconds(10);
  while (Get("/api/v1/labels", BasicHeader("grafana", "grafana-pw-2")).status != 200) {
    ASSERT_LT(Clock::now(), reload_deadline) << tsvault_->LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Get("/api/v1/labels", reader).status, 401);
  // A broken file is refused and the last good one stays.
  std::ofstream(web_config_, std::ios::app) << "roles: [\n";
  ASSERT_EQ(kill(tsvault_->pid(), SIGHUP), 0);
  const auto error_deadline = Clock::now() + std::chrono::seconds(10);
  while (tsvault_->LogTail().find("the web config was not reloaded") == std::string::npos) {
    ASSERT_LT(Clock::now(), error_deadline) << tsvault_->LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Get("/api/v1/labels", BasicHeader("grafana", "grafana-pw-2")).status, 200);
  EXPECT_TRUE(prometheus.Stop().ok());
  EXPECT_TRUE(tsvault_->Stop().ok()) << tsvault_->LogTail();
}

TEST_F(WebSecurityTest, ClientCertificatesAreCheckedAgainstTheClientCa) {
  ASSERT_NO_FATAL_FAILURE(WriteWebConfig("grafana-pw", "  client_auth_type: RequireAndVerifyClientCert\n"
                                                       "  client_ca_file: ca.pem\n"));
  http::TlsOptions client_certificate;
  client_certificate.cert_file = certificates_.client_cert;
  client_certificate.key_file = certificates_.client_key;
  ASSERT_NO_FATAL_FAILURE(StartTsvault(client_certificate));

  testing::PrometheusServerOptions prometheus_options;
  prometheus_options.work_dir = dir_.path() + "/prometheus";
  std::filesystem::create_directories(prometheus_options.work_dir);
  testing::PrometheusServer prometheus(prometheus_options);
  const std::string config =
      "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
      "scrape_configs:\n"
      "  - job_name: prometheus\n"
      "    static_configs: [{targets: ['127.0.0.1:" + std::to_string(prometheus.port()) + "']}]\n"
      "remote_write:\n"
      "  - url: " + tsvault_->base_url() + "/api/v1/write\n"
      "    tls_config: {ca_file: " + certificates_.ca_cert + ", cert_file: " + certificates_.client_cert +
      ", key_file: " + certificates_.client_key + "}\n"
      "    basic_auth: {username: prometheus, password: remote-write-pw}\n"
      "    queue_config: {batch_send_deadline: 500ms}\n";
  Status s = prometheus.Start(config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const std::string reader = BasicHeader("grafana", "grafana-pw");
  const auto deadline = Clock::now() + std::chrono::seconds(40);
  while (Get("/api/v1/query?query=up", reader, client_certificate).body.find("\"job\":\"prometheus\"") ==
         std::string::npos) {
    ASSERT_LT(Clock::now(), deadline) << prometheus.LogTail() << "\n" << tsvault_->LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const std::string url = tsvault_->base_url() + "/api/v1/labels";
  EXPECT_EQ(Curl("-u grafana:grafana-pw " + url), "000");  // no certificate: no TLS session
  EXPECT_EQ(Curl("-u grafana:grafana-pw --cert " + certificates_.other_client_cert + " --key " +
                 certificates_.other_client_key + " " + url),
            "000");
  EXPECT_EQ(Curl("-u grafana:grafana-pw --cert " + certificates_.client_cert + " --key " + certificates_.client_key +
                 " " + url),
            "200");
  EXPECT_EQ(Curl("--cert " + certificates_.client_cert + " --key " + certificates_.client_key + " " + url), "401");
  EXPECT_TRUE(prometheus.Stop().ok());
  EXPECT_TRUE(tsvault_->Stop().ok()) << tsvault_->LogTail();
}

}  // namespace
}  // namespace tsvault
