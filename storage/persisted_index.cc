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

}  // namespace

Status PersistedIndex::CollectIds(const LabelMatcher& matcher, bool want_match, SeriesIds* out) const {
  out->clear();
  const std::string name_prefix = LengthPrefixed(matcher.name());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  std::vector<const SeriesIds*> lists;
  std::vector<SeriesIds> owned;
  if (matcher.type() == MatchType::kEqual && want_match) {
    // One list, read directly.
    const std::string prefix = name_prefix + LengthPrefixed(matcher.value());
    owned.emplace_back();
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().size() != prefix.size() + 8) return Status::Corruption("bad postings key");
      owned.back().push_back(DecodeFixed64BE(it->key().data() + prefix.size()));
    }
    *out = std::move(owned.back());
    return FromRocks(it->status());
  }
  it->Seek(name_prefix);
  while (it->Valid() && it->key().starts_with(name_prefix)) {
    std::string_view name, value;
    uint64_t id;
    if (!DecodePostingKey(std::string_view(it->key().data(), it->key().size()), &name, &value, &id)) {
      return Status::Corruption("bad postings key");
    }
    if (matcher.Matches(value) != want_match) {
      // Past every key of this value (ids are below 2^64 - 1, and the
      // extra byte makes even that one sort before the target).
      it->Seek(PostingKey(name, value, std::numeric_limits<uint64_t>::max()) + '\xff');
      continue;
    }
    const std::string prefix(it->key().data(), it->key().size() - 8);
    owned.emplace_back();
    for (; it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8; it->Next()) {
      owned.back().push_back(DecodeFixed64BE(it->key().data() + prefix.size()));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status());
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
  const std::string name_prefix = LengthPrefixed(name);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  it->Seek(name_prefix);
  while (it->Valid() && it->key().starts_with(name_prefix)) {
    std::string_view key_name, value;
    uint64_t id;
    if (!DecodePostingKey(std::string_view(it->key().data(), it->key().size()), &key_name, &value, &id)) {
      return Status::Corruption("bad postings key");
    }
    if (!value.empty()) out->emplace_back(value);
    it->Seek(PostingKey(key_name, value, std::numeric_limits<uint64_t>::max()) + '\xff');
  }
  if (!it->status().ok()) return FromRocks(it->status());
  std::sort(out->begin(), out->end());
  return Status::OK();
}

}  // namespace tsvault::storage
