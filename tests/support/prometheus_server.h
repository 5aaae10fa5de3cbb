// Runs a real Prometheus (the Debian 12 package, 2.42) as a child process
// for integration tests, plus small clients for the Prometheus HTTP API that
// work against both Prometheus and tsvault.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "http/client.h"
#include "tests/support/process.h"

namespace tsvault::testing {

struct PrometheusServerOptions {
  std::string binary = "/usr/bin/prometheus";
  // Holds prometheus.yml, the TSDB (data/) and prometheus.log. Required;
  // use a TempDir.
  std::string work_dir;
  // 127.0.0.1 port; 0 picks a free one in the constructor (see port()), so
  // the test can put it into the configuration before Start.
  int port = 0;
  // Adds --web.enable-remote-write-receiver (Prometheus as a receiver).
  bool enable_remote_write_receiver = false;
  // More flags.
  std::vector<std::string> extra_args;
  // When set: written to <work_dir>/web.yml and passed as
  // --web.config.file (e.g. tls_server_config: serve HTTPS; base_url() then
  // says https://).
  std::string web_config_yaml;
  // How long Start waits for GET /-/ready to answer 200.
  std::chrono::milliseconds ready_timeout{30000};
};

// One Prometheus server. Destroying it kills the child (SIGKILL).
class PrometheusServer {
 public:
  explicit PrometheusServer(PrometheusServerOptions options);
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  // Writes `config_yaml` to <work_dir>/prometheus.yml, starts Prometheus and
  // waits until /-/ready answers 200. On failure the child is killed and the
  // message carries the tail of the log. When the port picked in the
  // constructor was taken meanwhile and `config_yaml` does not name it,
  // starts once more on a fresh port (port() then tells which).
  Status Start(const std::string& config_yaml);
  // SIGTERM and wait for a clean exit; SIGKILL after `timeout`.
  Status Stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGKILL and reap.
  void Kill();
  bool IsRunning();

  // The listen port (picked in the constructor when options.port was 0).
  int port() const { return port_; }
  // "http://127.0.0.1:PORT".
  std::string base_url() const;
  std::string log_path() const { return options_.work_dir + "/prometheus.log"; }
  std::string LogTail(size_t max_bytes = 4000) const { return ReadLogTail(log_path(), max_bytes); }

 private:
  PrometheusServerOptions options_;
  int port_ = 0;
  Status port_status_;
  bool repicked_ = false;  // Start already moved to a fresh port once
  Process process_;
};

// --- Prometheus HTTP API clients (Prometheus and tsvault answer alike) -----

// GET /api/v1/series?match[]=<selector>[&start=..&end=..] (times in Unix
// seconds). Each returned label set is in canonical order.
Status ApiSeries(http::Client* client, const std::string& selector, std::optional<double> start,
                 std::optional<double> end, std::vector<Labels>* out);

// One element of an instant-query vector result.
struct VectorElement {
  Labels labels;
  double value = 0;
};

// GET /api/v1/query?query=<promql> against either server.
// Fails unless the result type is "vector".
Status ApiInstantQuery(http::Client* client, const std::string& promql,
                       std::vector<VectorElement>* out);

// Sums every sample of metric `name` (any labels) in a text-format
// exposition (GET /metrics). NotFound when no such sample exists.
Status SumExposedMetric(const std::string& exposition, const std::string& name, double* sum);

}  // namespace tsvault::testing
