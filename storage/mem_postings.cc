#include "storage/mem_postings.h"

#include <algorithm>
#include <span>

namespace tsvault::storage {

namespace {

using IdSpan = std::span<const uint64_t>;

// A multi-value selection whose lists hold this many times fewer ids than
// the current result is merged first and the result searched for its ids;
// otherwise the result is filtered against each list.
constexpr size_t kMergeFirstRatio = 8;

void InsertSorted(SeriesIds* ids, uint64_t id) {
  if (ids->empty() || ids->back() < id) {
    ids->push_back(id);
    return;
  }
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it == ids->end() || *it != id) ids->insert(it, id);
}

// The first index at or after `from` whose id is >= target (list.size() if
// none): steps of 1, 2, 4, ... from `from`, then a binary search in the last
// step. Cheap when the answer is near `from`, logarithmic when it is far.
size_t GallopTo(IdSpan list, size_t from, uint64_t target) {
  const size_t size = list.size();
  if (from >= size || list[from] >= target) return from;
  size_t below = from;  // list[below] < target
  size_t step = 1;
  size_t probe = from + 1;
  while (probe < size && list[probe] < target) {
    below = probe;
    step <<= 1;
    probe = from + step;
  }
  probe = std::min(probe, size);
  return static_cast<size_t>(
      std::lower_bound(list.begin() + static_cast<std::ptrdiff_t>(below + 1),
                       list.begin() + static_cast<std::ptrdiff_t>(probe), target) -
      list.begin());
}

// Calls on_common(i) for every index i of `a` (in increasing order) whose id
// is also in `b`. Whichever cursor is behind gallops to the other's id, so
// a run of ids absent from the other list (series ids are clustered: a
// metric's series are created together) and a much shorter other list both
// cost a logarithmic search instead of a step per id.
template <typename OnCommon>
void ForEachCommon(IdSpan a, IdSpan b, OnCommon&& on_common) {
  if (a.empty() || b.empty() || a.back() < b.front() || b.back() < a.front()) return;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      i = GallopTo(a, i + 1, b[j]);
    } else if (b[j] < a[i]) {
      j = GallopTo(b, j + 1, a[i]);
    } else {
      on_common(i);
      ++i;
      ++j;
    }
  }
}

// Keeps in `ids` only the ids also in `list`, in place.
void KeepCommon(SeriesIds* ids, IdSpan list) {
  size_t kept = 0;
  ForEachCommon(*ids, list, [&](size_t i) { (*ids)[kept++] = (*ids)[i]; });
  ids->resize(kept);
}

// Removes from `ids` the ids also in `list`, in place.
void RemoveCommon(SeriesIds* ids, IdSpan list) {
  size_t kept = 0, next = 0;
  ForEachCommon(*ids, list, [&](size_t i) {
    while (next < i) (*ids)[kept++] = (*ids)[next++];
    next = i + 1;
  });
  while (next < ids->size()) (*ids)[kept++] = (*ids)[next++];
  ids->resize(kept);
}

// Keeps in `ids` only the ids in at least one of `lists` (keep_members) or
// in none of them (!keep_members), in place.
void FilterByLists(SeriesIds* ids, const std::vector<const SeriesIds*>& lists, bool keep_members) {
  if (lists.size() == 1) {
    if (keep_members) {
      KeepCommon(ids, *lists[0]);
    } else {
      RemoveCommon(ids, *lists[0]);
    }
    return;
  }
  std::vector<uint8_t> member(ids->size(), 0);
  for (const SeriesIds* list : lists) {
    ForEachCommon(*ids, *list, [&](size_t i) { member[i] = 1; });
  }
  size_t kept = 0;
  for (size_t i = 0; i < ids->size(); ++i) {
    if ((member[i] != 0) == keep_members) (*ids)[kept++] = (*ids)[i];
  }
  ids->resize(kept);
}

// The intersection of non-empty `lists`, shortest first so every step
// walks the (shrinking) result and gallops in the longer list.
SeriesIds IntersectShortestFirst(std::vector<const SeriesIds*> lists) {
  std::sort(lists.begin(), lists.end(),
            [](const SeriesIds* a, const SeriesIds* b) { return a->size() < b->size(); });
  if (lists.size() == 1) return *lists[0];
  SeriesIds result = MemPostings::Intersect(*lists[0], *lists[1]);
  for (size_t i = 2; i < lists.size() && !result.empty(); ++i) KeepCommon(&result, *lists[i]);
  return result;
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

namespace {

// Removes `id` from the sorted list; true when it was there.
bool EraseSorted(SeriesIds* ids, uint64_t id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it == ids->end() || *it != id) return false;
  ids->erase(it);
  return true;
}

}  // namespace

void MemPostings::Delete(uint64_t series_id, const Labels& labels) {
  for (const Label& label : labels) {
    auto name_it = index_.find(label.name);
    if (name_it == index_.end()) continue;
    ValueMap& values = name_it->second;
    auto value_it = values.find(label.value);
    if (value_it == values.end()) continue;
    EraseSorted(&value_it->second, series_id);
    if (value_it->second.empty()) values.erase(value_it);
    if (values.empty()) index_.erase(name_it);
  }
  EraseSorted(&all_, series_id);
}

void MemPostings::DeleteMany(const std::vector<std::pair<uint64_t, Labels>>& series) {
  if (series.empty()) return;
  std::unordered_map<SeriesIds*, SeriesIds> removals;  // list -> ids to remove
  SeriesIds all_removed;
  all_removed.reserve(series.size());
  for (const auto& [id, labels] : series) {
    all_removed.push_back(id);
    for (const Label& label : labels) {
      auto name_it = index_.find(label.name);
      if (name_it == index_.end()) continue;
      auto value_it = name_it->second.find(label.value);
      if (value_it == name_it->second.end()) continue;
      removals[&value_it->second].push_back(id);
    }
  }
  for (auto& [list, ids] : removals) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    *list = Subtract(*list, ids);
  }
  // Values and names left without series disappear.
  for (const auto& [id, labels] : series) {
    for (const Label& label : labels) {
      auto name_it = index_.find(label.name);
      if (name_it == index_.end()) continue;
      auto value_it = name_it->second.find(label.value);
      if (value_it != name_it->second.end() && value_it->second.empty()) name_it->second.erase(value_it);
      if (name_it->second.empty()) index_.erase(name_it);
    }
  }
  std::sort(all_removed.begin(), all_removed.end());
  all_removed.erase(std::unique(all_removed.begin(), all_removed.end()), all_removed.end());
  all_ = Subtract(all_, all_removed);
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

MemPostings::ValueLists MemPostings::CollectValueLists(const LabelMatcher& matcher,
                                                       bool want_match) const {
  ValueLists out;
  auto add = [&out](const SeriesIds& ids) {
    if (ids.empty()) return;
    out.lists.push_back(&ids);
    out.total += ids.size();
  };
  auto name_it = index_.find(std::string_view(matcher.name()));
  if (name_it == index_.end()) return out;
  // = accepts, and != rejects, exactly one value: no need to scan them all.
  if ((matcher.type() == MatchType::kEqual && want_match) ||
      (matcher.type() == MatchType::kNotEqual && !want_match)) {
    auto value_it = name_it->second.find(std::string_view(matcher.value()));
    if (value_it != name_it->second.end()) add(value_it->second);
    return out;
  }
  for (const auto& [value, ids] : name_it->second) {
    if (matcher.Matches(value) == want_match) add(ids);
  }
  return out;
}

SeriesIds MemPostings::Select(const std::vector<LabelMatcher>& matchers) const {
  // Matchers that reject "" select series having the label with an accepted
  // value (positive); those that accept "" can only remove series, the ones
  // having the label with a rejected value (negative).
  std::vector<const SeriesIds*> equal_lists;
  std::vector<const LabelMatcher*> multi_value;
  std::vector<const LabelMatcher*> negatives;
  for (const LabelMatcher& matcher : matchers) {
    if (matcher.MatchesEmpty()) {
      negatives.push_back(&matcher);
    } else if (matcher.type() == MatchType::kEqual) {
      const SeriesIds& ids = Get(matcher.name(), matcher.value());
      if (ids.empty()) return {};
      equal_lists.push_back(&ids);
    } else {
      multi_value.push_back(&matcher);
    }
  }

  // Equality lists first: cheap to find, usually the most selective.
  bool have_result = !equal_lists.empty();
  SeriesIds result;
  if (have_result) {
    result = IntersectShortestFirst(std::move(equal_lists));
    if (result.empty()) return result;
  }

  // Regex (and != "") matchers select several value lists each.
  // Smallest selection first; each one filters the result rather than
  // being merged in full.
  std::vector<ValueLists> selections;
  selections.reserve(multi_value.size());
  for (const LabelMatcher* matcher : multi_value) {
    selections.push_back(CollectValueLists(*matcher, /*want_match=*/true));
    if (selections.back().total == 0) return {};
  }
  std::sort(selections.begin(), selections.end(),
            [](const ValueLists& a, const ValueLists& b) { return a.total < b.total; });
  for (const ValueLists& selection : selections) {
    if (!have_result) {
      result = Union(selection.lists);
      have_result = true;
    } else if (selection.total * kMergeFirstRatio < result.size()) {
      // Far fewer candidates than the result: merge them, then gallop.
      SeriesIds candidates = Union(selection.lists);
      KeepCommon(&candidates, result);
      result = std::move(candidates);
    } else {
      FilterByLists(&result, selection.lists, /*keep_members=*/true);
    }
    if (result.empty()) return result;
  }

  if (!have_result) result = all_;
  for (const LabelMatcher* matcher : negatives) {
    ValueLists rejected = CollectValueLists(*matcher, /*want_match=*/false);
    if (rejected.total == 0) continue;
    FilterByLists(&result, rejected.lists, /*keep_members=*/false);
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
  ForEachCommon(a, b, [&](size_t i) { out.push_back(a[i]); });
  return out;
}

SeriesIds MemPostings::Subtract(const SeriesIds& a, const SeriesIds& b) {
  SeriesIds out = a;
  RemoveCommon(&out, b);
  return out;
}

SeriesIds MemPostings::Union(const std::vector<const SeriesIds*>& lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return *lists[0];
  SeriesIds out;
  size_t total = 0;
  for (const SeriesIds* list : lists) total += list->size();
  out.reserve(total);
  if (lists.size() == 2) {
    std::set_union(lists[0]->begin(), lists[0]->end(), lists[1]->begin(), lists[1]->end(),
                   std::back_inserter(out));
    return out;
  }
  // k-way merge: a min-heap holding the next id of every list not yet done.
  struct Cursor {
    uint64_t id;
    size_t list;
    size_t position;
  };
  auto later = [](const Cursor& a, const Cursor& b) { return a.id > b.id; };
  std::vector<Cursor> heap;
  heap.reserve(lists.size());
  for (size_t i = 0; i < lists.size(); ++i) {
    if (!lists[i]->empty()) heap.push_back(Cursor{(*lists[i])[0], i, 0});
  }
  std::make_heap(heap.begin(), heap.end(), later);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Cursor& cursor = heap.back();
    if (out.empty() || out.back() != cursor.id) out.push_back(cursor.id);
    const SeriesIds& list = *lists[cursor.list];
    if (++cursor.position < list.size()) {
      cursor.id = list[cursor.position];
      std::push_heap(heap.begin(), heap.end(), later);
    } else {
      heap.pop_back();
    }
  }
  return out;
}

}  // namespace tsvault::storage
