// The Prometheus HTTP API (read side) served by tsvault: series, labels,
// label values, metadata, exemplars, build info and TSDB status, in exactly
// Prometheus' JSON envelope. PromQL endpoints join here (issue: PromQL).
#pragma once

#include <memory>
#include <string>

#include "http/server.h"
#include "storage/db.h"

namespace tsvault::query {

struct ApiOptions {
  std::string version;   // reported by /api/v1/status/buildinfo
  std::string revision;
  std::string build_date;
};

// Registers the read endpoints on a server. Thread-safe.
class Api {
 public:
  // `db` must outlive the Api.
  Api(storage::DB* db, ApiOptions options);
  ~Api();

  // Adds every route (GET and POST where Prometheus accepts both).
  void Register(http::Server* server);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::query
