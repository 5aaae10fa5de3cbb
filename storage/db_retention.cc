// Retention: per-level cutoffs (raw, 5m, 1h, 1d) below which data is
// dropped, the compaction filter that drops it without decoding anything,
// and the bounds that keep a cutoff from ever dropping data that nothing
// coarser holds yet. Layout: docs/storage-format.md, "Retention".
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "model/rollup.h"
#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"

namespace tsvault::storage {

namespace {

constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

// Drops records whose key time (bytes 8..15, sign-flipped) lies before the
// cutoff it watches. Stateless apart from the atomic, so one instance serves
// every compaction thread.
class RetentionFilter final : public rocksdb::CompactionFilter {
 public:
  explicit RetentionFilter(const std::atomic<int64_t>* cutoff) : cutoff_(cutoff) {}

  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& /*existing_value*/,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    if (key.size() < 16) return false;
    const int64_t cutoff = cutoff_->load(std::memory_order_acquire);
    return cutoff != kNoTime && KeyBitsToTimestamp(DecodeFixed64BE(key.data() + 8)) < cutoff;
  }
  const char* Name() const override { return "tsvault.RetentionFilter"; }

 private:
  const std::atomic<int64_t>* cutoff_;
};

// Cutoffs move in whole spans of the next coarser resolution, so that a
// span that late samples make stale is recomputed from data that is all
// still there: raw by 1 day (a 5m span), 5m by 10 days (a 1h span), 1h
// and 1d by 120 days (a 1d span).
constexpr int64_t kCutoffUnitMs[kRetentionLevels] = {
    model::kResolution1d, 10 * model::kResolution1d, 120 * model::kResolution1d, 120 * model::kResolution1d};

int RetentionLevelOf(RetentionClass retention) {
  switch (retention) {
    case RetentionClass::kKeep: return -1;
    case RetentionClass::kRaw: return 0;
    case RetentionClass::k5m: return 1;
    case RetentionClass::k1h: return 2;
    case RetentionClass::k1d: return 3;
  }
  return -1;
}

}  // namespace

const rocksdb::CompactionFilter* DBImpl::RetentionFilterFor(ColumnFamilyIndex index) {
  const int level = RetentionLevelOf(kColumnFamilies[index].retention);
  if (level < 0) return nullptr;
  if (!retention_filters_[level]) {
    retention_filters_[level] = std::make_unique<RetentionFilter>(&retention_cutoff_[level]);
  }
  return retention_filters_[level].get();
}

int64_t DBImpl::RetentionCutoff(int64_t resolution_ms) {
  const int level = resolution_ms == 0 ? 0 : RollupResolutionIndex(resolution_ms) + 1;
  if (level < 0) return kNoTime;
  return retention_cutoff_[level].load(std::memory_order_acquire);
}

int64_t DBImpl::RawReadStart(int64_t mint) const {
  return std::max(mint, retention_cutoff_[0].load(std::memory_order_acquire));
}

Status DBImpl::OldestTime(int level, int64_t* out) {
  *out = std::numeric_limits<int64_t>::max();
  if (level < 0 || level >= kRetentionLevels) return Status::InvalidArgument("no retention level " + std::to_string(level));
  const int64_t cutoff = retention_cutoff_[level].load(std::memory_order_acquire);
  if (level == 0) {
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    if (head_min_time_ >= cutoff) *out = head_min_time_;
  }
  const ColumnFamilyIndex family = level == 0 ? kChunks : RollupFamily(level - 1);
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(family)));
  // Chunk and rollup keys both start with u64be(series) u64be(time flipped):
  // the first key of each series at or after the cutoff holds its oldest
  // (RollupChunkKey builds exactly that prefix for both).
  for (it->Seek(RollupChunkKey(0, cutoff)); it->Valid();) {
    if (it->key().size() < 16) return Status::Corruption("bad chunk key");
    const uint64_t series_id = DecodeFixed64BE(it->key().data());
    const int64_t time = KeyBitsToTimestamp(DecodeFixed64BE(it->key().data() + 8));
    if (time < cutoff) {
      it->Seek(RollupChunkKey(series_id, cutoff));
      continue;
    }
    *out = std::min(*out, time);
    if (series_id == std::numeric_limits<uint64_t>::max()) break;
    it->Seek(RollupChunkKey(series_id + 1, cutoff));
  }
  return FromRocks(it->status());
}

bool DBImpl::HasRetainedData(uint64_t series_id) {
  for (int level = 0; level < kRetentionLevels; ++level) {
    const int64_t cutoff = retention_cutoff_[level].load(std::memory_order_acquire);
    const ColumnFamilyIndex family = level == 0 ? kChunks : RollupFamily(level - 1);
    // Raw chunk keys and rollup span keys both start u64be(id) u64be(time
    // flipped); a record at or after the cutoff is kept (raw chunks lie in
    // 2-hour windows, spans start on multiples of the cutoff's unit).
    std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(family)));
    it->Seek(RollupChunkKey(series_id, cutoff));
    if (it->Valid() && it->key().size() >= 8 && DecodeFixed64BE(it->key().data()) == series_id) return true;
    if (!it->status().ok()) return true;  // unknown: keep the series
  }
  return false;
}

Status DBImpl::RemoveEmptySeries(bool include_stored, uint64_t* removed) {
  *removed = 0;
  std::vector<uint64_t> candidates;
  {
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    for (const auto& series : series_by_id_) {
      if (series && series->min_time() > series->max_time()) candidates.push_back(series->id());
    }
  }
  if (include_stored && evicted_until_.load(std::memory_order_acquire) != kNoTime) {
    // Every stored series (the resident ones are checked again below).
    SeriesIds stored;
    Status s = SelectStoredSeries({}, &stored);
    if (!s.ok()) return s;
    std::sort(candidates.begin(), candidates.end());
    SeriesIds all = MemPostings::Union({&candidates, &stored});
    candidates.assign(all.begin(), all.end());
  }
  candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                  [this](uint64_t id) { return HasRetainedData(id); }),
                   candidates.end());
  if (candidates.empty()) return Status::OK();

  std::lock_guard<std::mutex> checkpoint_lock(checkpoint_mutex_);
  std::unique_lock<std::shared_mutex> lock(head_mutex_);
  ScopedAppendBlock block_appends(this, &lock);
  // Re-checked with appends stopped: a sample that arrived since is in
  // memory (and only then in the WAL), so a series still empty in memory
  // has no WAL record that a replay would need it for.
  rocksdb::WriteBatch batch;
  std::vector<uint64_t> confirmed;
  for (uint64_t id : candidates) {
    MemSeries* series = id < series_by_id_.size() ? series_by_id_[id].get() : nullptr;
    if (series == nullptr) {
      // Not resident: nothing of it in memory; its labels name its records.
      Status s = LoadStoredSeries(id, &series);
      if (!s.ok()) return s;
      if (series == nullptr) continue;
    }
    // Still empty with appends stopped: a sample that came since is in
    // memory, or was checkpointed to disk (the scan above ran unlocked).
    if (series->min_time() <= series->max_time() || HasRetainedData(id)) continue;
    PutSeriesRemoval(*series, &batch);
    confirmed.push_back(id);
  }
  if (confirmed.empty()) return Status::OK();
  PutSeriesIds(confirmed.size(), &batch);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  Status s = FromRocks(rocks_->Write(write_options, &batch));
  if (!s.ok()) return s;
  removed_series_ += confirmed.size();
  ForgetSeries(confirmed);
  *removed = confirmed.size();
  return Status::OK();
}

Status DBImpl::LoadRetentionCutoffs() {
  for (int level = 0; level < kRetentionLevels; ++level) {
    std::string value;
    rocksdb::Status rs = rocks_->Get(rocksdb::ReadOptions(), cf(kDefault), RetentionCutoffKey(level), &value);
    int64_t cutoff = kNoTime;
    if (rs.ok()) {
      if (value.size() != 8) return Status::Corruption("bad retention cutoff");
      cutoff = KeyBitsToTimestamp(DecodeFixed64BE(value.data()));
    } else if (!rs.IsNotFound()) {
      return FromRocks(rs);
    }
    retention_cutoff_[level].store(cutoff, std::memory_order_release);
  }
  return Status::OK();
}

Status DBImpl::MoveCutoffs(const RetentionRequest& request, int64_t next[kRetentionLevels]) {
  // A span with a pending stale mark is recomputed from the finer data
  // under it: that data must stay until the downsampler has redone it.
  int64_t first_marked_span[3] = {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max(),
                                  std::numeric_limits<int64_t>::max()};
  {
    std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kRollupDirty)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      int code;
      uint64_t series_id;
      int64_t span_start;
      if (!DecodeRollupDirtyKey(std::string_view(it->key().data(), it->key().size()), &code, &series_id,
                                &span_start) ||
          code < 1 || code > 3) {
        return Status::Corruption("bad stale mark key");
      }
      first_marked_span[code - 1] = std::min(first_marked_span[code - 1], span_start);
    }
    Status s = FromRocks(it->status());
    if (!s.ok()) return s;
  }

  for (int level = 0; level < kRetentionLevels; ++level) {
    const int64_t old = retention_cutoff_[level].load(std::memory_order_acquire);
    next[level] = old;
    int64_t target = request.drop_before_ms[level];
    if (level < 3) {
      // Only what the next coarser resolution has stored may go.
      const int64_t sealed = rollup_sealed_[level].load(std::memory_order_acquire);
      target = std::min({target, sealed, first_marked_span[level]});
    }
    // A coarser level never keeps less than a finer one.
    if (level > 0) target = std::min(target, next[level - 1]);
    if (target <= -model::kRollupTimeLimitMs || target >= model::kRollupTimeLimitMs) continue;
    target = model::WindowFloor(target, kCutoffUnitMs[level]);
    next[level] = std::max(old, target);
  }

  bool changed = false;
  rocksdb::WriteBatch batch;
  for (int level = 0; level < kRetentionLevels; ++level) {
    if (next[level] == retention_cutoff_[level].load(std::memory_order_acquire)) continue;
    std::string encoded;
    PutFixed64BE(&encoded, TimestampToKeyBits(next[level]));
    batch.Put(cf(kDefault), RetentionCutoffKey(level), encoded);
    changed = true;
  }
  if (!changed) return Status::OK();
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  Status s = FromRocks(rocks_->Write(write_options, &batch));
  if (!s.ok()) return s;
  // Durable: from here on readers skip the dropped data, Append rejects raw
  // samples at or before the cutoff, and compactions remove the records.
  for (int level = 0; level < kRetentionLevels; ++level) {
    retention_cutoff_[level].store(next[level], std::memory_order_release);
  }
  return Status::OK();
}

Status DBImpl::ApplyRetention(const RetentionRequest& request, RetentionStats* stats) {
  *stats = RetentionStats();
  if (options_.read_only) return Status::Unsupported("the database is open read-only");
  std::lock_guard<std::mutex> lock(retention_mutex_);
  int64_t next[kRetentionLevels];
  {
    // The cutoffs never move under a Delete or a Downsample recomputing a
    // span, nor under an append that checked the old raw cutoff and has not
    // written its stale marks yet.
    std::lock_guard<std::mutex> downsample_lock(downsample_mutex_);
    const int64_t old_coarsest = retention_cutoff_[kRetentionLevels - 1].load(std::memory_order_acquire);
    {
      std::unique_lock<std::shared_mutex> head_lock(head_mutex_);
      ScopedAppendBlock block_appends(this, &head_lock);
      Status s = MoveCutoffs(request, next);
      if (!s.ok()) return s;
    }
    // Every sample ends up in a 1d window, so a series can only run out of
    // data when the 1d cutoff moves (or moved before a crash: checked once
    // per process too).
    if (next[kRetentionLevels - 1] != old_coarsest || !empty_series_checked_) {
      // Stored series outside the head only run out of data when the 1d
      // cutoff exists (every sample they had is in a kept 1d window).
      Status s = RemoveEmptySeries(next[kRetentionLevels - 1] != kNoTime, &stats->series_removed);
      if (!s.ok()) return s;
      empty_series_checked_ = true;
    }
  }
  for (int level = 0; level < kRetentionLevels; ++level) {
    stats->cutoff_ms[level] = next[level];
    if (!request.reclaim[level] || next[level] == kNoTime) continue;
    for (const ColumnFamilySpec& spec : kColumnFamilies) {
      if (RetentionLevelOf(spec.retention) != level) continue;
      rocksdb::CompactRangeOptions compact;
      compact.exclusive_manual_compaction = false;  // let flushes and other compactions go on
      compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      Status s = FromRocks(rocks_->CompactRange(compact, cf(spec.index), nullptr, nullptr));
      if (!s.ok()) return s;
    }
    stats->reclaimed[level] = true;
  }
  return Status::OK();
}

}  // namespace tsvault::storage
