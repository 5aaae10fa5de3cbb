// Runs a real PostgreSQL 15 (Debian `postgresql`) for integration tests:
// a fresh cluster in a temp dir, on a free 127.0.0.1 port, its socket in
// that dir. PostgreSQL refuses to run as root, so as root the cluster is
// owned by and run as the `postgres` user (runuser), as
// ../shared/context/real-peers.md describes.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace tsvault::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  // Stops the server (pg_ctl stop -m immediate) if it runs.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // True when the PostgreSQL 15 binaries are installed.
  static bool Installed();
  // initdb in `work_dir`/pg (created), then starts the server; `work_dir`
  // must exist. Logs go to `work_dir`/pg.log.
  Status Start(const std::string& work_dir);
  // A libpq connection string for the `postgres` database as the
  // superuser.
  std::string ConnectionString() const;
  // Runs `sql` with psql (-v ON_ERROR_STOP=1, unaligned, tuples only, `|`
  // between fields); *output gets what it printed. Error: psql's exit code
  // and stderr.
  Status Psql(const std::string& sql, std::string* output = nullptr) const;
  int port() const { return port_; }

 private:
  // argv run as the cluster owner (runuser -u postgres when root).
  std::vector<std::string> AsOwner(std::vector<std::string> argv) const;

  std::string data_dir_;
  std::string log_path_;
  std::string user_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace tsvault::testing
