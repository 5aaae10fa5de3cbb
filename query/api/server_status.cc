#include "query/api/server_status.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/time_parse.h"
#include "query/api/params.h"
#include "query/api/response.h"

namespace tsvault::query {

namespace {

// Go's time.RFC3339Nano in UTC, as Prometheus writes its times:
// "2026-12-07T22:03:32.622Z" (trailing zeros of the fraction dropped).
std::string Rfc3339(int64_t unix_ms) {
  std::string out = FormatRfc3339(unix_ms);  // to the second, ending in 'Z'
  if (const int64_t millis = unix_ms % 1000; millis != 0) {
    std::string fraction = fmt::format(".{:03d}", millis);
    while (fraction.back() == '0') fraction.pop_back();
    out.insert(out.size() - 1, fraction);
  }
  return out;
}

// The process' threads (Linux /proc/self/status), for "goroutineCount".
int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

void HandleRules(const http::Request& request, http::Response* response) {
  const Params params = http::RequestParams(request);
  std::string type(Param(params, "type"));
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!type.empty() && type != "alert" && type != "record") {
    return WriteError(ApiErrorType::kBadData, "invalid parameter \"type\": not supported value \"" + type + "\"",
                      response);
  }
  WriteSuccess({{"groups", nlohmann::json::array()}}, response);
}

void HandleRuntimeInfo(const ApiOptions& options, http::Response* response) {
  bool reload_success = true;
  int64_t reload_ms = options.start_time_ms;
  if (options.config_reload_state) options.config_reload_state(&reload_success, &reload_ms);
  char cwd[4096];
  const char* directory = getcwd(cwd, sizeof(cwd));
  WriteSuccess({{"startTime", Rfc3339(options.start_time_ms)},
                {"CWD", directory != nullptr ? directory : ""},
                {"reloadConfigSuccess", reload_success},
                {"lastConfigTime", Rfc3339(reload_ms / 1000 * 1000)},
                {"corruptionCount", 0},
                {"goroutineCount", ThreadCount()},
                {"GOMAXPROCS", static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))},
                {"GOGC", ""},
                {"GODEBUG", ""},
                {"storageRetention", options.storage_retention}},
               response);
}

}  // namespace

void RegisterServerStatusRoutes(http::Server* server, const ApiOptions* options) {
  auto constant = [](nlohmann::json data) {
    return [data = std::move(data)](const http::Request&, http::Response* response) { WriteSuccess(data, response); };
  };
  server->Route("GET", "/api/v1/rules", HandleRules);
  server->Route("GET", "/api/v1/alerts", constant({{"alerts", nlohmann::json::array()}}));
  server->Route("GET", "/api/v1/targets",
                constant({{"activeTargets", nlohmann::json::array()}, {"droppedTargets", nlohmann::json::array()}}));
  server->Route("GET", "/api/v1/targets/metadata", constant(nlohmann::json::array()));
  server->Route("GET", "/api/v1/alertmanagers", constant({{"activeAlertmanagers", nlohmann::json::array()},
                                                          {"droppedAlertmanagers", nlohmann::json::array()}}));
  // Replayed at open, before the port opens: always complete when asked.
  server->Route("GET", "/api/v1/status/walreplay", constant({{"min", 0}, {"max", 0}, {"current", 0}}));
  server->Route("GET", "/api/v1/status/config", [options](const http::Request&, http::Response* response) {
    WriteSuccess({{"yaml", options->config_yaml}}, response);
  });
  server->Route("GET", "/api/v1/status/flags", [options](const http::Request&, http::Response* response) {
    nlohmann::json flags = nlohmann::json::object();
    for (const auto& [name, value] : options->flags) flags[name] = value;
    WriteSuccess(flags, response);
  });
  server->Route("GET", "/api/v1/status/runtimeinfo", [options](const http::Request&, http::Response* response) {
    HandleRuntimeInfo(*options, response);
  });
}

}  // namespace tsvault::query
