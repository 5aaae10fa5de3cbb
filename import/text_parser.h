// Internal to the import module: one line of the Prometheus text
// exposition format (0.0.4) or of OpenMetrics 1.0, as Prometheus' own
// parsers (model/textparse) read them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/labels.h"
#include "common/status.h"

namespace tsvault::import {

enum class TextDialect {
  kPrometheus,   // timestamps in integer milliseconds, optional
  kOpenMetrics,  // timestamps in float seconds; # EOF ends the input
};

// What a line holds.
struct TextLine {
  enum class Kind { kBlank, kComment, kHelp, kType, kUnit, kEof, kSample };
  Kind kind = Kind::kBlank;
  std::string family;  // kHelp, kType, kUnit: the metric family named
  std::string text;    // kHelp: the help (unescaped); kType: the type; kUnit: the unit
  Labels labels;       // kSample: __name__ first, then the labels as written
  double value = 0;
  bool has_timestamp = false;
  int64_t timestamp_ms = 0;
};

// Parses `line` (without its line break) into *out. Errors say the
// 1-based column and what is wrong ("column 12: expected '=' after the
// label name"). Exemplars (OpenMetrics, after " # ") are checked for
// syntax and left out.
Status ParseTextLine(std::string_view line, TextDialect dialect, TextLine* out);

}  // namespace tsvault::import
