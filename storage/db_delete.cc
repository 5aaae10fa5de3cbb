// Deleting series data (DB::Delete): whole series leave every column family,
// the index and memory; a time range is cut out of the raw chunks that hold
// it, and the rollup spans over it are recomputed (or trimmed where the raw
// data is gone). See docs/storage-format.md, "Deletion".
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <limits>

#include "model/rollup.h"
#include "storage/chunkenc/chunk.h"
#include "storage/chunkenc/rollup_chunk.h"
#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"

namespace tsvault::storage {

namespace {

constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

// [u64be(id), u64be(id + 1)): every key of a series in a family keyed by id first.
std::string SeriesPrefixStart(uint64_t id) {
  std::string key;
  PutFixed64BE(&key, id);
  return key;
}

// Re-encodes the samples of `chunk` outside [mint, maxt]; false when none is left.
Status CutChunk(std::string_view chunk, int64_t mint, int64_t maxt, std::string* out, int64_t* min_time,
                int64_t* max_time, bool* any_left) {
  std::vector<model::Sample> floats;
  std::vector<model::Histogram> histograms;
  Status s = DecodeChunk(chunk, &floats, &histograms);
  if (!s.ok()) return s;
  *any_left = false;
  if (!floats.empty()) {
    XorChunkAppender appender;
    for (const model::Sample& sample : floats) {
      if (sample.timestamp_ms >= mint && sample.timestamp_ms <= maxt) continue;
      appender.Append(sample.timestamp_ms, sample.value);
    }
    if (appender.num_samples() == 0) return Status::OK();
    *out = appender.bytes();
    *min_time = appender.min_time();
    *max_time = appender.max_time();
  } else {
    HistogramChunkAppender appender;
    for (const model::Histogram& histogram : histograms) {
      if (histogram.timestamp_ms >= mint && histogram.timestamp_ms <= maxt) continue;
      appender.Append(histogram);
    }
    if (appender.num_samples() == 0) return Status::OK();
    *out = appender.bytes();
    *min_time = appender.min_time();
    *max_time = appender.max_time();
  }
  *any_left = true;
  return Status::OK();
}

}  // namespace

Status DBImpl::Delete(const std::vector<LabelMatcher>& matchers, int64_t mint, int64_t maxt, DeleteStats* stats) {
  *stats = DeleteStats();
  if (options_.read_only) return Status::Unsupported("the database is open read-only");
  if (std::all_of(matchers.begin(), matchers.end(), [](const LabelMatcher& m) { return m.MatchesEmpty(); })) {
    return Status::InvalidArgument("match[] must contain at least one non-empty matcher");
  }
  if (mint > maxt) return Status::InvalidArgument("end timestamp must not be before start time");
  const bool whole = mint <= kNoTime / 2 && maxt >= std::numeric_limits<int64_t>::max() / 2;

  // No rollup is written and no retention cutoff moves while the series are
  // cut; appends wait, and those already past the head lock finish their
  // writes first (BlockAppends), so nothing accepted lands after the cut.
  std::lock_guard<std::mutex> downsample_lock(downsample_mutex_);
  std::lock_guard<std::mutex> checkpoint_lock(checkpoint_mutex_);
  std::unique_lock<std::shared_mutex> lock(head_mutex_);
  ScopedAppendBlock block_appends(this, &lock);
  // Everything in the head goes to the chunk store first, and the WAL is
  // truncated, so the cut below is the only copy to change and a replay
  // never brings deleted samples back.
  Status s = CheckpointLocked();
  if (!s.ok()) return s;

  SeriesIds ids = postings_.Select(matchers);
  if (evicted_until_.load(std::memory_order_acquire) != kNoTime) {
    // Series outside the head are in the persisted index only.
    SeriesIds stored;
    s = SelectStoredSeries(matchers, &stored);
    if (!s.ok()) return s;
    ids = MemPostings::Union({&ids, &stored});
  }
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> chunks = NewChunkIterator();
  std::string value;
  std::vector<uint64_t> removed;
  for (uint64_t id : ids) {
    MemSeries* series = id < series_by_id_.size() ? series_by_id_[id].get() : nullptr;
    if (whole) {
      // Its labels name the records to remove; it leaves memory below.
      if (series == nullptr) s = LoadStoredSeries(id, &series);
      if (!s.ok()) return s;
      if (series == nullptr) continue;
      ++stats->series_matched;
      PutSeriesRemoval(*series, &batch);
      removed.push_back(id);
      continue;
    }
    ++stats->series_matched;
    // The head holds nothing unpersisted now; release its open chunk so
    // reads take the cut chunks from disk only.
    if (series != nullptr) series->CheckpointDone(/*close_open_chunk=*/true);
    for (chunks->Seek(ChunkSeekKey(id, WindowSeekStart(mint))); chunks->Valid(); chunks->Next()) {
      ChunkKeyParts parts;
      if (!DecodeChunkKey(std::string_view(chunks->key().data(), chunks->key().size()), &parts)) {
        return Status::Corruption("bad chunk key");
      }
      if (parts.series_id != id || parts.min_time > maxt) break;
      int64_t chunk_max;
      std::string_view chunk;
      if (!DecodeChunkValue(std::string_view(chunks->value().data(), chunks->value().size()), parts.min_time,
                            &chunk_max, &chunk)) {
        return Status::Corruption("bad chunk value for series " + std::to_string(id));
      }
      if (chunk_max < mint) continue;
      batch.Delete(cf(kChunks), chunks->key());
      if (parts.min_time >= mint && chunk_max <= maxt) {
        ++stats->chunks_deleted;
        continue;
      }
      std::string cut;
      int64_t cut_min = 0, cut_max = 0;
      bool any_left = false;
      s = CutChunk(chunk, mint, maxt, &cut, &cut_min, &cut_max, &any_left);
      if (!s.ok()) return Status::Corruption("series " + std::to_string(id) + ": " + s.message());
      if (!any_left) {
        ++stats->chunks_deleted;
        continue;
      }
      // The same sequence: conflicting samples still resolve as before.
      value.clear();
      EncodeChunkValue(cut_min, cut_max, cut, &value);
      batch.Put(cf(kChunks), ChunkKey(id, cut_min, parts.chunk_sequence), value);
      ++stats->chunks_rewritten;
    }
    s = FromRocks(chunks->status());
    if (!s.ok()) return s;
    batch.DeleteRange(cf(kExemplars), ExemplarKey(id, mint),
                      maxt == std::numeric_limits<int64_t>::max() ? SeriesPrefixStart(id + 1)
                                                                  : ExemplarKey(id, maxt + 1));
    for (int index = 0; index < 3; ++index) {
      s = CutRollupSpans(index, id, mint, maxt, &batch, stats);
      if (!s.ok()) return s;
    }
  }
  // One synced batch: after a crash the delete happened entirely or not at
  // all (the stale marks in it make the downsampler redo the rollups).
  if (!removed.empty()) PutSeriesIds(removed.size(), &batch);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  s = FromRocks(rocks_->Write(write_options, &batch));
  if (!s.ok()) return s;
  // Durable: the series leave the index and memory.
  removed_series_ += removed.size();
  ForgetSeries(removed);
  stats->series_removed += removed.size();
  return Status::OK();
}

void DBImpl::PutSeriesRemoval(const MemSeries& series, rocksdb::WriteBatch* batch) {
  const uint64_t id = series.id();
  // Every record of the series, in every family.
  for (ColumnFamilyIndex family : {kChunks, kExemplars, kRollups5m, kRollups1h, kRollups1d}) {
    batch->DeleteRange(cf(family), SeriesPrefixStart(id), SeriesPrefixStart(id + 1));
  }
  for (int code = 1; code <= 3; ++code) {
    batch->DeleteRange(cf(kRollupDirty), RollupDirtyKey(code, id, kNoTime), RollupDirtyKey(code, id + 1, kNoTime));
  }
  for (const Label& label : series.labels()) batch->Delete(cf(kPostings), PostingKey(label.name, label.value, id));
  batch->Delete(cf(kSeriesHashes), SeriesHashKey(series.hash(), id));
  batch->Delete(cf(kHeadSeries), HeadSeriesKey(id));
  batch->Delete(cf(kSeries), SeriesKey(id));
}

void DBImpl::ForgetSeries(const std::vector<uint64_t>& ids) {
  std::vector<std::pair<uint64_t, Labels>> forgotten;
  forgotten.reserve(ids.size());
  for (uint64_t id : ids) {
    MemSeries* series = id < series_by_id_.size() ? series_by_id_[id].get() : nullptr;
    if (series == nullptr) continue;
    forgotten.emplace_back(id, series->labels());
    series_index_.Erase(series);
    series_by_id_[id].reset();
    --resident_series_;
  }
  // One pass per postings list, however many series go.
  postings_.DeleteMany(forgotten);
}

Status DBImpl::CutRollupSpans(int index, uint64_t series_id, int64_t mint, int64_t maxt, rocksdb::WriteBatch* batch,
                              DeleteStats* stats) {
  const int64_t resolution = kRollupResolutions[index];
  const int64_t sealed = rollup_sealed_[index].load(std::memory_order_acquire);
  if (sealed == kNoTime) return Status::OK();
  constexpr int64_t kLimit = model::kRollupTimeLimitMs;
  const int64_t low = std::max(mint, -kLimit + 1), high = std::min(maxt, kLimit - 1);
  if (low > high) return Status::OK();
  // Windows (end - res, end] that hold a time in [low, high].
  const int64_t first_end = model::WindowEnd(low, resolution);
  const int64_t last_end = std::min(model::WindowEnd(high, resolution), sealed);
  if (first_end > last_end) return Status::OK();
  const int64_t finer_cutoff = retention_cutoff_[index].load(std::memory_order_acquire);
  const ColumnFamilyIndex family = RollupFamily(index);
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(family)));
  const int64_t last_span = RollupSpanStart(last_end, resolution);
  std::vector<model::FloatWindow> stored, kept;
  for (it->Seek(RollupChunkKey(series_id, RollupSpanStart(first_end, resolution))); it->Valid(); it->Next()) {
    if (it->key().size() != 16 || DecodeFixed64BE(it->key().data()) != series_id) break;
    const int64_t span_start = KeyBitsToTimestamp(DecodeFixed64BE(it->key().data() + 8));
    if (span_start > last_span) break;
    if (finer_cutoff == kNoTime || span_start >= finer_cutoff) {
      // Recomputable from the (cut) finer data: a stale mark, with the
      // wall clock 0 so the next downsampling run redoes it; readers
      // compute it from the finer data until then.
      std::string mark;
      PutFixed64BE(&mark, rollup_mark_sequence_.fetch_add(1, std::memory_order_relaxed));
      PutFixed64BE(&mark, 0);
      batch->Put(cf(kRollupDirty), RollupDirtyKey(index + 1, series_id, span_start), mark);
      ++stats->spans_marked;
      continue;
    }
    // The finer data is gone: drop the windows that overlap the range.
    int64_t chunk_resolution;
    Status s = DecodeRollupChunk(std::string_view(it->value().data(), it->value().size()), &chunk_resolution, &stored);
    if (!s.ok()) return Status::Corruption("series " + std::to_string(series_id) + ": " + s.message());
    kept.clear();
    for (const model::FloatWindow& window : stored) {
      if (window.end_ms < first_end || window.end_ms > last_end) kept.push_back(window);
    }
    if (kept.empty()) {
      batch->Delete(cf(family), it->key());
    } else {
      std::string chunk;
      s = EncodeRollupChunk(resolution, kept, &chunk);
      if (!s.ok()) return s;
      batch->Put(cf(family), it->key(), chunk);
    }
    ++stats->spans_trimmed;
  }
  return FromRocks(it->status());
}

}  // namespace tsvault::storage
