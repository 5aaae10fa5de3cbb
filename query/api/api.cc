#include "query/api/api.h"

#include <algorithm>
#include <set>

#include "model/rollup.h"
#include "query/api/admin_endpoints.h"
#include "query/api/match_parameter.h"
#include "query/api/params.h"
#include "query/api/query_endpoints.h"
#include "query/api/export_csv.h"
#include "query/api/remote_read.h"
#include "query/api/response.h"
#include "query/api/server_status.h"
#include "common/time_parse.h"

namespace tsvault::query {

namespace {

nlohmann::json LabelsToJson(const Labels& labels) {
  nlohmann::json object = nlohmann::json::object();
  for (const Label& label : labels) object[label.name] = label.value;
  return object;
}

}  // namespace

struct Api::Impl {
  Impl(storage::DB* db_in, ApiOptions options_in)
      : db(db_in), options(std::move(options_in)), engine(db_in, options.engine) {}

  storage::DB* db;
  ApiOptions options;
  Engine engine;

  // Prometheus' warning for an answer cut by `limit`.
  static constexpr const char* kTruncated = "results truncated due to limit";

  // The `limit` parameter (0: none given) bounded by ApiOptions::max_results.
  size_t EffectiveLimit(size_t requested) const {
    if (options.max_results == 0) return requested;
    return requested == 0 ? options.max_results : std::min(requested, options.max_results);
  }

  void HandleSeries(const http::Request& request, http::Response* response) {
    Params params = http::RequestParams(request);
    std::vector<std::vector<storage::LabelMatcher>> sets;
    int64_t start, end;
    size_t limit;
    Status s = ParseRange(params, &start, &end);
    if (s.ok()) s = ParseLimit(params, &limit);
    std::vector<std::string> selectors = ParamList(params, "match[]");
    if (s.ok() && selectors.empty()) s = Status::InvalidArgument("no match[] parameter provided");
    if (s.ok()) s = ParseMatchParameter(selectors, &sets);
    if (!s.ok()) return WriteStatusError(s, response);

    std::vector<Labels> all;
    for (const auto& matchers : sets) {
      std::vector<Labels> found;
      s = db->Series(matchers, start, end, &found);
      if (!s.ok()) return WriteStatusError(s, response);
      all.insert(all.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    }
    if (sets.size() > 1) {
      std::sort(all.begin(), all.end(), [](const Labels& a, const Labels& b) { return CompareLabels(a, b) < 0; });
      all.erase(std::unique(all.begin(), all.end()), all.end());
    }
    limit = EffectiveLimit(limit);
    std::vector<std::string> warnings;
    if (limit > 0 && all.size() > limit) {
      all.resize(limit);
      warnings.push_back(kTruncated);
    }
    nlohmann::json data = nlohmann::json::array();
    for (const Labels& labels : all) data.push_back(LabelsToJson(labels));
    WriteSuccess(data, response, warnings);
  }

  // Shared by /labels and /label/<name>/values: union over match[] sets.
  void HandleLabelQuery(const http::Request& request, const std::string* label_name,
                        http::Response* response) {
    Params params = http::RequestParams(request);
    std::vector<std::vector<storage::LabelMatcher>> sets;
    int64_t start, end;
    size_t limit;
    Status s = ParseRange(params, &start, &end);
    if (s.ok()) s = ParseLimit(params, &limit);
    if (s.ok()) s = ParseMatchParameter(ParamList(params, "match[]"), &sets);
    if (!s.ok()) return WriteStatusError(s, response);
    if (sets.empty()) sets.emplace_back();
    std::set<std::string> merged;
    for (const auto& matchers : sets) {
      std::vector<std::string> found;
      s = label_name ? db->LabelValues(*label_name, matchers, start, end, &found)
                     : db->LabelNames(matchers, start, end, &found);
      if (!s.ok()) return WriteStatusError(s, response);
      merged.insert(found.begin(), found.end());
    }
    limit = EffectiveLimit(limit);
    std::vector<std::string> warnings;
    nlohmann::json data = nlohmann::json::array();
    for (const std::string& value : merged) {
      if (limit > 0 && data.size() >= limit) {
        warnings.push_back(kTruncated);
        break;
      }
      data.push_back(value);
    }
    WriteSuccess(data, response, warnings);
  }

  void HandleLabelValues(const http::Request& request, http::Response* response) {
    // Path: /api/v1/label/<name>/values
    constexpr std::string_view kPrefix = "/api/v1/label/";
    constexpr std::string_view kSuffix = "/values";
    std::string_view path = request.path;
    if (path.size() <= kPrefix.size() + kSuffix.size() || path.substr(0, kPrefix.size()) != kPrefix ||
        path.substr(path.size() - kSuffix.size()) != kSuffix) {
      response->status = 404;
      response->body = "404 page not found\n";
      return;
    }
    std::string name(path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size()));
    if (name.empty() || name.find('/') != std::string::npos) {
      return WriteError(ApiErrorType::kBadData, "invalid label name: \"" + name + "\"", response);
    }
    HandleLabelQuery(request, &name, response);
  }

  void HandleMetadata(const http::Request& request, http::Response* response) {
    Params params = http::RequestParams(request);
    size_t limit;
    Status s = ParseLimit(params, &limit);
    if (!s.ok()) return WriteStatusError(s, response);
    std::vector<storage::MetricMetadata> metadata;
    s = db->Metadata(std::string(Param(params, "metric")), &metadata);
    if (!s.ok()) return WriteStatusError(s, response);
    nlohmann::json data = nlohmann::json::object();
    for (const auto& m : metadata) {
      if (limit > 0 && data.size() >= limit) break;
      data[m.metric_family_name] = nlohmann::json::array(
          {{{"type", storage::MetricTypeName(m.type)}, {"help", m.help}, {"unit", m.unit}}});
    }
    WriteSuccess(data, response);
  }

  void HandleBuildInfo(const http::Request&, http::Response* response) {
    WriteSuccess({{"version", options.version},
                  {"revision", options.revision},
                  {"branch", "main"},
                  {"buildUser", "tsvault"},
                  {"buildDate", options.build_date},
                  {"goVersion", "none (C++20)"}},
                 response);
  }

  void HandleTsdbStatus(const http::Request& request, http::Response* response) {
    Params params = http::RequestParams(request);
    size_t limit = 10;
    if (auto v = Param(params, "limit"); !v.empty()) {
      Status s = ParseLimit(params, &limit);
      if (!s.ok() || limit == 0) {
        return WriteError(ApiErrorType::kBadData, "limit must be a positive number", response);
      }
    }
    storage::DBStats stats = db->Stats();
    storage::CardinalityStats cardinality = db->Cardinality(limit, /*all_series=*/false);
    std::vector<storage::ResolutionSummary> resolutions;
    if (Status s = db->Inspect(&resolutions); !s.ok()) return WriteStatusError(s, response);
    nlohmann::json by_resolution = nlohmann::json::array();
    for (const storage::ResolutionSummary& r : resolutions) {
      const bool raw = r.resolution_ms == 0;
      nlohmann::json entry = {{"resolution", model::ResolutionName(r.resolution_ms)},
                              {"numSeries", r.series},
                              {"numChunks", r.chunks},
                              {raw ? "numSamples" : "numWindows", r.points},
                              {"bytes", r.bytes}};
      if (r.chunks > 0) {
        entry["minTime"] = r.min_time_ms;
        entry["maxTime"] = r.max_time_ms;
      }
      if (!raw && r.sealed_until_ms != INT64_MIN) entry["sealedUntil"] = r.sealed_until_ms;
      if (r.retention_cutoff_ms != INT64_MIN) entry["droppedBefore"] = r.retention_cutoff_ms;
      by_resolution.push_back(std::move(entry));
    }
    auto pairs = [](const std::vector<std::pair<std::string, uint64_t>>& v) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& [name, value] : v) out.push_back({{"name", name}, {"value", value}});
      return out;
    };
    WriteSuccess({{"headStats",
                   {{"numSeries", stats.head_series},
                    {"numLabelPairs", 0},
                    {"chunkCount", 0},
                    {"minTime", stats.head_min_time_ms},
                    {"maxTime", stats.head_max_time_ms}}},
                  {"seriesCountByMetricName", pairs(cardinality.series_count_by_metric_name)},
                  {"labelValueCountByLabelName", pairs(cardinality.label_value_count_by_label_name)},
                  {"memoryInBytesByLabelName", nlohmann::json::array()},
                  {"seriesCountByLabelValuePair", pairs(cardinality.series_count_by_label_value_pair)},
                  // tsvault's own: what each resolution persists (the head is in headStats).
                  {"resolutions", std::move(by_resolution)}},
                 response);
  }
};

Api::Api(storage::DB* db, ApiOptions options) : impl_(new Impl(db, std::move(options))) {}
Api::~Api() = default;

void Api::Register(http::Server* server) {
  Impl* impl = impl_.get();
  auto bind = [impl](void (Impl::*method)(const http::Request&, http::Response*)) {
    return [impl, method](const http::Request& request, http::Response* response) {
      (impl->*method)(request, response);
    };
  };
  // Reads that may scan much of the index run on the server's blocking
  // pool, so they never hold an I/O thread that remote write needs.
  for (const char* method : {"GET", "POST"}) {
    server->RouteBlocking(method, "/api/v1/series", bind(&Impl::HandleSeries));
    server->RouteBlocking(method, "/api/v1/labels", [impl](const http::Request& r, http::Response* w) {
      impl->HandleLabelQuery(r, nullptr, w);
    });
  }
  server->RouteBlocking("GET", "/api/v1/label/*", bind(&Impl::HandleLabelValues));
  server->Route("GET", "/api/v1/metadata", bind(&Impl::HandleMetadata));
  server->Route("GET", "/api/v1/status/buildinfo", bind(&Impl::HandleBuildInfo));
  server->Route("GET", "/api/v1/status/tsdb", bind(&Impl::HandleTsdbStatus));
  RegisterQueryRoutes(server, impl->db, &impl->engine);
  RegisterAdminRoutes(server, impl->db, impl->options.enable_admin_api, impl->options.snapshot_directory);
  RegisterRemoteReadRoutes(server, impl->db, &impl->options);
  RegisterExportCsvRoutes(server, impl->db, &impl->engine);
  RegisterServerStatusRoutes(server, &impl->options);
}

}  // namespace tsvault::query
