// Runs the real `tsvault serve` binary as a child process for integration
// tests: start, wait until ready, crash it (SIGKILL), stop it (SIGTERM) and
// start it again on the same data directory and port.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/client.h"
#include "tests/support/process.h"

namespace tsvault::testing {

#ifdef TSVAULT_BINARY
// Path of the tsvault executable built with this test (integration test
// targets define TSVAULT_BINARY; see tests/CMakeLists.txt).
inline std::string TsvaultBinaryPath() { return TSVAULT_BINARY; }
#endif

struct TsvaultServerOptions {
  // The tsvault executable; integration tests pass TsvaultBinaryPath().
  std::string binary;
  // --storage.path; kept across restarts. Required.
  std::string data_dir;
  // stdout+stderr of every run, appended (one file for all restarts).
  // Empty means data_dir + ".log".
  std::string log_path;
  // 127.0.0.1 port; 0 picks a free one at the first Start and keeps it.
  int port = 0;
  // More flags, e.g. "--storage.wal-sync=always".
  std::vector<std::string> extra_args;
  // The server speaks HTTPS (a --web.config.file with tls_server_config in
  // extra_args): base_url() says https://, and readiness is asked with
  // `client_tls` (e.g. a client certificate when the server requires one).
  bool https = false;
  http::TlsOptions client_tls;
  // How long Start waits for GET /-/ready to answer 200.
  std::chrono::milliseconds ready_timeout{30000};
};

// One tsvault server. Destroying it kills the child (SIGKILL).
class TsvaultServer {
 public:
  explicit TsvaultServer(TsvaultServerOptions options);
  ~TsvaultServer();
  TsvaultServer(const TsvaultServer&) = delete;
  TsvaultServer& operator=(const TsvaultServer&) = delete;

  // Spawns `tsvault serve` and waits until /-/ready answers 200. On failure
  // the child is killed and the message carries the tail of the log.
  Status Start();
  // SIGKILL (a crash: no final checkpoint, no flush) and reap.
  void Kill();
  // SIGTERM and wait for a clean exit (code 0); SIGKILL after `timeout`.
  Status Stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Stop() if running, then Start() on the same directory and port.
  Status Restart();
  // True while the child runs.
  bool IsRunning();

  int port() const { return port_; }
  // The running child's pid, or -1.
  pid_t pid() const { return process_.pid(); }
  // "http://127.0.0.1:PORT" (https:// with options.https).
  std::string base_url() const;
  const std::string& log_path() const { return options_.log_path; }
  const std::string& data_dir() const { return options_.data_dir; }
  // Time from spawn to the first 200 from /-/ready in the last Start.
  std::chrono::milliseconds last_start_duration() const { return last_start_duration_; }
  // The end of the log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const { return ReadLogTail(options_.log_path, max_bytes); }

 private:
  Status StartOnce();

  TsvaultServerOptions options_;
  int port_ = 0;
  Process process_;
  std::chrono::milliseconds last_start_duration_{0};
  bool ever_started_ = false;
};

}  // namespace tsvault::testing
