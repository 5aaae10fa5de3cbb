// Which series are resident in the head, and the persisted index behind
// the ones that are not (docs/storage-format.md, "Resident series").
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"
#include "storage/persisted_index.h"

namespace tsvault::storage {

namespace {

constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();
// Records per write batch of the one-time index migration.
constexpr size_t kMigrationBatch = 10000;

std::string FlippedTime(int64_t t) {
  std::string value;
  PutFixed64BE(&value, TimestampToKeyBits(t));
  return value;
}

}  // namespace

void DBImpl::PutSeriesIds(uint64_t removed, rocksdb::WriteBatch* batch) {
  std::string value;
  PutFixed64BE(&value, next_series_id_);
  PutFixed64BE(&value, removed_series_ + removed);
  batch->Put(cf(kDefault), std::string(kSeriesIdsKey), value);
}

Status DBImpl::LoadSeries() {
  std::string value;
  rocksdb::Status rs = rocks_->Get(rocksdb::ReadOptions(), cf(kDefault), std::string(kSeriesIdsKey), &value);
  if (rs.ok()) {
    if (value.size() != 16) return Status::Corruption("bad series_ids record");
    next_series_id_ = std::max<uint64_t>(1, DecodeFixed64BE(value.data()));
    removed_series_ = DecodeFixed64BE(value.data() + 8);
  } else if (!rs.IsNotFound()) {
    return FromRocks(rs);
  }
  {
    // Ids are never handed out twice, whatever was written before a crash.
    std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kSeries)));
    it->SeekToLast();
    if (it->Valid()) {
      if (it->key().size() != 8) return Status::Corruption("bad series key");
      next_series_id_ = std::max(next_series_id_, DecodeFixed64BE(it->key().data()) + 1);
    }
    if (!it->status().ok()) return FromRocks(it->status());
  }

  rs = rocks_->Get(rocksdb::ReadOptions(), cf(kDefault), std::string(kIndexLayoutKey), &value);
  if (!rs.ok() && !rs.IsNotFound()) return FromRocks(rs);
  if (rs.ok()) {
    if (value.size() != 8 || DecodeFixed64BE(value.data()) != kIndexLayout) {
      return Status::Corruption("unsupported index layout in " + options_.data_dir);
    }
    rs = rocks_->Get(rocksdb::ReadOptions(), cf(kDefault), std::string(kEvictedUntilKey), &value);
    if (rs.ok()) {
      if (value.size() != 8) return Status::Corruption("bad evicted_until record");
      evicted_until_.store(KeyBitsToTimestamp(DecodeFixed64BE(value.data())), std::memory_order_release);
    } else if (!rs.IsNotFound()) {
      return FromRocks(rs);
    }
    // The resident set: every series that may still change.
    std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kHeadSeries)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8) return Status::Corruption("bad head_series key");
      const uint64_t id = DecodeFixed64BE(it->key().data());
      MemSeries* series = nullptr;
      Status s = LoadStoredSeries(id, &series);
      if (!s.ok()) return s;
      if (series == nullptr) return Status::Corruption("head_series names unknown series " + std::to_string(id));
      series->set_in_head_set(true);
    }
    return FromRocks(it->status());
  }

  // A directory from before the persisted lookup index: every series is
  // resident this time, and the index is written once.
  rocksdb::WriteBatch batch;
  uint64_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kSeries)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Status::Corruption("bad series key");
    const uint64_t id = DecodeFixed64BE(it->key().data());
    Labels labels;
    if (!DecodeLabels(std::string_view(it->value().data(), it->value().size()), &labels)) {
      return Status::Corruption("bad labels for series " + std::to_string(id));
    }
    const uint64_t hash = HashLabels(labels);
    auto series = std::make_unique<MemSeries>(id, it->value().ToString(), hash);
    series->set_persisted(true);
    series->set_in_head_set(!options_.read_only);
    InstallSeries(std::move(series), labels);
    ++count;
    if (options_.read_only) continue;
    batch.Put(cf(kSeriesHashes), SeriesHashKey(hash, id), rocksdb::Slice());
    batch.Put(cf(kHeadSeries), HeadSeriesKey(id), rocksdb::Slice());
    if (batch.Count() >= kMigrationBatch) {
      Status s = FromRocks(rocks_->Write(rocksdb::WriteOptions(), &batch));
      if (!s.ok()) return s;
      batch.Clear();
    }
  }
  if (!it->status().ok()) return FromRocks(it->status());
  removed_series_ = next_series_id_ - 1 - count;
  if (options_.read_only) return Status::OK();
  PutSeriesIds(0, &batch);
  std::string layout;
  PutFixed64BE(&layout, kIndexLayout);
  // Last, in the same batch as the last records: an interrupted migration
  // is redone from the start.
  batch.Put(cf(kDefault), std::string(kIndexLayoutKey), layout);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Status s = FromRocks(rocks_->Write(sync, &batch));
  if (s.ok() && count > 0) spdlog::info("indexed {} series for lookups by label set", count);
  return s;
}

MemSeries* DBImpl::InstallSeries(std::unique_ptr<MemSeries> series, const Labels& labels) {
  const uint64_t id = series->id();
  if (id >= series_by_id_.size()) series_by_id_.resize(id + 1 + id / 2);
  series->set_incarnation(next_incarnation_++);
  MemSeries* raw = series.get();
  series_by_id_[id] = std::move(series);
  series_index_.Insert(raw);
  postings_.Add(id, labels);
  ++resident_series_;
  return raw;
}

Status DBImpl::LoadStoredSeries(uint64_t id, MemSeries** out) {
  *out = nullptr;
  if (id < series_by_id_.size() && series_by_id_[id]) {
    *out = series_by_id_[id].get();
    return Status::OK();
  }
  std::string encoded;
  rocksdb::Status rs = rocks_->Get(rocksdb::ReadOptions(), cf(kSeries), SeriesKey(id), &encoded);
  if (rs.IsNotFound()) return Status::OK();
  if (!rs.ok()) return FromRocks(rs);
  Labels labels;
  if (!DecodeLabels(encoded, &labels)) return Status::Corruption("bad labels for series " + std::to_string(id));
  auto series = std::make_unique<MemSeries>(id, std::move(encoded), HashLabels(labels));
  series->set_persisted(true);
  *out = InstallSeries(std::move(series), labels);
  return Status::OK();
}

Status DBImpl::GetOrCreateSeries(const Labels& labels, MemSeries** out, bool* created, bool allow_new) {
  *created = false;
  const uint64_t hash = HashLabels(labels);
  encode_buffer_.clear();
  EncodeLabels(labels, &encode_buffer_);
  if ((*out = series_index_.Find(hash, encode_buffer_)) != nullptr) return Status::OK();
  // Until a series is evicted, every stored series is resident.
  if (evicted_until_.load(std::memory_order_acquire) != kNoTime) {
    std::string prefix;
    PutFixed64BE(&prefix, hash);
    rocksdb::ReadOptions read_options;
    read_options.prefix_same_as_start = true;
    std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(read_options, cf(kSeriesHashes)));
    std::string stored;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().size() != 16) return Status::Corruption("bad series_hashes key");
      const uint64_t id = DecodeFixed64BE(it->key().data() + 8);
      if (id < series_by_id_.size() && series_by_id_[id]) continue;  // resident: other labels
      rocksdb::Status rs = rocks_->Get(rocksdb::ReadOptions(), cf(kSeries), SeriesKey(id), &stored);
      if (rs.IsNotFound()) continue;
      if (!rs.ok()) return FromRocks(rs);
      if (stored != encode_buffer_) continue;
      auto series = std::make_unique<MemSeries>(id, std::move(stored), hash);
      series->set_persisted(true);
      *out = InstallSeries(std::move(series), labels);
      return Status::OK();
    }
    if (!it->status().ok()) return FromRocks(it->status());
  }
  if (!allow_new) {
    *out = nullptr;
    return Status::OK();
  }
  auto series = std::make_unique<MemSeries>(next_series_id_++, encode_buffer_, hash);
  series->note_disk_time_known();  // nothing of it on disk
  *out = InstallSeries(std::move(series), labels);
  *created = true;
  return Status::OK();
}

void DBImpl::PutSeriesRecords(const MemSeries& series, rocksdb::WriteBatch* batch) {
  if (!series.persisted()) {
    batch->Put(cf(kSeries), SeriesKey(series.id()), series.encoded_labels());
    for (const Label& label : series.labels()) {
      batch->Put(cf(kPostings), PostingKey(label.name, label.value, series.id()), rocksdb::Slice());
    }
    batch->Put(cf(kSeriesHashes), SeriesHashKey(series.hash(), series.id()), rocksdb::Slice());
  }
  if (!series.in_head_set()) batch->Put(cf(kHeadSeries), HeadSeriesKey(series.id()), rocksdb::Slice());
}

Status DBImpl::EvictIdleSeries() {
  const int64_t sealed = rollup_sealed_[2].load(std::memory_order_acquire);
  if (sealed == kNoTime || options_.read_only) return Status::OK();
  rocksdb::WriteBatch batch;
  std::vector<uint64_t> evicted;
  int64_t until = evicted_until_.load(std::memory_order_acquire);
  std::unique_ptr<rocksdb::Iterator> chunks;
  for (auto& owned : series_by_id_) {
    MemSeries* series = owned.get();
    // Only a series whose every record is written and whose every window
    // is sealed at every resolution: the downsampler never needs it again
    // (a late sample brings it back and marks its windows stale).
    if (series == nullptr || !series->persisted() || !series->in_head_set() || series->has_open_chunk() ||
        series->has_unpersisted_data() || series->samples_in_memory() > 0 || series->last_timestamp() > sealed) {
      continue;
    }
    if (!series->disk_time_known()) {
      // Loaded from disk: the latest stored sample, looked up once.
      if (!chunks) chunks = NewChunkIterator();
      int64_t min_time, max_time;
      if (PersistedTimeRange(series->id(), chunks.get(), &min_time, &max_time)) series->note_last_time(max_time);
      series->note_disk_time_known();
    }
    const int64_t last = series->known_last_time();
    if (last > sealed) continue;
    batch.Delete(cf(kHeadSeries), HeadSeriesKey(series->id()));
    evicted.push_back(series->id());
    until = std::max(until, last);
  }
  if (evicted.empty()) return Status::OK();
  // A series that never kept a sample leaves `until` unchanged.
  if (until == kNoTime) until = kNoTime + 1;
  batch.Put(cf(kDefault), std::string(kEvictedUntilKey), FlippedTime(until));
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.wal_sync != WalSyncMode::kNone;
  Status s = FromRocks(rocks_->Write(write_options, &batch));
  if (!s.ok()) return s;
  // Readers that miss the series in the head see the new bound first
  // (both happen under the exclusive head lock).
  evicted_until_.store(until, std::memory_order_release);
  ForgetSeries(evicted);
  return Status::OK();
}

Status DBImpl::SelectStoredSeries(const std::vector<LabelMatcher>& matchers, SeriesIds* out) {
  return PersistedIndex(rocks_, cf(kPostings), cf(kSeries)).Select(matchers, out);
}

}  // namespace tsvault::storage
