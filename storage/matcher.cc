#include "storage/matcher.h"

#include <re2/re2.h>

namespace tsvault::storage {

Status LabelMatcher::Create(MatchType type, std::string_view name, std::string_view value,
                            LabelMatcher* out) {
  LabelMatcher m;
  m.type_ = type;
  m.name_ = std::string(name);
  m.value_ = std::string(value);
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(true);  // Prometheus compiles with (?s)
    auto regex = std::make_shared<const RE2>("^(?:" + m.value_ + ")$", options);
    if (!regex->ok()) {
      return Status::InvalidArgument("invalid regular expression \"" + m.value_ +
                                     "\": " + regex->error());
    }
    m.regex_ = std::move(regex);
  }
  m.matches_empty_ = m.Matches("");
  *out = std::move(m);
  return Status::OK();
}

bool LabelMatcher::Matches(std::string_view label_value) const {
  switch (type_) {
    case MatchType::kEqual: return label_value == value_;
    case MatchType::kNotEqual: return label_value != value_;
    case MatchType::kRegexMatch: return RE2::FullMatch(label_value, *regex_);
    case MatchType::kRegexNoMatch: return !RE2::FullMatch(label_value, *regex_);
  }
  return false;
}

const char* LabelMatcher::OperatorString() const {
  switch (type_) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "?";
}

std::string LabelMatcher::ToString() const {
  std::string out = name_;
  out += OperatorString();
  out += '"';
  for (char c : value_) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace tsvault::storage
