// Label matchers (=, !=, =~, !~) with Prometheus semantics: regular
// expressions use RE2 syntax and are fully anchored.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace re2 {
class RE2;
}

namespace tsvault::storage {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// One matcher on one label. An absent label matches as the empty string,
// exactly as in Prometheus (so {foo=""} selects series without foo).
class LabelMatcher {
 public:
  // Builds a matcher; for regex types compiles `value` anchored as ^(?:value)$.
  // Returns InvalidArgument for a bad regex.
  static Status Create(MatchType type, std::string_view name, std::string_view value,
                       LabelMatcher* out);

  LabelMatcher() = default;

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // True when the label's value (empty if the label is absent) matches.
  bool Matches(std::string_view label_value) const;
  // True when this matcher accepts the empty string (selects label-less series).
  bool MatchesEmpty() const { return matches_empty_; }
  // The operator as written in PromQL: "=", "!=", "=~", "!~".
  const char* OperatorString() const;
  // name op "value", e.g. job=~"node.*".
  std::string ToString() const;

 private:
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> regex_;
  bool matches_empty_ = false;
};

}  // namespace tsvault::storage
