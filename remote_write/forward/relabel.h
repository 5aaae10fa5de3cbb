// Prometheus' relabeling (`write_relabel_configs`), as Prometheus 2.42 applies
// it to series before remote write: rules run in order on a label set and
// may rewrite it or drop the series.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/labels.h"
#include "common/status.h"

namespace tsvault::forward {

// The relabel actions of Prometheus 2.42.
enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// The action named `name` ("replace", "keep", ... as in Prometheus' YAML);
// false for an unknown name.
bool ParseRelabelAction(const std::string& name, RelabelAction* action);
// The action's name as Prometheus writes it ("labeldrop").
const char* RelabelActionName(RelabelAction action);

// One rule, with Prometheus' defaults.
struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string regex = "(.*)";  // as written; matched anchored at both ends
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
  // Which fields were given explicitly (Prometheus refuses some fields for
  // labeldrop/labelkeep).
  bool has_source_labels = false, has_separator = false, has_target_label = false, has_replacement = false,
       has_modulus = false;
};

// Compiled rules. Thread-safe once created.
class Relabeler {
 public:
  // Validates and compiles `rules` as Prometheus does at config load.
  // InvalidArgument naming the rule (0-based) and what is wrong: a regex
  // that does not compile, a missing or invalid target_label, hashmod
  // without a modulus, extra fields on labeldrop/labelkeep.
  static Status Create(std::vector<RelabelConfig> rules, std::unique_ptr<Relabeler>* out);

  // Applies the rules to *labels (canonical) in order. Returns false when a
  // rule drops the series; otherwise *labels is the result, canonical,
  // without labels whose value became empty.
  bool Apply(Labels* labels) const;

  ~Relabeler();

 private:
  struct Rule;
  explicit Relabeler(std::vector<std::unique_ptr<Rule>> rules);
  std::vector<std::unique_ptr<Rule>> rules_;
};

// Go's Regexp.Expand on a template: $1, ${1}, $name, ${name} and $$, with
// `groups` the submatches (group 0 the whole match) and `names` their
// names ("" when unnamed). Exposed for tests.
std::string ExpandTemplate(const std::string& replacement, const std::vector<std::string>& groups,
                           const std::vector<std::string>& names);

}  // namespace tsvault::forward
