#include "storage/mem_postings.h"

#include <algorithm>

namespace tsvault::storage {

namespace {
void InsertSorted(SeriesIds* ids, uint64_t id) {
  if (ids->empty() || ids->back() < id) {
    ids->push_back(id);
    return;
  }
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it == ids->end() || *it != id) ids->insert(it, id);
}
}  // namespace

void MemPostings::AddPosting(std::string_view name, std::string_view value, uint64_t series_id) {
  auto name_it = index_.find(name);
  if (name_it == index_.end()) name_it = index_.emplace(std::string(name), ValueMap{}).first;
  auto value_it = name_it->second.find(value);
  if (value_it == name_it->second.end()) {
    value_it = name_it->second.emplace(std::string(value), SeriesIds{}).first;
  }
  InsertSorted(&value_it->second, series_id);
}

void MemPostings::AddSeriesId(uint64_t series_id) { InsertSorted(&all_, series_id); }

void MemPostings::Add(uint64_t series_id, const Labels& labels) {
  for (const Label& label : labels) AddPosting(label.name, label.value, series_id);
  AddSeriesId(series_id);
}

const SeriesIds& MemPostings::Get(std::string_view name, std::string_view value) const {
  static const SeriesIds kEmpty;
  auto name_it = index_.find(name);
  if (name_it == index_.end()) return kEmpty;
  auto value_it = name_it->second.find(value);
  return value_it == name_it->second.end() ? kEmpty : value_it->second;
}

SeriesIds MemPostings::MatchingValues(const LabelMatcher& matcher, bool want_match) const {
  auto name_it = index_.find(std::string_view(matcher.name()));
  if (name_it == index_.end()) return {};
  if (matcher.type() == MatchType::kEqual && want_match) {
    return Get(matcher.name(), matcher.value());
  }
  std::vector<const SeriesIds*> lists;
  for (const auto& [value, ids] : name_it->second) {
    if (matcher.Matches(value) == want_match) lists.push_back(&ids);
  }
  return Union(lists);
}

SeriesIds MemPostings::Select(const std::vector<LabelMatcher>& matchers) const {
  // Positive sets narrow the result; matchers that accept "" can only remove
  // series (those having the label with a rejected value).
  bool have_positive = false;
  SeriesIds result;
  std::vector<const LabelMatcher*> negatives;
  for (const LabelMatcher& matcher : matchers) {
    if (matcher.MatchesEmpty()) {
      negatives.push_back(&matcher);
      continue;
    }
    SeriesIds ids = MatchingValues(matcher, /*want_match=*/true);
    result = have_positive ? Intersect(result, ids) : std::move(ids);
    have_positive = true;
    if (result.empty()) return result;
  }
  if (!have_positive) result = all_;
  for (const LabelMatcher* matcher : negatives) {
    SeriesIds rejected = MatchingValues(*matcher, /*want_match=*/false);
    if (!rejected.empty()) result = Subtract(result, rejected);
    if (result.empty()) break;
  }
  return result;
}

std::vector<std::string> MemPostings::LabelNames() const {
  std::vector<std::string> names;
  names.reserve(index_.size());
  for (const auto& [name, values] : index_) names.push_back(name);
  return names;
}

std::vector<std::string> MemPostings::LabelValues(std::string_view name) const {
  std::vector<std::string> values;
  auto name_it = index_.find(name);
  if (name_it == index_.end()) return values;
  values.reserve(name_it->second.size());
  for (const auto& [value, ids] : name_it->second) values.push_back(value);
  return values;
}

std::vector<std::pair<std::string, uint64_t>> MemPostings::ValueCountsByName() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& [name, values] : index_) out.emplace_back(name, values.size());
  return out;
}

SeriesIds MemPostings::Intersect(const SeriesIds& a, const SeriesIds& b) {
  SeriesIds out;
  out.reserve(std::min(a.size(), b.size()));
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

SeriesIds MemPostings::Subtract(const SeriesIds& a, const SeriesIds& b) {
  SeriesIds out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

SeriesIds MemPostings::Union(const std::vector<const SeriesIds*>& lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return *lists[0];
  SeriesIds out;
  size_t total = 0;
  for (const SeriesIds* list : lists) total += list->size();
  out.reserve(total);
  for (const SeriesIds* list : lists) out.insert(out.end(), list->begin(), list->end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace tsvault::storage
