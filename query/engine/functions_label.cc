// Functions about labels and vector shape: label_replace (RE2, fully
// anchored, Go template expansion), label_join, absent, scalar, vector,
// sort and sort_desc.
#include <re2/re2.h>

#include <algorithm>
#include <cmath>

#include "query/engine/engine_internal.h"

namespace tsvault::query::eval {

namespace {

bool IsNameByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

// Go's regexp.Expand: $1, ${1}, $name, ${name}, $$; unknown or unmatched
// groups expand to nothing, a malformed reference is kept as "$".
std::string ExpandTemplate(const re2::RE2& regex, std::string_view tmpl, const std::vector<re2::StringPiece>& groups) {
  std::string out;
  while (!tmpl.empty()) {
    const size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view rest = tmpl;
    const bool brace = !rest.empty() && rest[0] == '{';
    if (brace) rest.remove_prefix(1);
    size_t i = 0;
    while (i < rest.size() && IsNameByte(static_cast<unsigned char>(rest[i]))) ++i;
    if (i == 0 || (brace && (i >= rest.size() || rest[i] != '}'))) {
      out.push_back('$');
      continue;
    }
    const std::string_view name = rest.substr(0, i);
    tmpl = rest.substr(brace ? i + 1 : i);
    int64_t number = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || number >= 100000000) {
        number = -1;
        break;
      }
      number = number * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') number = -1;
    if (number >= 0) {
      if (static_cast<size_t>(number) < groups.size() && groups[number].data() != nullptr) {
        out.append(groups[number].data(), groups[number].size());
      }
      continue;
    }
    const auto& named = regex.NamedCapturingGroups();
    auto it = named.find(std::string(name));
    if (it != named.end() && static_cast<size_t>(it->second) < groups.size() && groups[it->second].data() != nullptr) {
      out.append(groups[it->second].data(), groups[it->second].size());
    }
  }
  out.append(tmpl);
  return out;
}

void LabelReplace(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  const std::string dst = StringArgument(*in.call->args[1]);
  const std::string replacement = StringArgument(*in.call->args[2]);
  const std::string src = StringArgument(*in.call->args[3]);
  const std::string pattern = StringArgument(*in.call->args[4]);
  if (!enh.regex_checked) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto regex = std::make_shared<re2::RE2>("^(?:" + pattern + ")$", options);
    if (!regex->ok()) ThrowExecution("invalid regular expression in label_replace(): " + pattern);
    if (!IsValidLabelName(dst)) ThrowExecution("invalid destination label name in label_replace(): " + dst);
    enh.regex = std::move(regex);
    enh.regex_checked = true;
  }
  const re2::RE2& regex = *enh.regex;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(regex.NumberOfCapturingGroups()) + 1);
  for (const Sample& s : (*in.args)[0]) {
    MetricRef metric;
    auto cached = enh.label_cache.find(s.metric);
    if (cached != enh.label_cache.end()) {
      metric = cached->second;
    } else {
      const std::string_view value = GetLabelValue(s.metric->labels, src);
      if (!regex.Match(value, 0, value.size(), re2::RE2::ANCHOR_BOTH, groups.data(),
                       static_cast<int>(groups.size()))) {
        metric = s.metric;
      } else {
        // The expansion is at most the template plus the whole value per
        // reference: room for that is made first, so a template repeating
        // $1 thousands of times fails on the memory bound, not on the heap.
        const int64_t references = std::count(replacement.begin(), replacement.end(), '$');
        const int64_t bound = static_cast<int64_t>(replacement.size()) + references * static_cast<int64_t>(value.size());
        if (bound > 4096) enh.state->NeedBytes(bound);
        const std::string result = ExpandTemplate(regex, replacement, groups);
        Labels labels = s.metric->labels;
        SetLabel(&labels, dst, result);
        metric = enh.state->arena.Make(std::move(labels));
      }
      enh.label_cache.emplace(s.metric, metric);
    }
    out->push_back(Sample{metric, s.t, s.f, s.h});
  }
}

void LabelJoin(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  const std::string dst = StringArgument(*in.call->args[1]);
  const std::string separator = StringArgument(*in.call->args[2]);
  std::vector<std::string> sources;
  for (size_t i = 3; i < in.call->args.size(); ++i) {
    sources.push_back(StringArgument(*in.call->args[i]));
    if (!IsValidLabelName(sources.back())) {
      ThrowExecution("invalid source label name in label_join(): " + sources.back());
    }
  }
  if (!IsValidLabelName(dst)) ThrowExecution("invalid destination label name in label_join(): " + dst);
  for (const Sample& s : (*in.args)[0]) {
    MetricRef metric;
    auto cached = enh.label_cache.find(s.metric);
    if (cached != enh.label_cache.end()) {
      metric = cached->second;
    } else {
      int64_t joined_size = sources.empty() ? 0 : static_cast<int64_t>(separator.size() * (sources.size() - 1));
      for (const std::string& source : sources) {
        joined_size += static_cast<int64_t>(GetLabelValue(s.metric->labels, source).size());
      }
      if (joined_size > 4096) enh.state->NeedBytes(joined_size);
      std::string joined;
      joined.reserve(static_cast<size_t>(joined_size));
      for (size_t i = 0; i < sources.size(); ++i) {
        if (i > 0) joined += separator;
        joined += GetLabelValue(s.metric->labels, sources[i]);
      }
      Labels labels = s.metric->labels;
      SetLabel(&labels, dst, joined);
      metric = enh.state->arena.Make(std::move(labels));
      enh.label_cache.emplace(s.metric, metric);
    }
    out->push_back(Sample{metric, s.t, s.f, s.h});
  }
}

void Absent(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  if (!(*in.args)[0].empty()) return;
  out->push_back(Sample{enh.state->arena.Make(AbsentLabels(*in.call->args[0])), enh.ts, 1, nullptr});
}

void Scalar(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  const Vector& v = (*in.args)[0];
  const double value = v.size() == 1 ? v[0].f : NAN;
  out->push_back(Sample{enh.state->arena.Empty(), enh.ts, value, nullptr});
}

void VectorFunction(const FunctionInput& in, NodeHelper& enh, Vector* out) {
  out->push_back(Sample{enh.state->arena.Empty(), enh.ts, ScalarArgument(*in.args, 0), nullptr});
}

void Sort(const FunctionInput& in, NodeHelper&, Vector* out) {
  *out = (*in.args)[0];
  std::stable_sort(out->begin(), out->end(), [](const Sample& a, const Sample& b) {
    return !std::isnan(a.f) && (std::isnan(b.f) || a.f < b.f);
  });
}

void SortDesc(const FunctionInput& in, NodeHelper&, Vector* out) {
  *out = (*in.args)[0];
  std::stable_sort(out->begin(), out->end(), [](const Sample& a, const Sample& b) {
    return !std::isnan(a.f) && (std::isnan(b.f) || a.f > b.f);
  });
}

const FunctionEntry kLabelFunctions[] = {
    {"label_replace", LabelReplace},
    {"label_join", LabelJoin},
    {"absent", Absent},
    {"scalar", Scalar},
    {"vector", VectorFunction},
    {"sort", Sort},
    {"sort_desc", SortDesc},
};

}  // namespace

std::span<const FunctionEntry> LabelFunctions() { return kLabelFunctions; }

}  // namespace tsvault::query::eval
