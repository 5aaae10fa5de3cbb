// Handlers of /api/v1/query, /api/v1/query_range, /api/v1/format_query and
// /api/v1/query_exemplars (Prometheus 2.42 web/api/v1/api.go semantics).
#include "query/api/query_endpoints.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "query/api/response.h"
#include "query/api/result_json.h"
#include "query/promql/prettifier.h"
#include "query/promql/parser.h"
#include "common/time_parse.h"
#include "model/rollup.h"

namespace tsvault::query {

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

// Go's Request.FormValue: the first value, POST form body before URL query.
class FormValues {
 public:
  explicit FormValues(const http::Request& request) {
    Params all = http::RequestParams(request);
    size_t query_count = 0;
    const size_t question = request.target.find('?');
    if (question != std::string::npos) {
      query_count = http::ParseFormEncoded(std::string_view(request.target).substr(question + 1)).size();
    }
    query_count = std::min(query_count, all.size());
    body_.assign(all.begin() + static_cast<std::ptrdiff_t>(query_count), all.end());
    query_.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(query_count));
  }

  std::string Get(std::string_view name) const {
    for (const auto* params : {&body_, &query_}) {
      for (const auto& [key, value] : *params) {
        if (key == name) return value;
      }
    }
    return {};
  }

 private:
  Params body_;
  Params query_;
};

void WriteInvalidParam(const std::string& name, const std::string& message, http::Response* response) {
  WriteError(ApiErrorType::kBadData, "invalid parameter \"" + name + "\": " + message, response);
}

// {"status":"success","data":<data>} plus, when there are any, Prometheus'
// "warnings" (why the answer may be partial or approximate).
void WriteRawSuccess(const std::string& data, const std::vector<std::string>& warnings, http::Response* response) {
  response->status = 200;
  response->SetHeader("Content-Type", "application/json");
  response->body.clear();
  response->body.reserve(data.size() + 32);
  response->body.append("{\"status\":\"success\",\"data\":");
  response->body.append(data);
  if (!warnings.empty()) {
    response->body.append(",\"warnings\":");
    response->body.append(nlohmann::json(warnings).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  response->body.push_back('}');
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads the optional `timeout` parameter into the control; false after
// writing the error.
bool ParseTimeout(const FormValues& form, QueryControl* control, http::Response* response) {
  const std::string text = form.Get("timeout");
  if (text.empty()) return true;
  int64_t ms;
  Status s = ParseDurationParam(text, &ms);
  if (!s.ok()) {
    WriteInvalidParam("timeout", s.message(), response);
    return false;
  }
  control->timeout = std::chrono::milliseconds(std::max<int64_t>(ms, 0));
  return true;
}

// Reads `max_source_resolution` (Thanos Querier's parameter): "auto" or
// absent (rollups where they answer exactly), "raw" or "0s", "5m", "1h",
// "1d". False after writing the error.
bool ParseMaxSourceResolution(const FormValues& form, QueryControl* control, http::Response* response) {
  const std::string text = form.Get("max_source_resolution");
  if (text.empty() || text == "auto") return true;
  if (text == "raw" || text == "0s" || text == "0") {
    control->max_source_resolution_ms = 0;
    return true;
  }
  int64_t ms = -1;
  ParsePromDuration(text, &ms);
  if (ms != model::kResolution5m && ms != model::kResolution1h && ms != model::kResolution1d) {
    WriteInvalidParam("max_source_resolution",
                      "\"" + text + "\" is not a resolution tsvault keeps: use auto, raw (or 0s), 5m, 1h or 1d",
                      response);
    return false;
  }
  control->max_source_resolution_ms = ms;
  return true;
}

// The X-Tsvault-Resolutions header: the resolutions that served the query,
// e.g. "raw,1h".
void SetResolutionsHeader(const QueryResult& result, http::Response* response) {
  std::string value;
  for (int64_t resolution : result.resolutions_used) {
    if (!value.empty()) value.push_back(',');
    value += model::ResolutionName(resolution);
  }
  if (!value.empty()) response->SetHeader("X-Tsvault-Resolutions", value);
}

void WriteQueryError(const Status& status, http::Response* response) {
  if (status.IsInvalidArgument()) return WriteInvalidParam("query", status.message(), response);
  WriteStatusError(status, response);
}

void HandleQuery(const Engine* engine, const http::Request& request, http::Response* response) {
  FormValues form(request);
  int64_t time_ms = NowMs();
  if (const std::string text = form.Get("time"); !text.empty()) {
    Status s = ParseTimeParam(text, &time_ms);
    if (!s.ok()) return WriteInvalidParam("time", s.message(), response);
  }
  QueryControl control;
  control.cancelled = request.cancelled;  // the client left, or the server is stopping
  if (!ParseTimeout(form, &control, response)) return;
  if (!ParseMaxSourceResolution(form, &control, response)) return;
  QueryResult result;
  Status s = engine->InstantQuery(form.Get("query"), time_ms, &result, control);
  if (!s.ok()) return WriteQueryError(s, response);
  std::string data;
  AppendJsonQueryData(result, &data);
  WriteRawSuccess(data, result.warnings, response);
  SetResolutionsHeader(result, response);
}

void HandleQueryRange(const Engine* engine, const http::Request& request, http::Response* response) {
  FormValues form(request);
  int64_t start, end, step;
  Status s = ParseTimeParam(form.Get("start"), &start);
  if (!s.ok()) return WriteInvalidParam("start", s.message(), response);
  s = ParseTimeParam(form.Get("end"), &end);
  if (!s.ok()) return WriteInvalidParam("end", s.message(), response);
  if (end < start) return WriteInvalidParam("end", "end timestamp must not be before start time", response);
  s = ParseDurationParam(form.Get("step"), &step);
  if (!s.ok()) return WriteInvalidParam("step", s.message(), response);
  if (step <= 0) {
    return WriteInvalidParam(
        "step", "zero or negative query resolution step widths are not accepted. Try a positive integer", response);
  }
  if ((end - start) / step > engine->options().max_points_per_series) {
    QueryResult unused;
    s = engine->RangeQuery("", start, end, step, &unused);
    return WriteError(ApiErrorType::kBadData, s.message(), response);
  }
  QueryControl control;
  control.cancelled = request.cancelled;  // the client left, or the server is stopping
  if (!ParseTimeout(form, &control, response)) return;
  if (!ParseMaxSourceResolution(form, &control, response)) return;
  QueryResult result;
  s = engine->RangeQuery(form.Get("query"), start, end, step, &result, control);
  if (!s.ok()) return WriteQueryError(s, response);
  SetResolutionsHeader(result, response);
  std::string data;
  AppendJsonQueryData(result, &data);
  WriteRawSuccess(data, result.warnings, response);
}

void HandleFormatQuery(const http::Request& request, http::Response* response) {
  FormValues form(request);
  std::unique_ptr<promql::Expr> expr;
  Status s = ParseExpr(form.Get("query"), &expr);
  if (!s.ok()) return WriteInvalidParam("query", s.message(), response);
  std::string data;
  AppendJsonString(PrettifyExpr(*expr), &data);
  WriteRawSuccess(data, {}, response);
}

void CollectSelectors(const promql::Expr& expr, std::vector<const promql::VectorSelector*>* out) {
  if (expr.kind == promql::ExprKind::kVectorSelector) out->push_back(&expr.As<promql::VectorSelector>());
  for (const promql::Expr* child : promql::Children(expr)) CollectSelectors(*child, out);
}

void HandleQueryExemplars(storage::DB* db, const http::Request& request, http::Response* response) {
  FormValues form(request);
  int64_t start = kMinTimeMs, end = kMaxTimeMs;
  if (const std::string text = form.Get("start"); !text.empty()) {
    Status s = ParseTimeParam(text, &start);
    if (!s.ok()) return WriteInvalidParam("start", s.message(), response);
  }
  if (const std::string text = form.Get("end"); !text.empty()) {
    Status s = ParseTimeParam(text, &end);
    if (!s.ok()) return WriteInvalidParam("end", s.message(), response);
  }
  if (end < start) {
    return WriteError(ApiErrorType::kBadData, "end timestamp must not be before start timestamp", response);
  }
  std::unique_ptr<promql::Expr> expr;
  Status s = ParseExpr(form.Get("query"), &expr);
  if (!s.ok()) return WriteError(ApiErrorType::kBadData, s.message(), response);
  std::vector<const promql::VectorSelector*> selectors;
  CollectSelectors(*expr, &selectors);
  if (selectors.empty()) return WriteRawSuccess("null", {}, response);
  std::map<Labels, std::vector<storage::Exemplar>> by_series;
  for (const promql::VectorSelector* selector : selectors) {
    std::vector<std::pair<Labels, std::vector<storage::Exemplar>>> found;
    s = db->Exemplars(selector->matchers, start, end, &found);
    if (!s.ok()) return WriteStatusError(s, response);
    for (auto& [labels, exemplars] : found) by_series.try_emplace(labels, std::move(exemplars));
  }
  std::string data = "[";
  bool first = true;
  for (const auto& [labels, exemplars] : by_series) {
    if (!first) data.push_back(',');
    first = false;
    data.append("{\"seriesLabels\":");
    AppendJsonLabels(labels, &data);
    data.append(",\"exemplars\":[");
    for (size_t i = 0; i < exemplars.size(); ++i) {
      if (i > 0) data.push_back(',');
      data.append("{\"labels\":");
      AppendJsonLabels(exemplars[i].labels, &data);
      data.append(",\"value\":");
      AppendJsonSampleValue(exemplars[i].value, &data);
      data.append(",\"timestamp\":");
      AppendJsonTimestamp(exemplars[i].timestamp_ms, &data);
      data.push_back('}');
    }
    data.append("]}");
  }
  data.push_back(']');
  WriteRawSuccess(data, {}, response);
}

}  // namespace

void RegisterQueryRoutes(http::Server* server, storage::DB* db, const Engine* engine) {
  for (const char* method : {"GET", "POST"}) {
    server->RouteBlocking(method, "/api/v1/query", [engine](const http::Request& request, http::Response* response) {
      HandleQuery(engine, request, response);
    });
    server->RouteBlocking(method, "/api/v1/query_range", [engine](const http::Request& request, http::Response* response) {
      HandleQueryRange(engine, request, response);
    });
    server->Route(method, "/api/v1/format_query", [](const http::Request& request, http::Response* response) {
      HandleFormatQuery(request, response);
    });
    server->RouteBlocking(method, "/api/v1/query_exemplars", [db](const http::Request& request, http::Response* response) {
      HandleQueryExemplars(db, request, response);
    });
  }
}

}  // namespace tsvault::query
