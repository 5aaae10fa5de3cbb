// tsvault's own /metrics: HTTP request counters and latencies, storage
// gauges refreshed at scrape time, WAL sync latency.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/http.h"
#include "storage/db.h"

namespace prometheus {
class Registry;
}

namespace tsvault::tools {

class SelfMetrics {
 public:
  SelfMetrics();
  ~SelfMetrics();

  prometheus::Registry* registry();
  // For http::ServerOptions::observer.
  void ObserveRequest(const std::string& route, int status, double seconds);
  // For http::ServerOptions::accept_error_observer: counts the failure and
  // logs it, at most once a minute.
  void ObserveAcceptError(const std::string& error);
  // For storage::Options::wal_sync_observer.
  void ObserveWalSync(double seconds);
  // For query::EngineOptions::resolution_observer: counts the query once per
  // resolution that served it.
  void ObserveQueryResolutions(const std::vector<int64_t>& resolutions_used);
  // Handles GET /metrics: refreshes storage gauges from `db` and serializes
  // the registry in the Prometheus text format.
  void Handle(storage::DB* db, const http::Request& request, http::Response* response);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::tools
