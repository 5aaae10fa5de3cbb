// Rollups: reading windows (stored where sealed and current, computed
// otherwise), the downsampler that seals them, and the stale marks that
// late samples leave. Layout: docs/storage-format.md, "Rollups".
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include "model/float_histogram.h"
#include "storage/chunkenc/rollup_chunk.h"
#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"
#include "storage/sample_merge.h"

namespace tsvault::storage {

namespace {

constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

constexpr int64_t kRollupTimeLimit = model::kRollupTimeLimitMs;

bool InRollupDomain(int64_t t) { return t > -kRollupTimeLimit && t < kRollupTimeLimit; }

}  // namespace

bool DBImpl::SeriesTimeRange(uint64_t series_id, int64_t* min_time, int64_t* max_time) {
  bool found = false;
  *min_time = std::numeric_limits<int64_t>::max();
  *max_time = std::numeric_limits<int64_t>::min();
  {
    // The head keeps the bounds of what it holds (no chunk copies).
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    if (series_id < series_by_id_.size() && series_by_id_[series_id]) {
      const MemSeries& series = *series_by_id_[series_id];
      if (series.min_time() <= series.max_time()) {
        *min_time = series.min_time();
        *max_time = series.max_time();
        found = true;
      }
    }
  }
  std::unique_ptr<rocksdb::Iterator> it = NewChunkIterator();
  int64_t stored_min, stored_max;
  if (PersistedTimeRange(series_id, it.get(), &stored_min, &stored_max)) {
    *min_time = std::min(*min_time, stored_min);
    *max_time = std::max(*max_time, stored_max);
    found = true;
  }
  return found;
}

bool DBImpl::PersistedTimeRange(uint64_t series_id, rocksdb::Iterator* it, int64_t* min_time, int64_t* max_time) {
  *min_time = std::numeric_limits<int64_t>::max();
  *max_time = std::numeric_limits<int64_t>::min();
  // Chunks of a series are ordered by min_time: the first has the smallest;
  // the largest max_time is among the last window's chunks, so scan back
  // from the end while chunks could still reach further.
  it->Seek(ChunkSeekKey(series_id, kNoTime));
  ChunkKeyParts parts;
  if (!it->Valid() || !DecodeChunkKey(std::string_view(it->key().data(), it->key().size()), &parts) ||
      parts.series_id != series_id) {
    return false;
  }
  *min_time = parts.min_time;
  *max_time = parts.min_time;
  it->SeekForPrev(ChunkSeekKey(series_id + 1, kNoTime));
  for (; it->Valid(); it->Prev()) {
    if (!DecodeChunkKey(std::string_view(it->key().data(), it->key().size()), &parts) ||
        parts.series_id != series_id) {
      break;
    }
    int64_t chunk_max;
    std::string_view chunk;
    if (!DecodeChunkValue(std::string_view(it->value().data(), it->value().size()), parts.min_time, &chunk_max,
                          &chunk)) {
      break;
    }
    *max_time = std::max(*max_time, chunk_max);
    // Every chunk lies inside one 2-hour window: nothing before this
    // chunk's window can end later than what was seen.
    if (AlignToWindow(parts.min_time) + kChunkWindowMs <= *max_time) break;
  }
  return true;
}

Status DBImpl::ComputeWindows(int index, uint64_t series_id, int64_t first_end, int64_t last_end,
                              std::vector<model::FloatWindow>* out) {
  const int64_t resolution = kRollupResolutions[index];
  if (index == 0) {
    // Raw samples in (first_end - res, last_end].
    const int64_t mint = first_end - resolution + 1;
    std::vector<ChunkData> chunks;
    std::unique_ptr<rocksdb::Iterator> iterator = NewChunkIterator();
    Status s = CollectChunks(series_id, mint, last_end, iterator.get(), &chunks);
    if (!s.ok()) return s;
    class Builder final : public SampleVisitor {
     public:
      explicit Builder(int64_t resolution) : windows(resolution) {}
      void Float(int64_t t, double value) override {
        if (InRollupDomain(t)) windows.Add(t, value);
      }
      void Histogram(int64_t t, const storage::Histogram& histogram) override {
        if (InRollupDomain(t)) windows.AddHistogram(t, histogram);
      }
      model::FloatWindowBuilder windows;
    } builder(resolution);
    s = VisitMergedSamples(std::move(chunks), mint, last_end, &builder);
    if (!s.ok()) return s;
    std::vector<model::FloatWindow> windows = builder.windows.Finish();
    out->insert(out->end(), windows.begin(), windows.end());
    return Status::OK();
  }
  // Coarser windows merge the finer windows that end inside them.
  const int64_t finer = kRollupResolutions[index - 1];
  std::vector<model::FloatWindow> fine;
  Status s = ReadWindows(index - 1, series_id, first_end - resolution + finer, last_end, &fine);
  if (!s.ok()) return s;
  std::vector<model::FloatWindow> coarse;
  for (const model::FloatWindow& window : fine) {
    const int64_t end = model::WindowEnd(window.end_ms, resolution);
    if (coarse.empty() || coarse.back().end_ms != end) {
      coarse.push_back(window);
    } else {
      model::MergeWindow(window, &coarse.back());
    }
    coarse.back().end_ms = end;
  }
  out->insert(out->end(), coarse.begin(), coarse.end());
  return Status::OK();
}

Status DBImpl::ReadWindows(int index, uint64_t series_id, int64_t first_end, int64_t last_end,
                           std::vector<model::FloatWindow>* out) {
  const int64_t resolution = kRollupResolutions[index];
  // Windows ending at or before the level's retention cutoff are dropped
  // (the cutoff is a multiple of every resolution's span).
  const int64_t cutoff = retention_cutoff_[index + 1].load(std::memory_order_acquire);
  if (cutoff != kNoTime) first_end = std::max(first_end, cutoff + resolution);
  // Marks lie above the finer level's cutoff (samples at or before the raw
  // cutoff are refused, ApplyRetention never passes a mark, Delete marks only
  // spans it can redo). Should one not, the stored windows stay the answer
  // rather than windows computed from dropped data.
  const int64_t finer_cutoff = retention_cutoff_[index].load(std::memory_order_acquire);
  if (first_end > last_end) return Status::OK();
  const int64_t sealed = rollup_sealed_[index].load(std::memory_order_acquire);
  const int64_t sealed_last = std::min(last_end, sealed);
  if (sealed != kNoTime && first_end <= sealed_last) {
    // Walk the series' stored spans and stale marks in the range with
    // iterators (empty spans cost nothing), in span order.
    const int64_t span = RollupSpanMs(resolution);
    const int code = index + 1;
    const int64_t first_span = RollupSpanStart(first_end, resolution);
    std::vector<int64_t> stale_spans;
    {
      // Bounded to this series' marks: redone marks leave deletion records
      // behind, and an unbounded seek past a series without live marks would
      // step over every deletion record that follows it.
      const std::string prefix = RollupDirtyKey(code, series_id, 0).substr(0, 9);
      const std::string bound = RollupDirtyKey(code, series_id + 1, kNoTime);
      const rocksdb::Slice upper(bound);
      rocksdb::ReadOptions read_options;
      read_options.iterate_upper_bound = &upper;
      std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(read_options, cf(kRollupDirty)));
      for (it->Seek(RollupDirtyKey(code, series_id, first_span)); it->Valid() && it->key().starts_with(prefix);
           it->Next()) {
        int key_code;
        uint64_t key_series;
        int64_t span_start;
        if (!DecodeRollupDirtyKey(std::string_view(it->key().data(), it->key().size()), &key_code, &key_series,
                                  &span_start)) {
          return Status::Corruption("bad stale mark key");
        }
        if (span_start >= sealed_last) break;
        if (finer_cutoff != kNoTime && span_start < finer_cutoff) continue;
        stale_spans.push_back(span_start);
      }
      Status s = FromRocks(it->status());
      if (!s.ok()) return s;
    }
    std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(RollupFamily(index))));
    it->Seek(RollupChunkKey(series_id, first_span));
    size_t next_stale = 0;
    std::vector<model::FloatWindow> stored;
    // Emits the stale spans that start before `limit`, computed from finer data.
    auto emit_stale_before = [&](int64_t limit) -> Status {
      for (; next_stale < stale_spans.size() && stale_spans[next_stale] < limit; ++next_stale) {
        const int64_t span_start = stale_spans[next_stale];
        Status s = ComputeWindows(index, series_id, std::max(first_end, span_start + resolution),
                                  std::min(sealed_last, span_start + span), out);
        if (!s.ok()) return s;
      }
      return Status::OK();
    };
    for (; it->Valid(); it->Next()) {
      if (it->key().size() != 16 || DecodeFixed64BE(it->key().data()) != series_id) break;
      const int64_t span_start = KeyBitsToTimestamp(DecodeFixed64BE(it->key().data() + 8));
      if (span_start >= sealed_last) break;
      Status s = emit_stale_before(span_start);
      if (!s.ok()) return s;
      if (next_stale < stale_spans.size() && stale_spans[next_stale] == span_start) continue;  // done below
      int64_t chunk_resolution;
      s = DecodeRollupChunk(std::string_view(it->value().data(), it->value().size()), &chunk_resolution, &stored);
      if (s.ok() && chunk_resolution != resolution) s = Status::Corruption("rollup chunk of another resolution");
      if (!s.ok()) return Status::Corruption("series " + std::to_string(series_id) + ": " + s.message());
      const int64_t low = std::max(first_end, span_start + resolution);
      const int64_t high = std::min(sealed_last, span_start + span);
      for (const model::FloatWindow& window : stored) {
        if (window.end_ms >= low && window.end_ms <= high) out->push_back(window);
      }
    }
    Status s = FromRocks(it->status());
    if (s.ok()) s = emit_stale_before(sealed_last);
    if (!s.ok()) return s;
  }
  const int64_t unsealed_first = sealed == kNoTime ? first_end : std::max(first_end, sealed + resolution);
  return ComputeWindows(index, series_id, unsealed_first, last_end, out);
}

Status DBImpl::WriteSpan(int index, uint64_t series_id, int64_t span_start,
                         const std::vector<model::FloatWindow>& windows) {
  rocksdb::WriteBatch batch;
  const std::string key = RollupChunkKey(series_id, span_start);
  if (windows.empty()) {
    batch.Delete(cf(RollupFamily(index)), key);
  } else {
    std::string chunk;
    Status s = EncodeRollupChunk(kRollupResolutions[index], windows, &chunk);
    if (!s.ok()) return s;
    batch.Put(cf(RollupFamily(index)), key, chunk);
  }
  return FromRocks(rocks_->Write(rocksdb::WriteOptions(), &batch));
}

Status DBImpl::RedoStaleSpans(int index, int64_t redo_marked_before_ms, DownsampleStats* stats) {
  const int code = index + 1;
  const int64_t resolution = kRollupResolutions[index];
  const int64_t sealed = rollup_sealed_[index].load(std::memory_order_acquire);
  const std::string prefix(1, static_cast<char>(code));
  const std::string bound(1, static_cast<char>(code + 1));
  const rocksdb::Slice upper(bound);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;  // not across the next code's deletion records
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(read_options, cf(kRollupDirty)));
  const std::string stage = std::string("redo stale ") + model::ResolutionName(resolution) + " spans";
  uint64_t seen = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (options_.progress_observer && ++seen % 1024 == 0) options_.progress_observer(stage, seen, 0);
    int key_code;
    uint64_t series_id;
    int64_t span_start;
    const std::string key = it->key().ToString();
    const std::string mark = it->value().ToString();
    if (!DecodeRollupDirtyKey(key, &key_code, &series_id, &span_start)) return Status::Corruption("bad stale mark key");
    // Value: u64be(sequence) u64be(wall-clock ms of the late sample's write).
    if (mark.size() == 16 && static_cast<int64_t>(DecodeFixed64BE(mark.data() + 8)) > redo_marked_before_ms) {
      continue;  // written recently (a backfill may still be going on): redo later
    }
    {
      // From here on a late sample for this span writes a new mark (which
      // the compare below then keeps); an earlier one is in the head already.
      std::unique_lock<std::shared_mutex> head_lock(head_mutex_);
      written_stale_marks_.erase(key);
    }
    const int64_t finer_cutoff = retention_cutoff_[index].load(std::memory_order_acquire);
    // Never recompute from dropped finer data (see ReadWindows).
    const bool finer_dropped = finer_cutoff != kNoTime && span_start < finer_cutoff;
    if (sealed != kNoTime && span_start < sealed && !finer_dropped) {
      // Recompute the sealed part of the span from finer data. The mark is
      // still in place, so ReadWindows of this resolution is not used here.
      std::vector<model::FloatWindow> windows;
      const int64_t high = std::min(span_start + RollupSpanMs(resolution), sealed);
      Status s = ComputeWindows(index, series_id, span_start + resolution, high, &windows);
      if (s.ok()) s = WriteSpan(index, series_id, span_start, windows);
      if (!s.ok()) return s;
      stats->windows_written += windows.size();
      ++stats->stale_spans_redone;
    }
    // Remove the mark unless a newer late sample replaced it meanwhile.
    std::lock_guard<std::mutex> lock(rollup_stale_mutex_);
    std::string current;
    rocksdb::Status rs = rocks_->Get(rocksdb::ReadOptions(), cf(kRollupDirty), key, &current);
    if (rs.ok() && current == mark) rs = rocks_->Delete(rocksdb::WriteOptions(), cf(kRollupDirty), key);
    if (!rs.ok() && !rs.IsNotFound()) return FromRocks(rs);
  }
  return FromRocks(it->status());
}

Status DBImpl::DownsampleResolution(int index, int64_t seal_until_ms, int64_t redo_marked_before_ms,
                                    DownsampleStats* stats) {
  const int64_t resolution = kRollupResolutions[index];
  const int64_t old_sealed = rollup_sealed_[index].load(std::memory_order_acquire);
  int64_t new_sealed = model::WindowFloor(seal_until_ms, resolution);
  // Coarser windows are built from the finer ones the previous resolution
  // sealed.
  if (index > 0) {
    const int64_t finer_sealed = rollup_sealed_[index - 1].load(std::memory_order_acquire);
    new_sealed = finer_sealed == kNoTime ? kNoTime : std::min(new_sealed, model::WindowFloor(finer_sealed, resolution));
  }
  Status s = RedoStaleSpans(index, redo_marked_before_ms, stats);
  if (!s.ok() || new_sealed == kNoTime || new_sealed <= old_sealed) return s;

  // From here on Append marks samples at or before new_sealed as stale for
  // this resolution, so a late sample that misses the reads below is redone.
  rollup_sealing_[index].store(new_sealed, std::memory_order_release);
  // Only resident series can hold samples after the old watermark: a
  // series leaves the head only once every window of it is sealed at every
  // resolution, and a late sample brings it back (with stale marks).
  std::vector<uint64_t> ids;
  {
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    ids.reserve(resident_series_);
    for (const auto& series : series_by_id_) {
      if (series) ids.push_back(series->id());
    }
  }
  const int64_t span = RollupSpanMs(resolution);
  std::vector<model::FloatWindow> windows, stored, combined;
  std::string value;
  const std::string stage = std::string("downsample ") + model::ResolutionName(resolution);
  for (size_t position = 0; position < ids.size(); ++position) {
    const uint64_t id = ids[position];
    if (options_.progress_observer && position % 4096 == 0) options_.progress_observer(stage, position, ids.size());
    int64_t min_time, max_time;
    if (!SeriesTimeRange(id, &min_time, &max_time)) continue;
    ++stats->series_scanned;
    min_time = std::max(min_time, -kRollupTimeLimit + 1);
    max_time = std::min(max_time, kRollupTimeLimit - 1);
    if (min_time > max_time) continue;
    const int64_t first_end =
        std::max(old_sealed == kNoTime ? kNoTime : old_sealed + resolution, model::WindowEnd(min_time, resolution));
    const int64_t last_end = std::min(new_sealed, model::WindowEnd(max_time, resolution));
    if (first_end > last_end) continue;
    windows.clear();
    s = ComputeWindows(index, id, first_end, last_end, &windows);
    if (!s.ok()) return s;
    // Group by span; a span that already holds sealed windows keeps them.
    size_t begin = 0;
    while (begin < windows.size()) {
      const int64_t span_start = RollupSpanStart(windows[begin].end_ms, resolution);
      size_t end = begin;
      while (end < windows.size() && windows[end].end_ms <= span_start + span) ++end;
      combined.clear();
      if (old_sealed != kNoTime && span_start < old_sealed) {
        rocksdb::Status rs =
            rocks_->Get(rocksdb::ReadOptions(), cf(RollupFamily(index)), RollupChunkKey(id, span_start), &value);
        if (rs.ok()) {
          int64_t chunk_resolution;
          s = DecodeRollupChunk(value, &chunk_resolution, &stored);
          if (!s.ok()) return s;
          for (const model::FloatWindow& w : stored) {
            if (w.end_ms < first_end) combined.push_back(w);
          }
        } else if (!rs.IsNotFound()) {
          return FromRocks(rs);
        }
      }
      combined.insert(combined.end(), windows.begin() + static_cast<std::ptrdiff_t>(begin),
                      windows.begin() + static_cast<std::ptrdiff_t>(end));
      s = WriteSpan(index, id, span_start, combined);
      if (!s.ok()) return s;
      stats->windows_written += end - begin;
      ++stats->spans_written;
      begin = end;
    }
  }
  if (options_.progress_observer) options_.progress_observer(stage, ids.size(), ids.size());
  // Every window up to new_sealed is stored: persist, then let readers use it.
  std::string encoded;
  PutFixed64BE(&encoded, TimestampToKeyBits(new_sealed));
  s = FromRocks(rocks_->Put(rocksdb::WriteOptions(), cf(kDefault), RollupWatermarkKey(index + 1), encoded));
  if (!s.ok()) return s;
  rollup_sealed_[index].store(new_sealed, std::memory_order_release);
  return Status::OK();
}

Status DBImpl::Downsample(int64_t seal_until_ms, int64_t redo_marked_before_ms, DownsampleStats* stats) {
  if (options_.read_only) return Status::Unsupported("the database is open read-only");
  std::lock_guard<std::mutex> lock(downsample_mutex_);
  *stats = DownsampleStats();
  for (int index = 0; index < 3; ++index) {
    Status s = DownsampleResolution(index, seal_until_ms, redo_marked_before_ms, stats);
    if (!s.ok()) return s;
    stats->sealed_until_ms[index] = rollup_sealed_[index].load(std::memory_order_acquire);
  }
  return Status::OK();
}

bool DBImpl::MarkStaleRollups(uint64_t series_id, int64_t min_timestamp, const std::vector<int64_t>& timestamps,
                              rocksdb::WriteBatch* batch, int first_index) {
  // A sample at or before any resolution's sealing point marks its span at
  // every resolution: coarse windows are built from finer stored windows,
  // and a coarse pass may read a finer span before this batch lands. Marks
  // for windows that are not sealed yet are harmless (readers compute those
  // anyway; the next run removes the mark).
  int64_t sealing = kNoTime;
  for (const auto& point : rollup_sealing_) sealing = std::max(sealing, point.load(std::memory_order_acquire));
  if (sealing == kNoTime || min_timestamp > sealing) return false;
  bool marked = false;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (int index = first_index; index < 3; ++index) {
    const int64_t resolution = kRollupResolutions[index];
    int64_t last_span = kNoTime;
    for (int64_t t : timestamps) {
      if (t > sealing || !InRollupDomain(t)) continue;
      const int64_t span_start = RollupSpanStart(model::WindowEnd(t, resolution), resolution);
      if (span_start == last_span) continue;
      last_span = span_start;
      std::string key = RollupDirtyKey(index + 1, series_id, span_start);
      if (written_stale_marks_.count(key) > 0) continue;  // already on disk, not redone yet
      std::string mark;
      PutFixed64BE(&mark, rollup_mark_sequence_.fetch_add(1, std::memory_order_relaxed));
      PutFixed64BE(&mark, static_cast<uint64_t>(now_ms));
      batch->Put(cf(kRollupDirty), key, mark);
      written_stale_marks_.insert(std::move(key));
      marked = true;
    }
  }
  return marked;
}

Status DBImpl::LoadRollupWatermarks() {
  for (int index = 0; index < 3; ++index) {
    std::string value;
    rocksdb::Status rs = rocks_->Get(rocksdb::ReadOptions(), cf(kDefault), RollupWatermarkKey(index + 1), &value);
    int64_t sealed = kNoTime;
    if (rs.ok()) {
      if (value.size() != 8) return Status::Corruption("bad rollup watermark");
      sealed = KeyBitsToTimestamp(DecodeFixed64BE(value.data()));
    } else if (!rs.IsNotFound()) {
      return FromRocks(rs);
    }
    rollup_sealed_[index].store(sealed, std::memory_order_release);
    rollup_sealing_[index].store(sealed, std::memory_order_release);
  }
  // Mark values must never repeat one still stored (RedoStaleSpans removes
  // a mark only if it is unchanged): continue above the largest.
  uint64_t largest = 0;
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kRollupDirty)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->value().size() >= 8) largest = std::max(largest, DecodeFixed64BE(it->value().data()));
  }
  rollup_mark_sequence_.store(largest + 1, std::memory_order_relaxed);
  return FromRocks(it->status());
}

int RollupResolutionIndex(int64_t resolution_ms) {
  for (int index = 0; index < 3; ++index) {
    if (kRollupResolutions[index] == resolution_ms) return index;
  }
  return -1;
}

}  // namespace tsvault::storage
