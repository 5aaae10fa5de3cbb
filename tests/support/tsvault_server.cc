#include "tests/support/tsvault_server.h"

#include "tests/support/ports.h"

namespace tsvault::testing {

TsvaultServer::TsvaultServer(TsvaultServerOptions options)
    : options_(std::move(options)), port_(options_.port) {
  if (options_.log_path.empty()) options_.log_path = options_.data_dir + ".log";
}

TsvaultServer::~TsvaultServer() { Kill(); }

std::string TsvaultServer::base_url() const {
  return (options_.https ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
}

bool TsvaultServer::IsRunning() { return process_.IsAlive(); }

Status TsvaultServer::StartOnce() {
  if (port_ == 0) {
    Status s = PickFreePort(&port_);
    if (!s.ok()) return s;
  }
  ProcessOptions spawn;
  spawn.argv = {options_.binary, "serve", "--storage.path=" + options_.data_dir,
                "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
  spawn.argv.insert(spawn.argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  spawn.log_path = options_.log_path;
  const auto started = std::chrono::steady_clock::now();
  Status s = process_.Start(spawn);
  if (!s.ok()) return s;
  s = WaitForHttpOk(base_url(), "/-/ready", &process_, options_.ready_timeout, options_.log_path,
                    options_.https ? &options_.client_tls : nullptr);
  if (!s.ok()) {
    process_.Kill();
    return Status::Internal("tsvault did not become ready: " + s.message());
  }
  last_start_duration_ = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return Status::OK();
}

Status TsvaultServer::Start() {
  if (options_.binary.empty() || options_.data_dir.empty()) {
    return Status::InvalidArgument("TsvaultServerOptions needs binary and data_dir");
  }
  if (process_.IsAlive()) return Status::InvalidArgument("tsvault already running");
  // A port we picked ourselves may be taken by someone else before tsvault
  // binds it; only then, and only before the first successful start, try a
  // fresh one.
  const bool may_repick = options_.port == 0 && !ever_started_;
  Status s;
  for (int attempt = 0; attempt < 3; ++attempt) {
    s = StartOnce();
    if (s.ok()) ever_started_ = true;
    if (s.ok() || !may_repick || s.message().find("cannot listen") == std::string::npos) return s;
    port_ = 0;
  }
  return s;
}

void TsvaultServer::Kill() { process_.Kill(); }

Status TsvaultServer::Stop(std::chrono::milliseconds timeout) {
  Status s = process_.Terminate(timeout);
  if (!s.ok() && !s.IsNotFound()) {
    return Status::Internal("tsvault stop: " + s.message() + "; log tail:\n" + LogTail());
  }
  return Status::OK();
}

Status TsvaultServer::Restart() {
  if (process_.IsAlive()) {
    Status s = Stop();
    if (!s.ok()) return s;
  }
  return Start();
}

}  // namespace tsvault::testing
