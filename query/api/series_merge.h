// The union of several selections (one per match[] or --match selector) as
// one stream of series in label order, each series once: CSV export and
// `tsvault export blocks`.
#pragma once

#include <memory>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "storage/db.h"

namespace tsvault::query {

class SeriesMerge {
 public:
  // Selects `hints` with each matcher set (used during Open only). `db`
  // must outlive this object.
  Status Open(storage::DB* db, const storage::SelectHints& hints,
              const std::vector<std::vector<storage::LabelMatcher>>& matcher_sets);
  // Advances to the next series in label order; false at the end or on error.
  bool Next();
  const Labels& labels() const { return sets_[current_]->labels(); }
  // The current series' samples (all selections hold the same ones).
  std::unique_ptr<storage::SampleIterator> Samples() const { return sets_[current_]->Samples(); }
  Status status() const { return status_; }

 private:
  std::vector<std::unique_ptr<storage::SeriesSet>> sets_;
  std::vector<bool> live_;     // the set is positioned on a series not yet returned
  bool started_ = false;
  size_t current_ = 0;
  Status status_;
};

}  // namespace tsvault::query
