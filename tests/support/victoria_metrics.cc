#include "tests/support/victoria_metrics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "tests/support/ports.h"

namespace tsvault::testing {

Status StartVictoriaMetrics(const std::string& work_dir, Process* process, std::string* base_url) {
  int port = 0;
  Status s = PickFreePort(&port);
  if (!s.ok()) return s;
  *base_url = "http://127.0.0.1:" + std::to_string(port);
  const std::string log = work_dir + "/vm.log";
  s = process->Start({{"/usr/bin/victoria-metrics", "-storageDataPath=" + work_dir + "/vm",
                       "-httpListenAddr=127.0.0.1:" + std::to_string(port), "-retentionPeriod=100y",
                       "-search.disableCache", "-search.latencyOffset=0s"},
                      {},
                      log});
  if (!s.ok()) return s;
  return WaitForHttpOk(*base_url, "/health", process, std::chrono::seconds(30), log);
}

namespace {

}  // namespace

Status ReadVictoriaMetrics(const std::string& base_url, const std::string& selector, SampleMap* out) {
  out->clear();
  std::unique_ptr<http::Client> client;
  Status s = http::Client::Create(base_url, &client);
  if (!s.ok()) return s;
  http::Response response;
  if (!(s = client->Get("/internal/force_flush", &response)).ok()) return s;
  if (!(s = client->Get("/api/v1/export?match[]=" + QueryEscape(selector), &response)).ok()) return s;
  if (response.status != 200) return Status::IOError("export: HTTP " + std::to_string(response.status) + " " + response.body.substr(0, 300));
  std::istringstream lines(response.body);
  std::string line;
  // VictoriaMetrics writes +Inf, -Inf and NaN as bare words: quote them for the JSON parser.
  static const std::regex kBareWord(R"(([\[,])(\+Inf|-Inf|NaN)(?=[,\]]))");
  while (std::getline(lines, line)) {
    const nlohmann::json series = nlohmann::json::parse(std::regex_replace(line, kBareWord, "$1\"$2\""), nullptr, false);
    if (!series.is_object() || !series.contains("metric") || !series.contains("values")) {
      return Status::Corruption("export: bad line " + line.substr(0, 200));
    }
    Labels labels;
    for (const auto& [name, value] : series["metric"].items()) labels.push_back({name, value.get<std::string>()});
    std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
    auto& samples = (*out)[LabelsString(labels)];
    for (size_t i = 0; i < series["values"].size(); ++i) {
      const nlohmann::json& value = series["values"][i];
      // null: a staleness marker (VictoriaMetrics keeps Prometheus' stale NaN).
      samples.emplace_back(series["timestamps"][i].get<int64_t>(),
                           value.is_number()   ? value.get<double>()
                           : value.is_string() ? std::strtod(value.get<std::string>().c_str(), nullptr)
                                               : std::nan(""));
    }
    std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  return Status::OK();
}

}  // namespace tsvault::testing
