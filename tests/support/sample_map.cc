#include "tests/support/sample_map.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "tests/support/ports.h"

namespace tsvault::testing {

namespace {

// Go's strconv.Quote for the label values the workload uses.
std::string GoQuote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}


std::string Round12(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.12g", value);
  return buffer;
}


}  // namespace

std::string LabelsString(const Labels& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += labels[i].name + "=" + GoQuote(labels[i].value);
  }
  return out + "}";
}


bool SameSampleValue(double a, double b, double relative) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b || std::fabs(a - b) <= relative * std::max(std::fabs(a), std::fabs(b));
}

Status ReadQueryApiSamples(const std::string& base_url, const std::string& selector, const std::string& range,
                           int64_t at_seconds, SampleMap* out) {
  out->clear();
  std::unique_ptr<http::Client> client;
  Status s = http::Client::Create(base_url, &client);
  if (!s.ok()) return s;
  http::Response response;
  s = client->Get("/api/v1/query?query=" + QueryEscape(selector + "[" + range + "]") + "&time=" +
                      std::to_string(at_seconds),
                  &response);
  if (!s.ok()) return s;
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (!body.is_object() || body.value("status", "") != "success") {
    return Status::IOError("query: HTTP " + std::to_string(response.status) + " " + response.body.substr(0, 300));
  }
  for (const auto& series : body["data"]["result"]) {
    Labels labels;
    for (const auto& [name, value] : series["metric"].items()) labels.push_back({name, value.get<std::string>()});
    std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
    auto& samples = (*out)[LabelsString(labels)];
    for (const auto& point : series["values"]) {
      samples.emplace_back(static_cast<int64_t>(std::llround(point[0].get<double>() * 1000)),
                           std::strtod(point[1].get<std::string>().c_str(), nullptr));
    }
  }
  return Status::OK();
}

// Compares two sample maps, values within `relative`; "" when equal.
std::string SampleMapDifference(const SampleMap& expected, const SampleMap& actual, bool ignore_nan, double relative) {
  auto strip = [ignore_nan](std::vector<std::pair<int64_t, double>> samples) {
    if (ignore_nan) std::erase_if(samples, [](const auto& s) { return std::isnan(s.second); });
    return samples;
  };
  size_t compared = 0;
  for (const auto& [series, raw] : expected) {
    const auto samples = strip(raw);
    if (samples.empty()) continue;
    const auto found = actual.find(series);
    if (found == actual.end()) return "missing series " + series;
    const auto other = strip(found->second);
    if (other.size() != samples.size()) {
      std::string first_missing;
      for (const auto& sample : samples) {
        if (std::find_if(other.begin(), other.end(), [&](const auto& o) { return o.first == sample.first; }) ==
            other.end()) {
          first_missing = " (first missing at " + std::to_string(sample.first) + ")";
          break;
        }
      }
      return series + ": " + std::to_string(other.size()) + " samples, expected " + std::to_string(samples.size()) +
             first_missing;
    }
    for (size_t i = 0; i < samples.size(); ++i) {
      if (other[i].first != samples[i].first || !SameSampleValue(other[i].second, samples[i].second, relative)) {
        return series + ": sample " + std::to_string(i) + " is (" + std::to_string(other[i].first) + ", " +
               Round12(other[i].second) + "), expected (" + std::to_string(samples[i].first) + ", " +
               Round12(samples[i].second) + ")";
      }
    }
    ++compared;
  }
  for (const auto& [series, samples] : actual) {
    if (!strip(samples).empty() && !expected.count(series)) return "unexpected series " + series;
  }
  return compared > 0 ? "" : "nothing compared";
}

size_t CountSamples(const SampleMap& samples) {
  size_t total = 0;
  for (const auto& [series, list] : samples) total += list.size();
  return total;
}

}  // namespace tsvault::testing
