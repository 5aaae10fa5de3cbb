// The Prometheus HTTP API (read side) served by tsvault, the one public
// header of query/api. Api registers every read route on an http::Server:
// the PromQL endpoints (/api/v1/query, /query_range, /format_query,
// /query_exemplars; queries run on an Engine the Api owns), and series,
// labels, label values, metadata, build info and TSDB status, all in
// Prometheus' JSON envelope; the rest of the API tooling calls (rules,
// alerts, targets, flags, config, runtime info); and, when enabled, the
// admin API. ApiOptions
// carries the build info, the EngineOptions (PromQL limits) and the admin
// switch.
// See docs/query-api.md.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "http/server.h"
#include "query/engine/engine.h"
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
  // The admin API (/api/v1/admin/tsdb/*: delete_series, clean_tombstones,
  // snapshot; --web.enable-admin-api). Off: every admin call answers 503
  // "admin APIs disabled", as Prometheus.
  bool enable_admin_api = false;
  // Where snapshots go: <storage.path>/snapshots.
  std::string snapshot_directory;
  // POST /api/v1/read (Prometheus' --storage.remote.read-sample-limit,
  // --storage.remote.read-concurrent-limit and
  // --storage.remote.read-max-bytes-in-frame; 0: no limit). The sample
  // limit applies to SAMPLES responses; streamed ones are bounded per frame.
  int64_t remote_read_sample_limit = 50'000'000;
  int remote_read_concurrent_limit = 10;
  int64_t remote_read_max_bytes_in_frame = 1'048'576;
  // Most series (/api/v1/series), label names (/labels) or values
  // (/label/<name>/values) one answer holds; a `limit` parameter may ask
  // for fewer, not more. A cut answer says "results truncated due to
  // limit" in its warnings, as Prometheus does. 0: no bound.
  size_t max_results = 100'000;

  // What /api/v1/status/{flags,config,runtimeinfo} report (server_status.h):
  // every command-line flag with its value as given or defaulted; the
  // effective configuration as YAML (secrets shown as <secret>); when the
  // server started (Unix ms); its retention in words; and, when set, the
  // outcome and time (Unix ms) of the last configuration (re)load.
  std::map<std::string, std::string> flags;
  std::string config_yaml;
  int64_t start_time_ms = 0;
  std::string storage_retention;
  std::function<void(bool* success, int64_t* time_ms)> config_reload_state;
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
