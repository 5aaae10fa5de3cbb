#include "storage/persisted_index.h"

#include <rocksdb/db.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"

namespace tsvault::storage {

namespace {

std::string LengthPrefixed(std::string_view text) {
  std::string out;
  PutLengthPrefixed(&out, text);
  return out;
}

// Appends the ids of the postings list `it` is at (every key of its name
// and value) to `out`, leaving `it` past them.
void ReadList(rocksdb::Iterator* it, SeriesIds* out) {
  const std::string prefix(it->key().data(), it->key().size() - 8);
  for (; it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8; it->Next()) {
    out->push_back(DecodeFixed64BE(it->key().data() + prefix.size()));
  }
}

// Calls visit(value, it) for each value of label `label_name`, with `it` at
// the value's first key. visit either reads the value's keys (ReadList)
// and returns true, or leaves `it` alone and returns false: the value is
// then skipped with one seek.
template <typename Visit>
Status ForEachValue(rocksdb::Iterator* it, std::string_view label_name, Visit&& visit) {
  const std::string name_prefix = LengthPrefixed(label_name);
  it->Seek(name_prefix);
  while (it->Valid() && it->key().starts_with(name_prefix)) {
    std::string_view name, value;
    uint64_t id;
    if (!DecodePostingKey(std::string_view(it->key().data(), it->key().size()), &name, &value, &id)) {
      return Status::Corruption("bad postings key");
    }
    if (visit(value, it)) continue;
    // Past every key of this value (ids are below 2^64 - 1, and the extra
    // byte makes even that one sort before the target).
    it->Seek(PostingKey(name, value, std::numeric_limits<uint64_t>::max()) + '\xff');
  }
  return FromRocks(it->status());
}

}  // namespace

Status PersistedIndex::CollectIds(const LabelMatcher& matcher, bool want_match, SeriesIds* out) const {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  if (matcher.type() == MatchType::kEqual && want_match) {
    // One list, read directly.
    const std::string prefix = LengthPrefixed(matcher.name()) + LengthPrefixed(matcher.value());
    it->Seek(prefix);
    if (it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8) ReadList(it.get(), out);
    return FromRocks(it->status());
  }
  std::vector<SeriesIds> owned;
  Status s = ForEachValue(it.get(), matcher.name(), [&](std::string_view value, rocksdb::Iterator* at) {
    if (matcher.Matches(value) != want_match) return false;
    owned.emplace_back();
    ReadList(at, &owned.back());
    return true;
  });
  if (!s.ok()) return s;
  std::vector<const SeriesIds*> lists;
  for (const SeriesIds& list : owned) lists.push_back(&list);
  *out = MemPostings::Union(lists);
  return Status::OK();
}

Status PersistedIndex::AllIds(SeriesIds* out) const {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), series_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Status::Corruption("bad series key");
    out->push_back(DecodeFixed64BE(it->key().data()));
  }
  return FromRocks(it->status());
}

Status PersistedIndex::Select(const std::vector<LabelMatcher>& matchers, SeriesIds* out) const {
  out->clear();
  // Matchers that reject "" select (positive); those that accept it can
  // only remove the series whose value they reject (negative).
  std::vector<SeriesIds> positive;
  std::vector<const LabelMatcher*> negatives;
  for (const LabelMatcher& matcher : matchers) {
    if (matcher.MatchesEmpty()) {
      negatives.push_back(&matcher);
      continue;
    }
    positive.emplace_back();
    Status s = CollectIds(matcher, true, &positive.back());
    if (!s.ok()) return s;
    if (positive.back().empty()) return Status::OK();
  }
  std::sort(positive.begin(), positive.end(),
            [](const SeriesIds& a, const SeriesIds& b) { return a.size() < b.size(); });
  SeriesIds result;
  if (positive.empty()) {
    Status s = AllIds(&result);
    if (!s.ok()) return s;
  } else {
    result = std::move(positive[0]);
    for (size_t i = 1; i < positive.size() && !result.empty(); ++i) result = MemPostings::Intersect(result, positive[i]);
  }
  for (const LabelMatcher* matcher : negatives) {
    if (result.empty()) break;
    SeriesIds rejected;
    Status s = CollectIds(*matcher, false, &rejected);
    if (!s.ok()) return s;
    if (!rejected.empty()) result = MemPostings::Subtract(result, rejected);
  }
  *out = std::move(result);
  return Status::OK();
}

Status PersistedIndex::LabelNames(std::vector<std::string>* out) const {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  it->SeekToFirst();
  while (it->Valid()) {
    ByteReader reader(std::string_view(it->key().data(), it->key().size()));
    std::string_view name;
    if (!reader.GetLengthPrefixed(&name)) return Status::Corruption("bad postings key");
    out->emplace_back(name);
    // The first key after every key of this name.
    std::string next = LengthPrefixed(name);
    next.append(9, '\xff');
    it->Seek(next);
  }
  if (!it->status().ok()) return FromRocks(it->status());
  std::sort(out->begin(), out->end());
  return Status::OK();
}

Status PersistedIndex::LabelValues(std::string_view name, std::vector<std::string>* out) const {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  Status s = ForEachValue(it.get(), name, [&](std::string_view value, rocksdb::Iterator*) {
    if (!value.empty()) out->emplace_back(value);
    return false;
  });
  if (!s.ok()) return s;
  std::sort(out->begin(), out->end());
  return Status::OK();
}

}  // namespace tsvault::storage
