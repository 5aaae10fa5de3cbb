// DBImpl: the storage engine behind storage::DB (internal). Split by concern:
// db_open.cc (open, recovery, close), db_series.cc (which series are
// resident, the persisted index), db_write.cc (append), db_read.cc (select
// and label queries), db_checkpoint.cc (head checkpoints), db_stats.cc
// (counters), db_rollup.cc, db_retention.cc, db_delete.cc.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "storage/column_families.h"
#include "storage/db.h"
#include "storage/mem_postings.h"
#include "storage/mem_series.h"
#include "storage/series_index.h"
#include "storage/wal_syncer.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
class Status;
class Iterator;
class CompactionFilter;
class Env;
}  // namespace rocksdb

namespace tsvault::storage {

// Tests only: the RocksDB Env every DB opened from now on uses (null: the
// default), e.g. one that simulates power loss
// (tests/unit/storage/power_loss_file_system.h). Not for production code.
void SetRocksEnvForTesting(rocksdb::Env* env);


// Converts a RocksDB status into ours.
Status FromRocks(const rocksdb::Status& status);

// 0, 1, 2 for the 5m, 1h and 1d resolutions; -1 for anything else.
int RollupResolutionIndex(int64_t resolution_ms);

// The rollup resolutions by index (5m, 1h, 1d) and their column families.
inline constexpr int64_t kRollupResolutions[3] = {model::kResolution5m, model::kResolution1h, model::kResolution1d};
inline ColumnFamilyIndex RollupFamily(int index) {
  return static_cast<ColumnFamilyIndex>(kRollups5m + static_cast<size_t>(index));
}

// The rollup spans one Append changes with history samples (db_history.cc).
struct HistorySpans {
  struct Span {
    int index;  // 0, 1, 2: 5m, 1h, 1d
    uint64_t series_id;
    int64_t span_start;
    std::vector<model::FloatWindow> windows;
  };
  std::vector<model::FloatWindow>* Find(int index, uint64_t series_id, int64_t span_start);
  // Adds a span (not yet in `spans`); returns its windows.
  std::vector<model::FloatWindow>* Add(Span span);
  std::deque<Span> spans;  // a deque: pointers to windows stay valid
  std::map<std::tuple<int, uint64_t, int64_t>, size_t> positions;  // (index, series, span start) -> in `spans`
  bool marked_stale = false;
};

// Locking (details on each member below). Lock order: history_mutex_ (only
// Append takes it), retention_mutex_,
// then downsample_mutex_, then checkpoint_mutex_ or background_mutex_, then
// head_mutex_; rollup_stale_mutex_ only with head_mutex_ released. No other
// lock is taken while head_mutex_ is held, and none is recursive.
class DBImpl final : public DB {
 public:
  explicit DBImpl(const Options& options);
  // Stops and joins the background thread, then (checkpoint_on_close, and
  // only when OpenImpl succeeded) takes a final checkpoint.
  // REQUIRES: no other call on this DB in progress.
  ~DBImpl() override;

  // Runs single-threaded: the DB is not shared yet and the background
  // thread is started only at its end.
  Status OpenImpl();

  // Every public method takes the locks it needs.
  // REQUIRES: head_mutex_, checkpoint_mutex_ and background_mutex_ not held.
  Status Append(const WriteInput& input, WriteResult* result) override;
  Status Select(const SelectHints& hints, const std::vector<LabelMatcher>& matchers,
                std::unique_ptr<SeriesSet>* out) override;
  Status Series(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                int64_t max_time_ms, std::vector<Labels>* out) override;
  Status LabelNames(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                    int64_t max_time_ms, std::vector<std::string>* out) override;
  Status LabelValues(const std::string& name, const std::vector<LabelMatcher>& matchers,
                     int64_t min_time_ms, int64_t max_time_ms,
                     std::vector<std::string>* out) override;
  Status Metadata(const std::string& metric, std::vector<MetricMetadata>* out) override;
  Status Exemplars(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                   int64_t max_time_ms,
                   std::vector<std::pair<Labels, std::vector<Exemplar>>>* out) override;
  // Takes checkpoint_mutex_, then head_mutex_ exclusively for the whole
  // checkpoint (RocksDB write included). Also called internally by
  // OpenImpl, CompactAll, CheckpointLoop and the destructor.
  // REQUIRES: checkpoint_mutex_ and head_mutex_ not held.
  Status Checkpoint() override;
  // Checkpoint's body. REQUIRES: checkpoint_mutex_ and head_mutex_ held
  // exclusively.
  Status CheckpointLocked();
  Status CompactAll() override;
  // RocksDB's Checkpoint (db_checkpoint.cc). Needs no lock of ours.
  Status Snapshot(const std::string& directory) override;
  // Takes downsample_mutex_; reads like Select and writes rollups, taking
  // head_mutex_ shared per series. REQUIRES: no lock held.
  using DB::Downsample;
  Status Downsample(int64_t seal_until_ms, int64_t redo_marked_before_ms, DownsampleStats* stats) override;
  // Takes downsample_mutex_, checkpoint_mutex_ and head_mutex_
  // (exclusively, appends blocked) for the whole call (db_delete.cc).
  // REQUIRES: no lock held.
  Status Delete(const std::vector<LabelMatcher>& matchers, int64_t mint, int64_t maxt, DeleteStats* stats) override;
  // Takes retention_mutex_, downsample_mutex_ and head_mutex_ (with
  // appends blocked) while it reads the watermarks and stale marks and
  // writes the cutoffs; then only retention_mutex_ while it compacts.
  // REQUIRES: no lock held.
  Status ApplyRetention(const RetentionRequest& request, RetentionStats* stats) override;
  // Needs no lock (atomics).
  int64_t RetentionCutoff(int64_t resolution_ms) override;
  // Takes head_mutex_ shared for the head's part. REQUIRES: no lock held.
  Status OldestTime(int level, int64_t* out) override;
  // The write log (db_log.cc). ReadLog takes log_mutex_ briefly, then reads
  // RocksDB; AdvanceLogConsumer and LogConsumers take log_mutex_;
  // SeriesLabels takes head_mutex_ shared. REQUIRES: no lock held.
  Status ReadLog(uint64_t from, size_t max_records, std::vector<LogRecord>* out, uint64_t* next) override;
  Status AdvanceLogConsumer(const std::string& name, uint64_t position) override;
  Status MarkLogConsumerSegment(const std::string& name, uint64_t end) override;
  std::vector<LogConsumerState> LogConsumers(uint64_t* kept_bytes) override;
  Status SeriesLabels(uint64_t series_id, Labels* labels) override;
  DBStats Stats() override;
  // Reads RocksDB only (db_inspect.cc). REQUIRES: no lock held.
  Status Inspect(std::vector<ResolutionSummary>* out) override;
  CardinalityStats Cardinality(size_t limit, bool all_series) override;

 private:
  friend class DBSeriesSet;

  // Handles are indexed by ColumnFamilyIndex (storage/column_families.h).

  // --- the write log kept for consumers (db_log.cc) ---
  // Reads wal_checkpointed and the consumers' positions; drops stored
  // positions of consumers no longer listed. REQUIRES: called only from
  // OpenImpl, before ReplayWal.
  Status LoadLogConsumers();
  // After ReplayWal: new consumers start at next_log_sequence_, and the
  // kept records' sizes are counted. REQUIRES: called only from OpenImpl.
  Status StartLogConsumers();
  // The lowest record any consumer needs (next_log_sequence_ without
  // consumers), after giving up the oldest records if the kept bytes exceed
  // Options::log_max_bytes (without log_reject_when_full); adds the moved
  // positions and wal_checkpointed to *batch. REQUIRES: head_mutex_ held
  // exclusively (a checkpoint); takes log_mutex_.
  uint64_t TrimLogForCheckpoint(rocksdb::WriteBatch* batch);
  // Appends record `sequence` of `bytes` holding `samples` samples and
  // histograms to the kept-size accounting and marks it in flight. Called
  // only when the log has consumers. REQUIRES: head_mutex_ held
  // exclusively; takes log_mutex_.
  void LogRecordStarted(uint64_t sequence, uint64_t bytes, uint64_t samples);
  // Its RocksDB write finished (or failed). Takes log_mutex_.
  void LogRecordFinished(uint64_t sequence);
  // Applies `update` to consumer `name` under log_mutex_ and, when it
  // returns true, writes the consumer's value after releasing it.
  // Takes log_position_write_mutex_, then log_mutex_.
  struct LogConsumer;
  Status UpdateLogConsumer(const std::string& name, const std::function<bool(LogConsumer*)>& update);
  // True when Append must refuse writes (log full, reject policy). Atomic.
  bool LogRefusesWrites() const { return log_refuses_writes_.load(std::memory_order_acquire); }

  // --- open / recovery (db_open.cc) ---
  // ReplayWal fills the head without head_mutex_.
  // REQUIRES: called only from OpenImpl, before any other thread can see
  // the head.
  Status ReplayWal();
  // Body of the background thread. Holds background_mutex_ while waiting,
  // takes head_mutex_ shared under it, and releases background_mutex_
  // around Checkpoint().
  // REQUIRES: background_mutex_, checkpoint_mutex_ and head_mutex_ not held.
  void CheckpointLoop();

  // --- write (db_write.cc) ---
  // Stops new appends at the head lock and waits until every append that
  // passed it has written its batch (its WAL record, series records and
  // stale marks are in RocksDB), so the caller sees everything accepted so
  // far. The wait releases the lock in between. Called by Delete and
  // ApplyRetention. REQUIRES: head_mutex_ held exclusively through `lock`.
  void BlockAppends(std::unique_lock<std::shared_mutex>* lock);
  // Lets appends go on again. REQUIRES: head_mutex_ held exclusively.
  void UnblockAppends();
  // BlockAppends for a scope. REQUIRES: head_mutex_ held exclusively
  // through `lock` for the object's whole life.
  class ScopedAppendBlock {
   public:
    ScopedAppendBlock(DBImpl* db, std::unique_lock<std::shared_mutex>* lock) : db_(db) { db_->BlockAppends(lock); }
    ~ScopedAppendBlock() { db_->UnblockAppends(); }
    ScopedAppendBlock(const ScopedAppendBlock&) = delete;
    ScopedAppendBlock& operator=(const ScopedAppendBlock&) = delete;

   private:
    DBImpl* db_;
  };

  // --- series residency (db_series.cc) ---
  // Only series that may still change are resident (a MemSeries, in
  // series_index_ and postings_): those with data in memory or samples
  // after the 1d rollup watermark. The others live in the persisted index
  // (series, postings, series_hashes) and come back on their next sample.
  //
  // Loads the resident set at open: the head_series keys, or every series
  // of a directory from before them (which it migrates).
  // REQUIRES: called only from OpenImpl, before ReplayWal.
  Status LoadSeries();
  // The resident series with these labels: found in the head, loaded from
  // the persisted index, or created (`*created`).
  // REQUIRES: head_mutex_ held exclusively.
  // With `allow_new` false, a series that is not stored yet is not created:
  // *out is null.
  Status GetOrCreateSeries(const Labels& labels, MemSeries** out, bool* created, bool allow_new = true);
  // Makes `series` resident (id table, hash index, postings) under a new
  // incarnation; returns it. REQUIRES: head_mutex_ held exclusively (or
  // OpenImpl).
  MemSeries* InstallSeries(std::unique_ptr<MemSeries> series, const Labels& labels);
  // Makes the stored series `id` resident; *out is null when no series has
  // that id. REQUIRES: head_mutex_ held exclusively (or OpenImpl).
  Status LoadStoredSeries(uint64_t id, MemSeries** out);
  // Adds what is missing of the series' records to `batch`: series,
  // postings and hash keys (!persisted()), its head_series key
  // (!in_head_set()). REQUIRES: head_mutex_ held.
  void PutSeriesRecords(const MemSeries& series, rocksdb::WriteBatch* batch);
  // Checkpoint's last step: series with nothing in memory whose samples
  // all lie at or before the 1d rollup watermark leave the head (their
  // head_series keys and the new evicted_until go in one write).
  // REQUIRES: checkpoint_mutex_ and head_mutex_ held exclusively.
  Status EvictIdleSeries();
  // Series ids of the persisted index matching `matchers` (every stored
  // series, resident or not). Reads RocksDB only; needs no lock.
  Status SelectStoredSeries(const std::vector<LabelMatcher>& matchers, SeriesIds* out);
  // Adds to `batch` the new next id and removed count after `removed`
  // more series were removed. REQUIRES: head_mutex_ held exclusively.
  void PutSeriesIds(uint64_t removed, rocksdb::WriteBatch* batch);
  // Applies one replayed or incoming float/histogram sample to the head.
  // REQUIRES: head_mutex_ held exclusively (or called from ReplayWal).
  AppendOutcome ApplyFloat(MemSeries* series, const Sample& sample);
  AppendOutcome ApplyHistogram(MemSeries* series, const Histogram& histogram);

  // --- read (db_read.cc) ---
  struct SelectedSeries {
    uint64_t id;
    Labels labels;
    // Not in the head over the range, and SelectSeries was asked to leave
    // checking disk for data in it to the reader (ProbeSeries).
    bool unprobed = false;
  };
  // Series matching all matchers with data in [mint, maxt], sorted by labels:
  // raw samples after the raw retention cutoff or, where retention dropped
  // raw samples of the range, rollups up to `max_resolution_ms` (0: raw
  // only). Takes head_mutex_ shared, and reads RocksDB after releasing it.
  // REQUIRES: head_mutex_ not held.
  // With `defer_probe`, series outside the head are listed unprobed
  // instead, for the reader to check as it reaches them, with the same seek
  // that then reads their chunks.
  Status SelectSeries(const std::vector<LabelMatcher>& matchers, int64_t mint, int64_t maxt,
                      bool require_selective_matcher, int64_t max_resolution_ms,
                      std::vector<SelectedSeries>* out, bool defer_probe = false);
  // Whether a series outside the head holds data in [mint, maxt] on disk:
  // raw chunks after the raw cutoff or, where retention dropped raw samples
  // of the range, rollups up to `max_resolution_ms`. *positioned says
  // whether `iterator` was left where CollectChunks(..., positioned=true)
  // can go on reading this series' chunks. Needs no lock.
  Status ProbeSeries(uint64_t series_id, int64_t mint, int64_t maxt, int64_t max_resolution_ms,
                     rocksdb::Iterator* iterator, bool* has_data, bool* positioned);
  // Whether a rollup span of the series up to `max_resolution_ms` may hold
  // windows in [mint, maxt] (span granularity). Needs no lock.
  bool HasRollupsInRange(uint64_t series_id, int64_t mint, int64_t maxt, int64_t max_resolution_ms);
  // Every chunk of a series overlapping [mint, maxt], from the head and disk.
  // Takes head_mutex_ shared for the head part only; called from
  // DBSeriesSet::Samples on reader threads.
  // REQUIRES: head_mutex_ not held.
  // `positioned`: `iterator` is where ProbeSeries left it for this series
  // and range, so the disk part needs no new seek.
  Status CollectChunks(uint64_t series_id, int64_t mint, int64_t maxt, rocksdb::Iterator* iterator,
                       std::vector<ChunkData>* chunks, bool positioned = false);
  // Persisted chunks overlapping [mint, maxt]; with `first_only`, stops at
  // the first (an existence check), leaving `iterator` on it. Without
  // `seek`, goes on from where such a check left `iterator`. Reads RocksDB
  // only; needs no lock.
  Status ReadPersistedChunks(uint64_t series_id, int64_t mint, int64_t maxt, bool first_only,
                             rocksdb::Iterator* iterator, std::vector<ChunkData>* chunks, bool seek = true);
  // Needs no lock.
  std::unique_ptr<rocksdb::Iterator> NewChunkIterator(bool fill_cache = true);
  // Takes head_mutex_ shared (directly or through SelectSeries).
  // REQUIRES: head_mutex_ not held.
  Status CollectLabelStrings(const std::string* name, const std::vector<LabelMatcher>& matchers,
                             int64_t min_time_ms, int64_t max_time_ms, std::vector<std::string>* out);

  // --- Rollups (db_rollup.cc). Resolution index 0 = 5m, 1 = 1h, 2 = 1d. ---
  // Windows of `series_id` at `index` with ends in [first_end, last_end]
  // (multiples of the resolution), from stored spans where sealed and not
  // stale, computed otherwise. REQUIRES: no lock held.
  Status ReadWindows(int index, uint64_t series_id, int64_t first_end, int64_t last_end,
                     std::vector<model::FloatWindow>* out);
  // The same windows computed from the next finer data (raw samples for 5m).
  Status ComputeWindows(int index, uint64_t series_id, int64_t first_end, int64_t last_end,
                        std::vector<model::FloatWindow>* out);
  // The first and last sample times of a series (head and chunk store);
  // false when it has none. REQUIRES: no lock held.
  bool SeriesTimeRange(uint64_t series_id, int64_t* min_time, int64_t* max_time);
  // The same for the chunk store only, through `it` (a chunk iterator).
  // Needs no lock.
  bool PersistedTimeRange(uint64_t series_id, rocksdb::Iterator* it, int64_t* min_time, int64_t* max_time);
  // Downsample's work for one resolution. REQUIRES: downsample_mutex_ held.
  Status DownsampleResolution(int index, int64_t seal_until_ms, int64_t redo_marked_before_ms,
                              DownsampleStats* stats);
  Status RedoStaleSpans(int index, int64_t redo_marked_before_ms, DownsampleStats* stats);
  // Stores `windows` (ends in one span) as the span's chunk, or deletes it.
  Status WriteSpan(int index, uint64_t series_id, int64_t span_start,
                   const std::vector<model::FloatWindow>& windows);
  // Adds to `batch` a stale mark for every rollup span that a sample of
  // `series_id` at `timestamps` (the smallest is `min_timestamp`) lands in,
  // for each resolution being sealed past it; true if it added any.
  // REQUIRES: head_mutex_ held (exclusively, by Append).
  // Resolutions before `first_index` (0 = 5m) are not marked: a history
  // sample written straight into level i marks only the coarser ones.
  bool MarkStaleRollups(uint64_t series_id, int64_t min_timestamp, const std::vector<int64_t>& timestamps,
                        rocksdb::WriteBatch* batch, int first_index = 0);
  // Folds the float and histogram samples of `series` that lie at or before
  // the raw retention cutoff into the finest rollup level that still holds
  // their time (db_history.cc): each lands in its window when it comes
  // before or after every sample the window holds, or is the same sample
  // again; otherwise it is refused (too_old) or a conflict. Loaded and
  // changed spans stay in `spans` until PutHistorySpans; stale marks for the
  // coarser levels go into `batch`. Counts into `result`.
  // REQUIRES: history_mutex_ and head_mutex_ held (exclusively, by Append).
  // Samples exactly at `raw_cutoff` were also written raw and counted
  // there; here they are neither counted nor reported.
  Status FoldHistory(const MemSeries& series, const std::vector<Sample>& floats,
                     const std::vector<Histogram>& histograms, int64_t raw_cutoff, HistorySpans* spans,
                     rocksdb::WriteBatch* batch, WriteResult* result);
  // The windows of a span, from `spans` or else from the store.
  // REQUIRES: as FoldHistory.
  Status LoadHistorySpan(int index, uint64_t series_id, int64_t span_start, HistorySpans* spans,
                         std::vector<model::FloatWindow>** out);
  // Adds the changed spans to `batch`. REQUIRES: history_mutex_ held.
  Status PutHistorySpans(HistorySpans* spans, rocksdb::WriteBatch* batch);
  // Reads the persisted watermarks. Called by OpenImpl only.
  Status LoadRollupWatermarks();
  // Adds to `batch` the removal of every record of `series` (all column
  // families, its postings and its series key). REQUIRES: head_mutex_ held.
  void PutSeriesRemoval(const MemSeries& series, rocksdb::WriteBatch* batch);
  // After that batch is durable: the series leave the in-memory index and
  // their MemSeries are freed (ids not resident are skipped).
  // REQUIRES: head_mutex_ held exclusively.
  void ForgetSeries(const std::vector<uint64_t>& ids);
  // ApplyRetention's last step: removes the series that hold nothing any
  // more (no sample in memory, nothing at or after any level's cutoff):
  // the resident ones and, with `include_stored`, every stored series.
  // Candidates are found with head_mutex_ shared, then removed under
  // checkpoint_mutex_ and head_mutex_ (appends blocked) after a re-check.
  // REQUIRES: retention_mutex_ and downsample_mutex_ held; head_mutex_ and
  // checkpoint_mutex_ not held.
  Status RemoveEmptySeries(bool include_stored, uint64_t* removed);
  // Whether any record of the series is at or after the cutoffs. Reads
  // RocksDB only; needs no lock.
  bool HasRetainedData(uint64_t series_id);
  // Delete's rollup part for one series and resolution, into `batch`: a
  // stale mark for each sealed span over [mint, maxt] that can be redone
  // from finer data; where retention dropped that, the span without the
  // windows that overlap the range. REQUIRES: downsample_mutex_ held.
  Status CutRollupSpans(int index, uint64_t series_id, int64_t mint, int64_t maxt, rocksdb::WriteBatch* batch,
                        DeleteStats* stats);

  // --- Retention (db_retention.cc) ---
  // Reads the persisted cutoffs. Called by OpenImpl only.
  Status LoadRetentionCutoffs();
  // The compaction filter of a column family (null if retention never
  // drops its records); owned by the DB. Called by OpenImpl only.
  const rocksdb::CompactionFilter* RetentionFilterFor(ColumnFamilyIndex index);
  // ApplyRetention's decision and durable write of the new cutoffs into
  // next[]. REQUIRES: retention_mutex_, downsample_mutex_ and head_mutex_
  // (exclusively, appends blocked) held.
  Status MoveCutoffs(const RetentionRequest& request, int64_t next[kRetentionLevels]);
  // max(mint, raw cutoff): where reads of raw samples start. Needs no lock.
  int64_t RawReadStart(int64_t mint) const;

  // Needs no lock: handles_ is immutable after Open.
  rocksdb::ColumnFamilyHandle* cf(ColumnFamilyIndex index) const { return handles_[index]; }

  const Options options_;  // Immutable.
  // Set at the end of a successful OpenImpl. A DB whose open failed (e.g. a
  // corrupt WAL record) is closed without a checkpoint, which would delete
  // the WAL records it could not replay. Immutable after Open.
  bool opened_ = false;
  // Set in OpenImpl, then immutable until the destructor; no lock. RocksDB
  // and WalSyncer do their own locking.
  rocksdb::DB* rocks_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<WalSyncer> syncer_;

  // The head: the resident series (db_series.cc), their in-memory index
  // and the open chunks.
  // Guards series_by_id_, series_index_, postings_, chunk_sequencer_,
  // next_series_id_, removed_series_, resident_series_, next_incarnation_, encode_buffer_, next_log_sequence_,
  // logged_bytes_since_checkpoint_, head_max_time_, head_min_time_ and the
  // mutable state of every MemSeries. Writers (Append, Checkpoint, Delete)
  // hold it exclusively; readers hold it shared and call only const methods.
  // Delete frees the MemSeries of a removed series, so a MemSeries* is valid
  // only while the lock is held: after releasing it, look a series up again
  // by id (a null slot means it was deleted). Not held during Append's
  // RocksDB write or WAL sync wait, nor during reads of persisted chunks;
  // held across the RocksDB writes of Checkpoint and Delete.
  mutable std::shared_mutex head_mutex_;
  // Guarded by head_mutex_ (all members down to head_min_time_).
  std::vector<std::unique_ptr<MemSeries>> series_by_id_;  // index = id; [0] unused
  SeriesIndex series_index_;  // label set -> series, over series_by_id_
  MemPostings postings_;
  ChunkSequencer chunk_sequencer_{1};
  uint64_t next_series_id_ = 1;
  uint64_t removed_series_ = 0;  // ids below next_series_id_ removed since
  uint64_t resident_series_ = 0;  // MemSeries in series_by_id_
  uint64_t next_incarnation_ = 1;  // MemSeries::incarnation of the next one made
  std::string encode_buffer_;  // reused by GetOrCreateSeries (head lock held)
  uint64_t next_log_sequence_ = 1;
  uint64_t logged_bytes_since_checkpoint_ = 0;
  int64_t head_max_time_ = std::numeric_limits<int64_t>::min();
  int64_t head_min_time_ = std::numeric_limits<int64_t>::max();

  // Serializes Checkpoint() calls; guards no data of its own (Checkpoint
  // also holds head_mutex_ exclusively throughout). Taken before head_mutex_.
  std::mutex checkpoint_mutex_;
  std::atomic<uint64_t> checkpoints_{0};  // Atomic; no lock.

  // Background checkpoint thread. background_mutex_ guards stopping_ and is
  // taken before head_mutex_. background_wake_ is notified by the
  // destructor after setting stopping_, and by Append without the lock to
  // ask for an early checkpoint (a missed wake-up only delays it to the
  // loop's next one-second poll).
  std::mutex background_mutex_;
  std::condition_variable background_wake_;
  bool stopping_ = false;  // Guarded by background_mutex_.
  // Started at the end of OpenImpl, joined in the destructor; no lock.
  std::thread background_;

  // Rollups. rollup_sealed_[i]: windows of resolution i ending at or before
  // it are stored (readers trust stored spans up to it). rollup_sealing_[i]
  // >= rollup_sealed_[i]: what Downsample is sealing now; Append marks
  // samples at or before it stale. Atomic; written by Downsample only.
  std::array<std::atomic<int64_t>, 3> rollup_sealed_{};
  std::array<std::atomic<int64_t>, 3> rollup_sealing_{};
  // Serializes Downsample calls. Taken before any other lock.
  std::mutex downsample_mutex_;
  // Orders Append's writes of stale marks against Downsample's removal of
  // them (a mark is removed only if no newer one replaced it). Guards no
  // member. Taken after head_mutex_ is released.
  std::mutex rollup_stale_mutex_;
  // Serializes Appends that fold history samples into rollup spans
  // (db_history.cc), from reading a span to writing it back, so two of them
  // never rewrite one span from the same old version. Taken before
  // head_mutex_, only by Append.
  std::mutex history_mutex_;
  std::atomic<uint64_t> rollup_mark_sequence_{1};  // Atomic; no lock.
  // Stale marks known to be written and not yet redone (rollup_dirty keys):
  // Append skips rewriting them, so a backfill writes each mark once, not
  // once per request. Guarded by head_mutex_. RedoStaleSpans takes a key out
  // (holding head_mutex_ exclusively) before it reads the span, so a later
  // late sample writes a new mark. Cleared when an Append's write fails.
  std::unordered_set<std::string> written_stale_marks_;

  // Retention cutoffs per level (raw, 5m, 1h, 1d); INT64_MIN keeps all.
  // Atomic; written by ApplyRetention (after the durable write) and
  // OpenImpl, read by readers, Append and the compaction filters. They only
  // grow.
  std::array<std::atomic<int64_t>, kRetentionLevels> retention_cutoff_{};
  // Serializes ApplyRetention. Taken before downsample_mutex_ (which
  // ApplyRetention takes while it moves the cutoffs, so they never move
  // under a Delete or a Downsample).
  std::mutex retention_mutex_;

  // The write log (db_log.cc). wal_checkpointed_: records before it are in
  // the chunk store (guarded by head_mutex_). log_mutex_ (taken after
  // head_mutex_) guards the consumers, the in-flight sequences and the
  // kept-record sizes.
  uint64_t wal_checkpointed_ = 0;
  struct LogConsumer {
    uint64_t position = 0;
    uint64_t segment_end = 0;
    uint64_t records_dropped = 0;
    uint64_t samples_dropped = 0;
  };
  std::mutex log_mutex_;
  std::map<std::string, LogConsumer> log_consumers_;
  std::set<uint64_t> log_in_flight_;
  // Every record not yet deleted, oldest first; only with consumers.
  struct LoggedRecord {
    uint64_t sequence;
    uint64_t bytes;
    uint64_t samples;  // floats and histograms, for what drop-oldest counts
  };
  std::deque<LoggedRecord> log_record_sizes_;
  // Serializes AdvanceLogConsumer's position writes (taken before
  // log_mutex_, never with head_mutex_).
  std::mutex log_position_write_mutex_;
  uint64_t log_kept_bytes_ = 0;     // bytes of records before log_checkpointed_ still kept
  uint64_t log_checkpointed_ = 0;   // wal_checkpointed_, for log_mutex_ holders
  uint64_t log_assigned_end_ = 1;   // next_log_sequence_, for log_mutex_ holders
  std::atomic<bool> log_refuses_writes_{false};
  // Whether any consumer is listed (or kept, Options::keep_stored_log_consumers):
  // set once by StartLogConsumers, before other threads see the DB.
  bool has_log_consumers_ = false;

  // The append gate (BlockAppends). appends_blocked_ is guarded by
  // head_mutex_; appends_in_flight_ is atomic (incremented under
  // head_mutex_, decremented after the append's RocksDB write). Both sides
  // wait on append_gate_ with a short timeout: BlockAppends polls the
  // counter, and blocked appends are woken by UnblockAppends (or the poll).
  int appends_blocked_ = 0;
  std::atomic<int> appends_in_flight_{0};
  std::condition_variable_any append_gate_;
  // The compaction filters (RetentionFilterFor); they outlive rocks_, which
  // the destructor closes first.
  std::array<std::unique_ptr<rocksdb::CompactionFilter>, kRetentionLevels> retention_filters_;
  // Whether this process looked for series retention emptied yet. Guarded
  // by retention_mutex_.
  bool empty_series_checked_ = false;

  // No series outside the head has a sample after it (INT64_MIN: every
  // stored series is resident). Reads that reach back to it consult the
  // persisted index too. Written with head_mutex_ held exclusively (before
  // the evicted series leave the head); read under it or as a hint.
  std::atomic<int64_t> evicted_until_{std::numeric_limits<int64_t>::min()};

  // Written only during OpenImpl; immutable after Open.
  double restart_seconds_ = 0;
  uint64_t restart_replayed_records_ = 0;
};

}  // namespace tsvault::storage
