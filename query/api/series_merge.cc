#include "query/api/series_merge.h"

namespace tsvault::query {

Status SeriesMerge::Open(storage::DB* db, const storage::SelectHints& hints,
                         const std::vector<std::vector<storage::LabelMatcher>>& matcher_sets) {
  sets_.clear();
  for (const auto& matchers : matcher_sets) {
    std::unique_ptr<storage::SeriesSet> set;
    Status s = db->Select(hints, matchers, &set);
    if (!s.ok()) return s;
    sets_.push_back(std::move(set));
  }
  live_.assign(sets_.size(), false);
  started_ = false;
  return Status::OK();
}

bool SeriesMerge::Next() {
  if (!status_.ok()) return false;
  auto advance = [this](size_t i) {
    live_[i] = sets_[i]->Next();
    if (!live_[i] && !sets_[i]->status().ok()) status_ = sets_[i]->status();
  };
  if (!started_) {
    for (size_t i = 0; i < sets_.size(); ++i) advance(i);
    started_ = true;
  } else {
    // Move every set holding the series just returned past it; the set it
    // came from last, as its labels are the ones compared against.
    for (size_t i = 0; i < sets_.size(); ++i) {
      if (i != current_ && live_[i] && CompareLabels(sets_[i]->labels(), sets_[current_]->labels()) == 0) advance(i);
    }
    advance(current_);
  }
  if (!status_.ok()) return false;
  bool found = false;
  for (size_t i = 0; i < sets_.size(); ++i) {
    if (live_[i] && (!found || CompareLabels(sets_[i]->labels(), sets_[current_]->labels()) < 0)) {
      current_ = i;
      found = true;
    }
  }
  return found;
}

}  // namespace tsvault::query
