#include "query/api/admin_endpoints.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <random>

#include "query/api/match_parameter.h"
#include "query/api/params.h"
#include "query/api/response.h"

namespace tsvault::query {

namespace {

void WriteNoContent(http::Response* response) {
  response->status = 204;
  response->body.clear();
}

// Go's strconv.ParseBool.
bool ParseBool(std::string_view text, bool* value) {
  for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == yes) {
      *value = true;
      return true;
    }
  }
  for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == no) {
      *value = false;
      return true;
    }
  }
  return false;
}

void HandleDeleteSeries(storage::DB* db, const http::Request& request, http::Response* response) {
  const Params params = http::RequestParams(request);
  const std::vector<std::string> selectors = ParamList(params, "match[]");
  if (selectors.empty()) return WriteError(ApiErrorType::kBadData, "no match[] parameter provided", response);
  int64_t start, end;
  Status s = ParseRange(params, &start, &end);
  std::vector<std::vector<storage::LabelMatcher>> sets;
  if (s.ok()) s = ParseMatchParameter(selectors, &sets);
  if (!s.ok()) return WriteStatusError(s, response);
  storage::DeleteStats total;
  for (const auto& matchers : sets) {
    storage::DeleteStats stats;
    s = db->Delete(matchers, start, end, &stats);
    if (!s.ok()) return WriteError(ApiErrorType::kInternal, s.ToString(), response);
    total.series_matched += stats.series_matched;
    total.series_removed += stats.series_removed;
  }
  spdlog::info("admin: delete_series {} ({} series, {} removed entirely)", fmt::join(selectors, " "),
               total.series_matched, total.series_removed);
  WriteNoContent(response);
}

void HandleCleanTombstones(storage::DB* db, http::Response* response) {
  // Deletes apply at once; what remains are RocksDB's deletion records and
  // the space of dropped data: a full compaction frees both.
  Status s = db->CompactAll();
  if (!s.ok()) return WriteError(ApiErrorType::kInternal, s.ToString(), response);
  WriteNoContent(response);
}

// "20171210T211224Z-2be650b6d019eb54", as Prometheus names snapshots.
std::string SnapshotName() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  std::random_device random;
  const uint64_t suffix = (static_cast<uint64_t>(random()) << 32 | random()) & 0x7fffffffffffffffull;
  return fmt::format("{}-{:016x}", stamp, suffix);
}

void HandleSnapshot(storage::DB* db, const std::string& root, const http::Request& request, http::Response* response) {
  const Params params = http::RequestParams(request);
  bool skip_head = false;
  if (std::string_view text = Param(params, "skip_head"); !text.empty() && !ParseBool(text, &skip_head)) {
    return WriteError(ApiErrorType::kBadData,
                      "invalid parameter \"skip_head\": unable to parse boolean 'skip_head' argument: "
                      "strconv.ParseBool: parsing \"" +
                          std::string(text) + "\": invalid syntax",
                      response);
  }
  // The head is always included: its samples are in the database's
  // write-ahead log, which the copy carries (skip_head has no effect).
  const std::string name = SnapshotName();
  Status s = db->Snapshot(root + "/" + name);
  if (!s.ok()) return WriteError(ApiErrorType::kInternal, "create snapshot: " + s.ToString(), response);
  spdlog::info("admin: snapshot {}/{}", root, name);
  WriteSuccess(nlohmann::json{{"name", name}}, response);
}

}  // namespace

void RegisterAdminRoutes(http::Server* server, storage::DB* db, bool enabled, const std::string& snapshot_directory) {
  auto admin = [enabled](auto handler) {
    return [enabled, handler](const http::Request& request, http::Response* response) {
      if (!enabled) return WriteError(ApiErrorType::kUnavailable, "admin APIs disabled", response);
      handler(request, response);
    };
  };
  for (const char* method : {"POST", "PUT"}) {
    server->RouteBlocking(method, "/api/v1/admin/tsdb/delete_series",
                          admin([db](const http::Request& r, http::Response* w) { HandleDeleteSeries(db, r, w); }));
    server->RouteBlocking(method, "/api/v1/admin/tsdb/clean_tombstones",
                          admin([db](const http::Request&, http::Response* w) { HandleCleanTombstones(db, w); }));
    server->RouteBlocking(method, "/api/v1/admin/tsdb/snapshot",
                          admin([db, snapshot_directory](const http::Request& r, http::Response* w) {
                            HandleSnapshot(db, snapshot_directory, r, w);
                          }));
  }
}

}  // namespace tsvault::query
