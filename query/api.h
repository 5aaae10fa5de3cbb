// The Prometheus HTTP API (read side) served by tsvault: series, labels,
// label values, metadata, exemplars, build info and TSDB status, in exactly
// Prometheus' JSON envelope. PromQL endpoints join here (issue: PromQL).
#pragma once

#include <memory>
#include <string>

#include "http/server.h"
#include "query/engine.h"
#include "storage/db.h"

namespace tsvault::query {

struct ApiOptions {
  ApiOptions() = default;
  ApiOptions(std::string version_in, std::string revision_in, std::string build_date_in,
             EngineOptions engine_in = {})
      : version(std::move(version_in)), revision(std::move(revision_in)),
        build_date(std::move(build_date_in)), engine(std::move(engine_in)) {}

  std::string version;   // reported by /api/v1/status/buildinfo
  std::string revision;
  std::string build_date;
  EngineOptions engine;  // PromQL limits: lookback, timeout, max samples
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
