// Label lookups on the persisted index (internal): the `postings` and
// `series` column families hold every stored series, resident in the head
// or not. The same selection semantics as MemPostings::Select, reading
// RocksDB instead of memory. Thread-safe: reads only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/matcher.h"
#include "storage/mem_postings.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace tsvault::storage {

class PersistedIndex {
 public:
  // The column families must outlive this object.
  PersistedIndex(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* postings, rocksdb::ColumnFamilyHandle* series)
      : db_(db), postings_(postings), series_(series) {}

  // Ids of the stored series matching every matcher, sorted ascending. A
  // matcher that accepts "" also selects series without its label. With no
  // matcher that rejects "", every stored series is read.
  Status Select(const std::vector<LabelMatcher>& matchers, SeriesIds* out) const;
  // Every label name, sorted. One seek per name.
  Status LabelNames(std::vector<std::string>* out) const;
  // Every value of label `name`, sorted. One seek per value.
  Status LabelValues(std::string_view name, std::vector<std::string>* out) const;

 private:
  // Ids of the series with label `matcher.name()` whose value v has
  // matcher.Matches(v) == want_match, sorted. Values are visited with one
  // seek each; only the lists of the wanted ones are read.
  Status CollectIds(const LabelMatcher& matcher, bool want_match, SeriesIds* out) const;
  // Every stored series id, sorted.
  Status AllIds(SeriesIds* out) const;

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* postings_;
  rocksdb::ColumnFamilyHandle* series_;
};

}  // namespace tsvault::storage
