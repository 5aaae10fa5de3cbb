#include "remote_write/forward/relabel.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <map>

#include <openssl/evp.h>

namespace tsvault::forward {

namespace {

// Prometheus 2.42's label name rule: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsNameChar(char c) { return c == '_' || std::isalnum(static_cast<unsigned char>(c)); }

// Prometheus' check for a labelmap replacement or templated target label:
// names and $-references only.
bool IsRelabelTarget(const std::string& text) {
  static const re2::RE2 pattern(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return re2::RE2::FullMatch(text, pattern);
}

// Go's md5-based hashmod: the last 8 bytes of the digest, big-endian.
uint64_t HashMod(const std::string& value, uint64_t modulus) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(value.data(), value.size(), digest, &length, EVP_md5(), nullptr);
  uint64_t sum = 0;
  for (unsigned int i = length - 8; i < length; ++i) sum = (sum << 8) | digest[i];
  return sum % modulus;
}

void SetLabel(Labels* labels, const std::string& name, const std::string& value) {
  auto it = std::find_if(labels->begin(), labels->end(), [&](const Label& l) { return l.name == name; });
  if (value.empty()) {
    if (it != labels->end()) labels->erase(it);
  } else if (it != labels->end()) {
    it->value = value;
  } else {
    labels->push_back(Label{name, value});
  }
}

std::string GetLabel(const Labels& labels, const std::string& name) {
  for (const Label& l : labels) {
    if (l.name == name) return l.value;
  }
  return "";
}

constexpr std::pair<const char*, RelabelAction> kActionNames[] = {
    {"replace", RelabelAction::kReplace},     {"keep", RelabelAction::kKeep},
    {"drop", RelabelAction::kDrop},           {"keepequal", RelabelAction::kKeepEqual},
    {"dropequal", RelabelAction::kDropEqual}, {"hashmod", RelabelAction::kHashMod},
    {"labelmap", RelabelAction::kLabelMap},   {"labeldrop", RelabelAction::kLabelDrop},
    {"labelkeep", RelabelAction::kLabelKeep}, {"lowercase", RelabelAction::kLowercase},
    {"uppercase", RelabelAction::kUppercase}};

}  // namespace

bool ParseRelabelAction(const std::string& name, RelabelAction* action) {
  // Prometheus accepts the action in any case.
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& [known, value] : kActionNames) {
    if (lower == known) {
      *action = value;
      return true;
    }
  }
  return false;
}

const char* RelabelActionName(RelabelAction action) {
  for (const auto& [name, value] : kActionNames) {
    if (value == action) return name;
  }
  return "replace";
}

std::string ExpandTemplate(const std::string& replacement, const std::vector<std::string>& groups,
                           const std::vector<std::string>& names) {
  std::string out;
  size_t i = 0;
  while (i < replacement.size()) {
    const size_t dollar = replacement.find('$', i);
    if (dollar == std::string::npos) {
      out.append(replacement, i, std::string::npos);
      break;
    }
    out.append(replacement, i, dollar - i);
    i = dollar + 1;
    if (i < replacement.size() && replacement[i] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    // A name: ${name} or the longest run of letters, digits and '_'.
    std::string name;
    size_t end = i;
    if (i < replacement.size() && replacement[i] == '{') {
      size_t close = i + 1;
      while (close < replacement.size() && IsNameChar(replacement[close])) ++close;
      if (close == i + 1 || close >= replacement.size() || replacement[close] != '}') {
        out.push_back('$');  // not a reference: the '$' stays, as in Go
        continue;
      }
      name = replacement.substr(i + 1, close - i - 1);
      end = close + 1;
    } else {
      while (end < replacement.size() && IsNameChar(replacement[end])) ++end;
      if (end == i) {
        out.push_back('$');
        continue;
      }
      name = replacement.substr(i, end - i);
    }
    i = end;
    const bool numeric = std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (numeric) {
      // Go parses the number; one too large for an int refers to no group.
      if (name.size() <= 9) {
        const size_t index = static_cast<size_t>(std::stoul(name));
        if (index < groups.size()) out += groups[index];
      }
      continue;
    }
    for (size_t g = 0; g < names.size(); ++g) {
      if (names[g] == name) {
        out += groups[g];
        break;
      }
    }
  }
  return out;
}

struct Relabeler::Rule {
  RelabelConfig config;
  std::unique_ptr<re2::RE2> regex;  // anchored
  std::vector<std::string> group_names;

  // Full match of `value`: the submatches in *groups (group 0 the whole).
  bool Match(const std::string& value, std::vector<std::string>* groups) const {
    const int count = regex->NumberOfCapturingGroups() + 1;
    std::vector<re2::StringPiece> pieces(static_cast<size_t>(count));
    if (!regex->Match(value, 0, value.size(), re2::RE2::ANCHOR_BOTH, pieces.data(), count)) return false;
    groups->resize(pieces.size());
    for (size_t i = 0; i < pieces.size(); ++i) (*groups)[i] = std::string(pieces[i].data(), pieces[i].size());
    return true;
  }
  bool Matches(const std::string& value) const { return re2::RE2::FullMatch(value, *regex); }
};

Relabeler::Relabeler(std::vector<std::unique_ptr<Rule>> rules) : rules_(std::move(rules)) {}
Relabeler::~Relabeler() = default;

Status Relabeler::Create(std::vector<RelabelConfig> configs, std::unique_ptr<Relabeler>* out) {
  std::vector<std::unique_ptr<Rule>> rules;
  for (size_t i = 0; i < configs.size(); ++i) {
    RelabelConfig& c = configs[i];
    auto fail = [&](const std::string& what) {
      return Status::InvalidArgument("write_relabel_configs[" + std::to_string(i) + "]: " + what);
    };
    auto rule = std::make_unique<Rule>();
    re2::RE2::Options options;
    options.set_log_errors(false);
    rule->regex = std::make_unique<re2::RE2>("^(?:" + c.regex + ")$", options);
    if (!rule->regex->ok()) return fail("invalid regex \"" + c.regex + "\": " + rule->regex->error());
    rule->group_names.assign(static_cast<size_t>(rule->regex->NumberOfCapturingGroups()) + 1, "");
    for (const auto& [name, index] : rule->regex->NamedCapturingGroups()) {
      rule->group_names[static_cast<size_t>(index)] = name;
    }
    const RelabelAction a = c.action;
    const bool needs_target = a == RelabelAction::kReplace || a == RelabelAction::kHashMod ||
                              a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
                              a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
    if (needs_target && c.target_label.empty()) return fail("relabel configuration requires 'target_label' value");
    if (a == RelabelAction::kReplace && c.target_label.find('$') == std::string::npos &&
        !IsValidLabelName(c.target_label)) {
      return fail("\"" + c.target_label + "\" is invalid 'target_label' for replace action");
    }
    if (a == RelabelAction::kReplace && c.target_label.find('$') != std::string::npos &&
        !IsRelabelTarget(c.target_label)) {
      return fail("\"" + c.target_label + "\" is invalid 'target_label' for replace action");
    }
    if ((a == RelabelAction::kLowercase || a == RelabelAction::kUppercase || a == RelabelAction::kHashMod ||
         a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual) &&
        !IsValidLabelName(c.target_label)) {
      return fail("\"" + c.target_label + "\" is invalid 'target_label'");
    }
    if (a == RelabelAction::kHashMod && c.modulus == 0) return fail("relabel configuration for hashmod requires non-zero modulus");
    if (a == RelabelAction::kLabelMap && !IsRelabelTarget(c.replacement)) {
      return fail("\"" + c.replacement + "\" is invalid 'replacement' for labelmap action");
    }
    if ((a == RelabelAction::kLabelDrop || a == RelabelAction::kLabelKeep) &&
        (c.has_source_labels || c.has_target_label || c.has_modulus || c.has_separator || c.has_replacement)) {
      return fail("labeldrop and labelkeep actions require only 'regex', and no other fields");
    }
    if ((a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual) &&
        (c.has_modulus || c.has_separator || c.has_replacement || c.regex != "(.*)")) {
      return fail("keepequal and dropequal actions require only 'source_labels' and 'target_label', and no other fields");
    }
    rule->config = std::move(c);
    rules.push_back(std::move(rule));
  }
  out->reset(new Relabeler(std::move(rules)));
  return Status::OK();
}

bool Relabeler::Apply(Labels* labels) const {
  std::vector<std::string> groups;
  for (const auto& rule_ptr : rules_) {
    const Rule& rule = *rule_ptr;
    const RelabelConfig& c = rule.config;
    std::string value;
    for (size_t i = 0; i < c.source_labels.size(); ++i) {
      if (i > 0) value += c.separator;
      value += GetLabel(*labels, c.source_labels[i]);
    }
    switch (c.action) {
      case RelabelAction::kDrop:
        if (rule.Matches(value)) return false;
        break;
      case RelabelAction::kKeep:
        if (!rule.Matches(value)) return false;
        break;
      case RelabelAction::kDropEqual:
        if (value == GetLabel(*labels, c.target_label)) return false;
        break;
      case RelabelAction::kKeepEqual:
        if (value != GetLabel(*labels, c.target_label)) return false;
        break;
      case RelabelAction::kReplace: {
        if (!rule.Match(value, &groups)) break;
        const std::string target = ExpandTemplate(c.target_label, groups, rule.group_names);
        if (!IsValidLabelName(target)) {
          SetLabel(labels, c.target_label, "");
          break;
        }
        const std::string result = ExpandTemplate(c.replacement, groups, rule.group_names);
        // As Prometheus 2.42: an empty result removes the label named by the
        // target_label as written, not as expanded.
        SetLabel(labels, result.empty() ? c.target_label : target, result);
        break;
      }
      case RelabelAction::kLowercase:
      case RelabelAction::kUppercase: {
        std::string changed = value;
        for (char& ch : changed) {
          ch = static_cast<char>(c.action == RelabelAction::kLowercase ? std::tolower(static_cast<unsigned char>(ch))
                                                                       : std::toupper(static_cast<unsigned char>(ch)));
        }
        SetLabel(labels, c.target_label, changed);
        break;
      }
      case RelabelAction::kHashMod:
        SetLabel(labels, c.target_label, std::to_string(HashMod(value, c.modulus)));
        break;
      case RelabelAction::kLabelMap: {
        Labels added;
        for (const Label& l : *labels) {
          if (rule.Match(l.name, &groups)) {
            added.push_back(Label{ExpandTemplate(c.replacement, groups, rule.group_names), l.value});
          }
        }
        for (const Label& l : added) SetLabel(labels, l.name, l.value);
        break;
      }
      case RelabelAction::kLabelDrop:
        labels->erase(std::remove_if(labels->begin(), labels->end(), [&](const Label& l) { return rule.Matches(l.name); }),
                      labels->end());
        break;
      case RelabelAction::kLabelKeep:
        labels->erase(std::remove_if(labels->begin(), labels->end(), [&](const Label& l) { return !rule.Matches(l.name); }),
                      labels->end());
        break;
    }
  }
  SortLabels(labels);
  return true;
}

}  // namespace tsvault::forward
