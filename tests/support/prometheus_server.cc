#include "tests/support/prometheus_server.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/ports.h"

namespace tsvault::testing {

PrometheusServer::PrometheusServer(PrometheusServerOptions options)
    : options_(std::move(options)), port_(options_.port) {
  if (port_ == 0) port_status_ = PickFreePort(&port_);
}

PrometheusServer::~PrometheusServer() { Kill(); }

std::string PrometheusServer::base_url() const {
  return (options_.web_config_yaml.find("tls_server_config") != std::string::npos ? "https://127.0.0.1:"
                                                                                  : "http://127.0.0.1:") +
         std::to_string(port_);
}

bool PrometheusServer::IsRunning() { return process_.IsAlive(); }

Status PrometheusServer::Start(const std::string& config_yaml) {
  if (!port_status_.ok()) return port_status_;
  if (options_.work_dir.empty()) return Status::InvalidArgument("PrometheusServerOptions needs work_dir");
  if (process_.IsAlive()) return Status::InvalidArgument("prometheus already running");
  const std::string config_path = options_.work_dir + "/prometheus.yml";
  {
    std::ofstream out(config_path, std::ios::trunc);
    out << config_yaml;
    if (!out) return Status::IOError("cannot write " + config_path);
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.work_dir + "/data", ec);
  if (ec) return Status::IOError("cannot create " + options_.work_dir + "/data: " + ec.message());

  ProcessOptions spawn;
  spawn.argv = {options_.binary,
                "--config.file=" + config_path,
                "--storage.tsdb.path=" + options_.work_dir + "/data",
                "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                "--log.level=info"};
  if (options_.enable_remote_write_receiver) spawn.argv.push_back("--web.enable-remote-write-receiver");
  if (!options_.web_config_yaml.empty()) {
    const std::string web_path = options_.work_dir + "/web.yml";
    std::ofstream out(web_path, std::ios::trunc);
    out << options_.web_config_yaml;
    if (!out) return Status::IOError("cannot write " + web_path);
    spawn.argv.push_back("--web.config.file=" + web_path);
  }
  spawn.argv.insert(spawn.argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  spawn.log_path = log_path();
  Status s = process_.Start(spawn);
  if (!s.ok()) return s;
  s = WaitForHttpOk(base_url(), "/-/ready", &process_, options_.ready_timeout, log_path());
  if (!s.ok()) {
    process_.Kill();
    // A port picked in the constructor can be taken before Prometheus binds
    // it (by any connection's local port meanwhile). Unless the
    // configuration names it, start again on a fresh one.
    const bool port_taken = LogTail().find("address already in use") != std::string::npos;
    if (port_taken && options_.port == 0 && !repicked_ &&
        config_yaml.find(":" + std::to_string(port_)) == std::string::npos) {
      repicked_ = true;
      port_status_ = PickFreePort(&port_);
      return Start(config_yaml);
    }
    return Status::Internal("prometheus did not become ready: " + s.message());
  }
  return Status::OK();
}

Status PrometheusServer::Stop(std::chrono::milliseconds timeout) {
  Status s = process_.Terminate(timeout);
  if (!s.ok() && !s.IsNotFound()) {
    return Status::Internal("prometheus stop: " + s.message() + "; log tail:\n" + LogTail());
  }
  return Status::OK();
}

void PrometheusServer::Kill() { process_.Kill(); }

namespace {

std::string FormatSeconds(double seconds) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(3);
  out << seconds;
  return out.str();
}

// GETs `target` and returns the "data" member of a success envelope.
Status GetApiData(http::Client* client, const std::string& target, nlohmann::json* data) {
  http::Response response;
  Status s = client->Get(target, &response);
  if (!s.ok()) return s;
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (response.status != 200 || body.is_discarded() || !body.is_object() || !body.contains("status") ||
      body["status"] != "success" || !body.contains("data")) {
    return Status::Internal("GET " + target + ": HTTP " + std::to_string(response.status) + ": " +
                            response.body.substr(0, 500));
  }
  *data = std::move(body["data"]);
  return Status::OK();
}

Status JsonToLabels(const nlohmann::json& object, Labels* labels) {
  if (!object.is_object()) return Status::Corruption("label set is not a JSON object");
  labels->clear();
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!it.value().is_string()) return Status::Corruption("label value is not a string");
    labels->push_back({it.key(), it.value().get<std::string>()});
  }
  SortLabels(labels);
  return Status::OK();
}

}  // namespace

Status ApiSeries(http::Client* client, const std::string& selector, std::optional<double> start,
                 std::optional<double> end, std::vector<Labels>* out) {
  std::string target = "/api/v1/series?match[]=" + QueryEscape(selector);
  if (start) target += "&start=" + FormatSeconds(*start);
  if (end) target += "&end=" + FormatSeconds(*end);
  nlohmann::json data;
  Status s = GetApiData(client, target, &data);
  if (!s.ok()) return s;
  if (!data.is_array()) return Status::Corruption("series data is not an array");
  out->clear();
  for (const auto& element : data) {
    Labels labels;
    s = JsonToLabels(element, &labels);
    if (!s.ok()) return s;
    out->push_back(std::move(labels));
  }
  return Status::OK();
}

Status ApiInstantQuery(http::Client* client, const std::string& promql, std::vector<VectorElement>* out) {
  nlohmann::json data;
  Status s = GetApiData(client, "/api/v1/query?query=" + QueryEscape(promql), &data);
  if (!s.ok()) return s;
  if (!data.is_object() || data.value("resultType", "") != "vector" || !data.contains("result") ||
      !data["result"].is_array()) {
    return Status::Corruption("query result is not a vector: " + data.dump().substr(0, 300));
  }
  out->clear();
  for (const auto& element : data["result"]) {
    VectorElement parsed;
    if (!element.is_object() || !element.contains("metric") || !element.contains("value") ||
        !element["value"].is_array() || element["value"].size() != 2 || !element["value"][1].is_string()) {
      return Status::Corruption("malformed vector element: " + element.dump().substr(0, 300));
    }
    s = JsonToLabels(element["metric"], &parsed.labels);
    if (!s.ok()) return s;
    parsed.value = std::strtod(element["value"][1].get<std::string>().c_str(), nullptr);
    out->push_back(std::move(parsed));
  }
  return Status::OK();
}

Status SumExposedMetric(const std::string& exposition, const std::string& name, double* sum) {
  std::istringstream lines(exposition);
  std::string line;
  bool found = false;
  *sum = 0;
  while (std::getline(lines, line)) {
    if (line.size() <= name.size() || line.compare(0, name.size(), name) != 0) continue;
    const char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    // The value follows the last '}' (labels may contain spaces) or the name.
    size_t value_start = next == '{' ? line.rfind('}') : name.size();
    if (value_start == std::string::npos) continue;
    std::istringstream rest(line.substr(value_start + (next == '{' ? 1 : 0)));
    double value;
    if (!(rest >> value)) continue;
    *sum += value;
    found = true;
  }
  return found ? Status::OK() : Status::NotFound("no sample of " + name + " in the exposition");
}

}  // namespace tsvault::testing
