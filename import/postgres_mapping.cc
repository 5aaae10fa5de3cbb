// The YAML mapping of `tsvault import postgres` (docs/postgres-import.md).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "import/postgres_import.h"

namespace tsvault::import {

namespace {

// Thrown with the line and column of the node at fault, caught below.
struct MappingError {
  Status status;
};

[[noreturn]] void Fail(const YAML::Node& node, const std::string& message) {
  throw MappingError{Status::InvalidArgument("mapping line " + std::to_string(node.Mark().line + 1) + ", column " +
                                             std::to_string(node.Mark().column + 1) + ": " + message)};
}

void OnlyKeys(const YAML::Node& node, const char* what, std::initializer_list<const char*> allowed) {
  if (!node.IsMap()) Fail(node, std::string(what) + " must be a mapping of keys to values");
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* name) { return key == name; })) {
      std::string names;
      for (const char* name : allowed) names += std::string(names.empty() ? "" : ", ") + name;
      Fail(entry.first, "unknown key \"" + key + "\" in " + what + " (known: " + names + ")");
    }
  }
}

std::string Text(const YAML::Node& node, const char* what) {
  if (!node.IsScalar() || node.as<std::string>().empty()) Fail(node, std::string(what) + " must be a non-empty string");
  return node.as<std::string>();
}

bool IsName(const std::string& name, bool colons) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colons && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string LabelName(const YAML::Node& node) {
  const std::string name = Text(node, "a label name");
  if (!IsName(name, false) || name.rfind("__", 0) == 0) {
    Fail(node, "\"" + name + "\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)");
  }
  return name;
}

void ParseMapping(const YAML::Node& root, PostgresMapping* out) {
  OnlyKeys(root, "the mapping", {"schema", "table", "time", "labels", "constant_labels", "metrics"});
  if (root["schema"]) out->schema = Text(root["schema"], "schema");
  if (!root["table"]) Fail(root, "the mapping needs a table");
  out->table = Text(root["table"], "table");

  const YAML::Node time = root["time"];
  if (!time) Fail(root, "the mapping needs time: {column: ..., timezone: ...}");
  OnlyKeys(time, "time", {"column", "timezone"});
  if (!time["column"]) Fail(time, "time needs a column");
  out->time_column = Text(time["column"], "time.column");
  if (time["timezone"]) out->timezone = Text(time["timezone"], "time.timezone");

  std::set<std::string> label_names;
  if (const YAML::Node labels = root["labels"]) {
    if (!labels.IsMap()) Fail(labels, "labels must map label names to columns (level: level)");
    for (const auto& entry : labels) {
      const std::string name = LabelName(entry.first);
      if (!label_names.insert(name).second) Fail(entry.first, "label " + name + " is mapped twice");
      out->label_columns.emplace_back(name, Text(entry.second, "a label's column"));
    }
  }
  if (const YAML::Node constants = root["constant_labels"]) {
    if (!constants.IsMap()) Fail(constants, "constant_labels must map label names to values");
    for (const auto& entry : constants) {
      const std::string name = LabelName(entry.first);
      if (!label_names.insert(name).second) Fail(entry.first, "label " + name + " is mapped twice");
      out->constant_labels.push_back({name, Text(entry.second, "a constant label's value")});
    }
    std::sort(out->constant_labels.begin(), out->constant_labels.end());
  }

  const YAML::Node metrics = root["metrics"];
  if (!metrics || !metrics.IsSequence() || metrics.size() == 0) {
    Fail(metrics ? metrics : root, "metrics must be a list of {column, name, type}");
  }
  std::set<std::string> metric_names;
  for (const YAML::Node& metric : metrics) {
    OnlyKeys(metric, "a metric", {"column", "name", "type"});
    PostgresMetricMapping mapping;
    if (!metric["column"] || !metric["name"]) Fail(metric, "a metric needs a column and a name");
    mapping.column = Text(metric["column"], "a metric's column");
    mapping.metric = Text(metric["name"], "a metric's name");
    if (!IsName(mapping.metric, true)) {
      Fail(metric["name"], "\"" + mapping.metric + "\" is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
    }
    if (!metric_names.insert(mapping.metric).second) Fail(metric["name"], "metric " + mapping.metric + " is mapped twice");
    if (metric["type"]) {
      const std::string type = Text(metric["type"], "a metric's type");
      if (type == "gauge") {
        mapping.type = PostgresMetricType::kGauge;
      } else if (type == "counter") {
        mapping.type = PostgresMetricType::kCounter;
      } else {
        Fail(metric["type"], "type must be gauge (each row's value) or counter (the running total), not " + type);
      }
    }
    out->metrics.push_back(std::move(mapping));
  }
}

}  // namespace

Status ParsePostgresMapping(const std::string& yaml_text, PostgresMapping* out) {
  *out = PostgresMapping();
  try {
    ParseMapping(YAML::Load(yaml_text), out);
  } catch (const MappingError& error) {
    return error.status;
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument("mapping line " + std::to_string(error.mark.line + 1) + ", column " +
                                   std::to_string(error.mark.column + 1) + ": " + error.msg);
  }
  return Status::OK();
}

}  // namespace tsvault::import
