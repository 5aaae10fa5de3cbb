// write_relabel_configs as Prometheus 2.42 applies them; expected outputs
// are those of Prometheus' own relabel tests where they exist (hashmod's
// "976" and "734" come from its MD5-based implementation).
#include "remote_write/forward/relabel.h"

#include <gtest/gtest.h>

namespace tsvault::forward {
namespace {

Labels L(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  Labels out;
  for (const auto& [name, value] : pairs) out.push_back(Label{name, value});
  SortLabels(&out);
  return out;
}

RelabelConfig Rule(RelabelAction action, std::vector<std::string> sources, std::string regex, std::string target,
                   std::string replacement = "$1") {
  RelabelConfig rule;
  rule.action = action;
  rule.source_labels = std::move(sources);
  rule.has_source_labels = !rule.source_labels.empty();
  rule.regex = std::move(regex);
  rule.target_label = std::move(target);
  rule.has_target_label = !rule.target_label.empty();
  rule.replacement = std::move(replacement);
  return rule;
}

// Applies `rules` to `input`; nullopt when the series is dropped.
std::optional<Labels> Apply(std::vector<RelabelConfig> rules, Labels input) {
  std::unique_ptr<Relabeler> relabeler;
  Status s = Relabeler::Create(std::move(rules), &relabeler);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return std::nullopt;
  if (!relabeler->Apply(&input)) return std::nullopt;
  return input;
}

TEST(RelabelTest, ReplaceExpandsGroupsFromJoinedSources) {
  EXPECT_EQ(Apply({Rule(RelabelAction::kReplace, {"a"}, "f(.*)", "d", "ch${1}-ch${1}")}, L({{"a", "foo"}})),
            L({{"a", "foo"}, {"d", "choo-choo"}}));
  RelabelConfig joined = Rule(RelabelAction::kReplace, {"a", "b"}, "f(.*);(.*)r", "a", "b${1}${2}m");
  EXPECT_EQ(Apply({joined}, L({{"a", "foo"}, {"b", "bar"}, {"c", "baz"}})),
            L({{"a", "boobam"}, {"b", "bar"}, {"c", "baz"}}));
  // No match: nothing changes (the regex is anchored at both ends).
  EXPECT_EQ(Apply({Rule(RelabelAction::kReplace, {"a"}, "f", "b", "bar")}, L({{"a", "boo"}})), L({{"a", "boo"}}));
  // Named groups, and the target label expanded too.
  EXPECT_EQ(Apply({Rule(RelabelAction::kReplace, {"a"}, "(?P<first>f)(o+)", "x_${first}", "$2")}, L({{"a", "foo"}})),
            L({{"a", "foo"}, {"x_f", "oo"}}));
}

TEST(RelabelTest, ReplaceWithAnEmptyResultRemovesTheLabelAsWritten) {
  // Prometheus 2.42: target "$1" expands to "f", the replacement "$2" to "":
  // the label named "$1" (absent) is deleted, nothing else changes.
  EXPECT_EQ(Apply({Rule(RelabelAction::kReplace, {"a"}, "(f).*", "$1", "$2")}, L({{"a", "foo"}})), L({{"a", "foo"}}));
  EXPECT_EQ(Apply({Rule(RelabelAction::kReplace, {"a"}, "foo", "b", "")}, L({{"a", "foo"}, {"b", "x"}})),
            L({{"a", "foo"}}));
  // An expanded target that is not a valid name deletes the written one.
  EXPECT_EQ(Apply({Rule(RelabelAction::kReplace, {"a"}, "(.*)", "${1}", "v")}, L({{"a", "1x"}, {"${1}", "y"}})),
            L({{"a", "1x"}}));
}

TEST(RelabelTest, KeepAndDrop) {
  EXPECT_EQ(Apply({Rule(RelabelAction::kDrop, {"a"}, "f.*", "")}, L({{"a", "foo"}})), std::nullopt);
  EXPECT_EQ(Apply({Rule(RelabelAction::kDrop, {"a"}, "f", "")}, L({{"a", "foo"}})), L({{"a", "foo"}}));
  EXPECT_EQ(Apply({Rule(RelabelAction::kKeep, {"a"}, "f", "")}, L({{"a", "foo"}})), std::nullopt);
  EXPECT_EQ(Apply({Rule(RelabelAction::kKeep, {"a"}, "f.*", "")}, L({{"a", "foo"}})), L({{"a", "foo"}}));
  // A missing source label is the empty string.
  EXPECT_EQ(Apply({Rule(RelabelAction::kKeep, {"missing"}, "", "")}, L({{"a", "foo"}})), L({{"a", "foo"}}));
  RelabelConfig keepequal = Rule(RelabelAction::kKeepEqual, {"a"}, "(.*)", "b");
  keepequal.has_replacement = false;
  EXPECT_EQ(Apply({keepequal}, L({{"a", "x"}, {"b", "x"}})), L({{"a", "x"}, {"b", "x"}}));
  EXPECT_EQ(Apply({keepequal}, L({{"a", "x"}, {"b", "y"}})), std::nullopt);
}

TEST(RelabelTest, HashModMatchesPrometheus) {
  RelabelConfig rule = Rule(RelabelAction::kHashMod, {"c"}, "(.*)", "d");
  rule.modulus = 1000;
  EXPECT_EQ(Apply({rule}, L({{"a", "foo"}, {"b", "bar"}, {"c", "baz"}})),
            L({{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "976"}}));
  rule.source_labels = {"a"};
  rule.target_label = "b";
  EXPECT_EQ(Apply({rule}, L({{"a", "foo\nbar"}})), L({{"a", "foo\nbar"}, {"b", "734"}}));
}

TEST(RelabelTest, LabelMapLabelDropLabelKeepAndCase) {
  RelabelConfig map = Rule(RelabelAction::kLabelMap, {}, "(b.*)", "", "bar_${1}");
  EXPECT_EQ(Apply({map}, L({{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}})),
            L({{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}, {"bar_b1", "bar"}, {"bar_b2", "baz"}}));
  RelabelConfig drop = Rule(RelabelAction::kLabelDrop, {}, "b.*", "");
  drop.has_replacement = false;
  EXPECT_EQ(Apply({drop}, L({{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}})), L({{"a", "foo"}}));
  RelabelConfig keep = Rule(RelabelAction::kLabelKeep, {}, "b.*", "");
  keep.has_replacement = false;
  EXPECT_EQ(Apply({keep}, L({{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}})), L({{"b1", "bar"}, {"b2", "baz"}}));
  EXPECT_EQ(Apply({Rule(RelabelAction::kUppercase, {"a"}, "(.*)", "u")}, L({{"a", "Foo"}})),
            L({{"a", "Foo"}, {"u", "FOO"}}));
  EXPECT_EQ(Apply({Rule(RelabelAction::kLowercase, {"a"}, "(.*)", "a")}, L({{"a", "Foo"}})), L({{"a", "foo"}}));
}

TEST(RelabelTest, RulesRunInOrder) {
  // The seed team's example: keep the re-engagement families only, then
  // drop a noisy label.
  RelabelConfig keep = Rule(RelabelAction::kKeep, {"__name__"}, "reengagement_.*", "");
  RelabelConfig drop = Rule(RelabelAction::kLabelDrop, {}, "instance", "");
  drop.has_replacement = false;
  drop.has_source_labels = false;
  drop.source_labels.clear();
  EXPECT_EQ(Apply({keep, drop}, L({{"__name__", "reengagement_clicks_total"}, {"instance", "a:1"}, {"level", "2"}})),
            L({{"__name__", "reengagement_clicks_total"}, {"level", "2"}}));
  EXPECT_EQ(Apply({keep, drop}, L({{"__name__", "up"}, {"instance", "a:1"}})), std::nullopt);
}

TEST(RelabelTest, ExpandFollowsGo) {
  const std::vector<std::string> groups = {"foo", "f", "oo"};
  const std::vector<std::string> names = {"", "first", ""};
  EXPECT_EQ(ExpandTemplate("$1-$2", groups, names), "f-oo");
  EXPECT_EQ(ExpandTemplate("${1}x", groups, names), "fx");
  EXPECT_EQ(ExpandTemplate("$1x", groups, names), "");  // Go reads the name "1x": no such group
  EXPECT_EQ(ExpandTemplate("$first.${first}", groups, names), "f.f");
  EXPECT_EQ(ExpandTemplate("$$1 costs $", groups, names), "$1 costs $");
  EXPECT_EQ(ExpandTemplate("${unclosed", groups, names), "${unclosed");
  EXPECT_EQ(ExpandTemplate("$9", groups, names), "");
}

TEST(RelabelTest, InvalidRulesAreRefusedNamingTheRule) {
  std::unique_ptr<Relabeler> relabeler;
  auto create = [&](RelabelConfig rule) {
    return Relabeler::Create({Rule(RelabelAction::kKeep, {"a"}, ".*", ""), std::move(rule)}, &relabeler);
  };
  Status s = create(Rule(RelabelAction::kReplace, {"a"}, "(", "b"));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("write_relabel_configs[1]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("invalid regex"), std::string::npos) << s.message();
  EXPECT_TRUE(create(Rule(RelabelAction::kReplace, {"a"}, ".*", "")).IsInvalidArgument());
  EXPECT_TRUE(create(Rule(RelabelAction::kReplace, {"a"}, ".*", "1bad")).IsInvalidArgument());
  EXPECT_TRUE(create(Rule(RelabelAction::kHashMod, {"a"}, ".*", "b")).IsInvalidArgument());  // no modulus
  EXPECT_TRUE(create(Rule(RelabelAction::kLabelDrop, {"a"}, ".*", "")).IsInvalidArgument());  // extra field
  EXPECT_TRUE(create(Rule(RelabelAction::kLabelMap, {}, ".*", "", "-bad")).IsInvalidArgument());
  RelabelAction action;
  EXPECT_TRUE(ParseRelabelAction("LabelDrop", &action));
  EXPECT_EQ(action, RelabelAction::kLabelDrop);
  EXPECT_FALSE(ParseRelabelAction("delete", &action));
}

}  // namespace
}  // namespace tsvault::forward
