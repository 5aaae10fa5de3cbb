// In-memory inverted index: label name -> value -> sorted series ids
// (internal). Rebuilt at start-up from the `postings` column family.
// Not thread-safe: DBImpl::head_mutex_ guards it.
// REQUIRES: head_mutex_ held shared for const methods, exclusively for the
// others (the static set operations need none). References returned by
// Get() and All() are valid only while the lock stays held.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/labels.h"
#include "storage/matcher.h"

namespace tsvault::storage {

using SeriesIds = std::vector<uint64_t>;  // always sorted ascending, unique

class MemPostings {
 public:
  // Adds a series. Ids must be added in increasing order per (name, value)
  // for the lists to stay sorted; out-of-order ids are inserted in place.
  void Add(uint64_t series_id, const Labels& labels);
  // Adds one posting (used when loading the persisted index at start-up).
  void AddPosting(std::string_view name, std::string_view value, uint64_t series_id);
  // Adds a series id to the all-series list.
  void AddSeriesId(uint64_t series_id);
  // Removes a series (retention, deletion): its id leaves the list of every
  // label pair of `labels` and the all-series list; label values and names
  // left without series disappear. Ids not present are ignored.
  void Delete(uint64_t series_id, const Labels& labels);
  // Delete for many series at once (eviction): one pass over each list
  // they are in, instead of one erase per id.
  void DeleteMany(const std::vector<std::pair<uint64_t, Labels>>& series);

  // Ids of series matching every matcher, sorted ascending, Prometheus
  // semantics (a matcher that accepts "" also selects series without the
  // label). With no matchers, all series. Equality lists are intersected
  // smallest first without copying; regex and other multi-value matchers
  // then filter that result instead of building their full union.
  SeriesIds Select(const std::vector<LabelMatcher>& matchers) const;

  // Every label name, unsorted.
  std::vector<std::string> LabelNames() const;
  // Every value of `name`, unsorted.
  std::vector<std::string> LabelValues(std::string_view name) const;
  // Number of distinct values of each label name.
  std::vector<std::pair<std::string, uint64_t>> ValueCountsByName() const;
  // The postings list of name=value (empty when absent).
  const SeriesIds& Get(std::string_view name, std::string_view value) const;
  const SeriesIds& All() const { return all_; }

  // Sorted-list set operations; inputs must be sorted ascending and unique,
  // and so are the results. Intersect and Subtract advance whichever list
  // is behind by exponential search, so runs of ids missing from the other
  // list and very different sizes cost a logarithmic search, not a step per
  // id. Union merges the lists k ways with a heap (no sort).
  static SeriesIds Intersect(const SeriesIds& a, const SeriesIds& b);
  static SeriesIds Subtract(const SeriesIds& a, const SeriesIds& b);
  static SeriesIds Union(const std::vector<const SeriesIds*>& lists);

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using ValueMap = std::unordered_map<std::string, SeriesIds, StringHash, std::equal_to<>>;

  // The lists of the values of label `matcher.name()` for which
  // matcher.Matches(value) == want_match (pointers into the index, no
  // copies), and their total length.
  struct ValueLists {
    std::vector<const SeriesIds*> lists;
    size_t total = 0;
  };
  ValueLists CollectValueLists(const LabelMatcher& matcher, bool want_match) const;

  std::unordered_map<std::string, ValueMap, StringHash, std::equal_to<>> index_;
  SeriesIds all_;
};

}  // namespace tsvault::storage
