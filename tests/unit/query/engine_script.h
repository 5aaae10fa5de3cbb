// A small runner for PromQL test scripts in the style of Prometheus'
// promql/testdata/*.test files (our own cases live in testdata/*.test):
//
//   # comment
//   load 5m
//     http_requests{job="api", instance="0"}  0+10x10
//     other_metric                            1 _ 3 stale 5 1x3 NaN Inf
//   clear
//   eval instant at 50m sum by (job) (http_requests)
//     {job="api"} 100
//   eval_ordered instant at 50m sort(http_requests)
//     ...
//   eval_fail instant at 50m <expr>
//     error <substring of the expected message>
//   eval range from 0 to 10m step 5m <expr>
//     {labels} 1 _ 3
//
// Values: numbers, NaN, Inf/-Inf, `_` (no sample), `stale` (staleness
// marker), `a+bxn` / `a-bxn` (n+1 values from a in steps of b), `axn`
// (a repeated n+1 times), `_xn` (n+1 gaps). An expected scalar result is a
// line holding only a number. Instant results compare as sets unless
// eval_ordered; values compare with Prometheus' relative epsilon 1e-6.
#pragma once

#include <bit>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "query/engine/engine.h"
#include "query/promql/parser.h"
#include "common/time_parse.h"
#include "storage/db.h"
#include "tests/support/temp_dir.h"

namespace tsvault::query::script {

struct ParsedValue {
  bool missing = false;
  bool stale = false;
  double value = 0;
};

inline bool ParseNumber(const std::string& text, double* out) {
  if (text == "NaN") {
    *out = NAN;
    return true;
  }
  if (text == "Inf" || text == "+Inf") {
    *out = INFINITY;
    return true;
  }
  if (text == "-Inf") {
    *out = -INFINITY;
    return true;
  }
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size();
}

// Expands one value item ("1", "_", "stale", "0+10x5", "1x3", "_x2").
inline bool ExpandItem(const std::string& item, std::vector<ParsedValue>* out) {
  if (item == "_") {
    out->push_back({true, false, 0});
    return true;
  }
  if (item == "stale") {
    out->push_back({false, true, 0});
    return true;
  }
  const size_t x = item.rfind('x');
  if (x != std::string::npos && x > 0 && x + 1 < item.size() && item.find_first_not_of("0123456789", x + 1) == std::string::npos) {
    const int count = std::stoi(item.substr(x + 1));
    const std::string head = item.substr(0, x);
    if (head == "_") {
      for (int i = 0; i <= count; ++i) out->push_back({true, false, 0});
      return true;
    }
    // Find the operator separating start and increment (not a leading sign
    // or an exponent sign).
    size_t op = std::string::npos;
    for (size_t i = 1; i < head.size(); ++i) {
      if ((head[i] == '+' || head[i] == '-') && head[i - 1] != 'e' && head[i - 1] != 'E') op = i;
    }
    double start, step = 0;
    if (op == std::string::npos) {
      if (!ParseNumber(head, &start)) return false;
    } else {
      if (!ParseNumber(head.substr(0, op), &start) || !ParseNumber(head.substr(op + 1), &step)) return false;
      if (head[op] == '-') step = -step;
    }
    for (int i = 0; i <= count; ++i) out->push_back({false, false, start + step * i});
    return true;
  }
  double v;
  if (!ParseNumber(item, &v)) return false;
  out->push_back({false, false, v});
  return true;
}

// Splits "name{a=\"b\"} 1 2 3" into the selector text and the value items.
inline void SplitSeriesLine(const std::string& line, std::string* selector, std::vector<std::string>* items) {
  size_t brace_end = std::string::npos;
  const size_t open = line.find('{');
  const size_t first_space = line.find_first_of(" \t");
  if (open != std::string::npos && (first_space == std::string::npos || open < first_space)) {
    bool in_string = false;
    for (size_t i = open; i < line.size(); ++i) {
      if (line[i] == '\\' && in_string) {
        ++i;
        continue;
      }
      if (line[i] == '"') in_string = !in_string;
      if (line[i] == '}' && !in_string) {
        brace_end = i + 1;
        break;
      }
    }
  } else {
    brace_end = first_space == std::string::npos ? line.size() : first_space;
  }
  *selector = line.substr(0, brace_end);
  std::istringstream rest(line.substr(std::min(brace_end, line.size())));
  std::string item;
  while (rest >> item) items->push_back(item);
}

inline bool ParseLabels(const std::string& selector, Labels* labels) {
  labels->clear();
  if (selector == "{}") return true;
  std::vector<storage::LabelMatcher> matchers;
  if (!ParseMetricSelector(selector, &matchers).ok()) return false;
  for (const auto& m : matchers) {
    if (m.type() != storage::MatchType::kEqual) return false;
    labels->push_back(Label{m.name(), m.value()});
  }
  SortLabels(labels);
  return true;
}

inline bool ParseTime(const std::string& text, int64_t* ms) {
  if (text.find_first_not_of("-0123456789") == std::string::npos) {
    *ms = std::stoll(text) * 1000;
    return true;
  }
  return ParsePromDuration(text, ms).ok();
}

inline bool AlmostEqual(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  const double min_normal = 2.2250738585072014e-308;
  const double epsilon = 0.000001;
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || diff < min_normal) return diff < epsilon * min_normal;
  return diff / (std::fabs(a) + std::fabs(b)) < epsilon;
}

inline std::string FormatValue(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// Runs one script; returns a description of every failed command.
class Runner {
 public:
  explicit Runner(std::string name) : name_(std::move(name)) {}

  std::vector<std::string> Run(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    Reset();
    size_t i = 0;
    while (i < lines.size()) {
      const std::string line = Trim(lines[i]);
      const size_t line_number = i + 1;
      ++i;
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> block;
      while (i < lines.size() && !lines[i].empty() && (lines[i][0] == ' ' || lines[i][0] == '\t')) {
        const std::string body = Trim(lines[i]);
        if (!body.empty() && body[0] != '#') block.push_back(body);
        ++i;
      }
      std::string where = name_ + ":" + std::to_string(line_number) + ": " + line;
      if (line.rfind("load ", 0) == 0) {
        Load(line.substr(5), block, where);
      } else if (line == "clear") {
        Reset();
      } else if (line.rfind("eval", 0) == 0) {
        Eval(line, block, where);
      } else {
        failures_.push_back(where + ": unknown command");
      }
    }
    return failures_;
  }

 private:
  static std::string Trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    const size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
  }

  void Reset() {
    engine_.reset();
    db_.reset();
    dir_ = std::make_unique<testing::TempDir>();
    storage::Options options;
    options.data_dir = dir_->path();
    options.background_checkpoints = false;
    options.checkpoint_on_close = false;
    options.wal_sync = storage::WalSyncMode::kNone;
    if (!storage::DB::Open(options, &db_).ok()) failures_.push_back(name_ + ": cannot open DB");
    engine_ = std::make_unique<Engine>(db_.get(), EngineOptions());
  }

  void Load(const std::string& interval_text, const std::vector<std::string>& block, const std::string& where) {
    int64_t interval;
    if (!ParseTime(interval_text, &interval)) return failures_.push_back(where + ": bad interval");
    storage::WriteInput input;
    for (const std::string& line : block) {
      std::string selector;
      std::vector<std::string> items;
      SplitSeriesLine(line, &selector, &items);
      storage::SeriesWrite write;
      if (!ParseLabels(selector, &write.labels)) return failures_.push_back(where + ": bad series " + line);
      std::vector<ParsedValue> values;
      for (const std::string& item : items) {
        if (!ExpandItem(item, &values)) return failures_.push_back(where + ": bad value " + item);
      }
      for (size_t k = 0; k < values.size(); ++k) {
        if (values[k].missing) continue;
        const double v = values[k].stale ? std::bit_cast<double>(storage::kStaleNaNBits) : values[k].value;
        write.samples.push_back({static_cast<int64_t>(k) * interval, v});
      }
      input.series.push_back(std::move(write));
    }
    storage::WriteResult result;
    Status s = db_->Append(input, &result);
    if (!s.ok() || result.samples_rejected > 0) failures_.push_back(where + ": append failed " + s.ToString());
  }

  void Eval(const std::string& line, const std::vector<std::string>& block, const std::string& where) {
    std::istringstream in(line);
    std::string command, kind;
    in >> command >> kind;
    const bool expect_fail = command == "eval_fail";
    const bool ordered = command == "eval_ordered";
    QueryResult result;
    Status status;
    std::string rest;
    int64_t start = 0, end = 0, step = 0;
    if (kind == "instant") {
      std::string at, time;
      in >> at >> time;
      if (at != "at" || !ParseTime(time, &start)) return failures_.push_back(where + ": bad eval line");
      std::getline(in, rest);
      status = engine_->InstantQuery(Trim(rest), start, &result);
    } else if (kind == "range") {
      std::string from, start_text, to, end_text, step_word, step_text;
      in >> from >> start_text >> to >> end_text >> step_word >> step_text;
      if (!ParseTime(start_text, &start) || !ParseTime(end_text, &end) || !ParseTime(step_text, &step)) {
        return failures_.push_back(where + ": bad eval range line");
      }
      std::getline(in, rest);
      status = engine_->RangeQuery(Trim(rest), start, end, step, &result);
    } else {
      return failures_.push_back(where + ": bad eval kind");
    }
    if (expect_fail) {
      if (status.ok()) return failures_.push_back(where + ": expected an error, got success");
      for (const std::string& b : block) {
        if (b.rfind("error ", 0) == 0 && status.message().find(b.substr(6)) == std::string::npos) {
          failures_.push_back(where + ": error \"" + status.message() + "\" does not contain \"" + b.substr(6) + "\"");
        }
      }
      return;
    }
    if (!status.ok()) return failures_.push_back(where + ": unexpected error " + status.ToString());
    if (kind == "range") return CheckRange(result, block, start, end, step, where);
    CheckInstant(result, block, ordered, where);
  }

  void CheckInstant(const QueryResult& result, const std::vector<std::string>& block, bool ordered,
                    const std::string& where) {
    if (result.type == ResultType::kScalar) {
      double expected;
      if (block.size() != 1 || !ParseNumber(block[0], &expected)) {
        return failures_.push_back(where + ": scalar result " + FormatValue(result.scalar.value) + " not expected");
      }
      if (!AlmostEqual(expected, result.scalar.value)) {
        failures_.push_back(where + ": expected scalar " + block[0] + ", got " + FormatValue(result.scalar.value));
      }
      return;
    }
    if (result.type != ResultType::kVector) return failures_.push_back(where + ": result is not a vector");
    std::vector<bool> used(result.vector.size(), false);
    for (size_t e = 0; e < block.size(); ++e) {
      std::string selector;
      std::vector<std::string> items;
      SplitSeriesLine(block[e], &selector, &items);
      Labels labels;
      double expected;
      if (!ParseLabels(selector, &labels) || items.size() != 1 || !ParseNumber(items[0], &expected)) {
        failures_.push_back(where + ": bad expectation " + block[e]);
        continue;
      }
      bool found = false;
      for (size_t r = 0; r < result.vector.size(); ++r) {
        if (used[r] || result.vector[r].labels != labels) continue;
        found = true;
        used[r] = true;
        if (ordered && r != e) failures_.push_back(where + ": " + block[e] + " at position " + std::to_string(r));
        if (result.vector[r].histogram) {
          failures_.push_back(where + ": " + block[e] + " is a histogram");
        } else if (!AlmostEqual(expected, result.vector[r].value)) {
          failures_.push_back(where + ": " + selector + " expected " + items[0] + ", got " +
                              FormatValue(result.vector[r].value));
        }
        break;
      }
      if (!found) failures_.push_back(where + ": missing " + block[e]);
    }
    for (size_t r = 0; r < result.vector.size(); ++r) {
      if (!used[r]) {
        failures_.push_back(where + ": unexpected " + LabelsToString(result.vector[r].labels) + " " +
                            FormatValue(result.vector[r].value));
      }
    }
  }

  void CheckRange(const QueryResult& result, const std::vector<std::string>& block, int64_t start, int64_t end,
                  int64_t step, const std::string& where) {
    std::vector<bool> used(result.matrix.size(), false);
    for (const std::string& line : block) {
      std::string selector;
      std::vector<std::string> items;
      SplitSeriesLine(line, &selector, &items);
      Labels labels;
      std::vector<ParsedValue> values;
      bool ok = ParseLabels(selector, &labels);
      for (const std::string& item : items) ok = ok && ExpandItem(item, &values);
      if (!ok) {
        failures_.push_back(where + ": bad expectation " + line);
        continue;
      }
      const ResultSeries* series = nullptr;
      for (size_t r = 0; r < result.matrix.size(); ++r) {
        if (!used[r] && result.matrix[r].labels == labels) {
          used[r] = true;
          series = &result.matrix[r];
          break;
        }
      }
      if (series == nullptr) {
        failures_.push_back(where + ": missing series " + selector);
        continue;
      }
      std::vector<FloatPoint> expected;
      for (size_t k = 0; k < values.size(); ++k) {
        const int64_t t = start + static_cast<int64_t>(k) * step;
        if (t > end) break;
        if (!values[k].missing) expected.push_back({t, values[k].value});
      }
      bool same = expected.size() == series->floats.size();
      for (size_t k = 0; same && k < expected.size(); ++k) {
        same = expected[k].timestamp_ms == series->floats[k].timestamp_ms &&
               AlmostEqual(expected[k].value, series->floats[k].value);
      }
      if (!same) {
        std::string got;
        for (const FloatPoint& p : series->floats) {
          got.append(" ").append(std::to_string(p.timestamp_ms / 1000)).append("s:").append(FormatValue(p.value));
        }
        failures_.push_back(where + ": series " + selector + " differs, got" + got);
      }
    }
    for (size_t r = 0; r < result.matrix.size(); ++r) {
      if (!used[r]) failures_.push_back(where + ": unexpected series " + LabelsToString(result.matrix[r].labels));
    }
  }

  std::string name_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<storage::DB> db_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::string> failures_;
};

}  // namespace tsvault::query::script
