// The tsvault storage engine: the only way the rest of the project reads or
// writes series data. Backed by RocksDB; see docs/storage-format.md.
//
// Thread safety: every method may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "model/rollup.h"
#include "storage/matcher.h"
#include "storage/types.h"

namespace tsvault::storage {

// How a write waits for its WAL record to reach stable storage before the
// write returns (and so before the HTTP answer).
enum class WalSyncMode {
  kAlways,  // fsync in the write itself; concurrent writers share one fsync
  kBatch,   // writers wait for a group fsync issued at most every sync interval
  kNone,    // no fsync: survives a process crash, not an OS crash or power loss
};

// Parses "always", "batch" or "none".
Status ParseWalSyncMode(std::string_view text, WalSyncMode* mode);

// Options for DB::Open.
struct Options {
  std::string data_dir = "./data";
  WalSyncMode wal_sync = WalSyncMode::kBatch;
  // With kBatch: the longest a write waits for its group fsync.
  std::chrono::milliseconds wal_sync_interval{5};
  // How often the head (open chunks) is checkpointed into the chunk store,
  // which bounds the WAL replayed at start-up.
  std::chrono::seconds head_checkpoint_interval{60};
  // A checkpoint is also taken when this many bytes were logged since the last.
  uint64_t head_checkpoint_bytes = 32ull << 20;
  // RocksDB block cache shared by all column families.
  uint64_t block_cache_bytes = 256ull << 20;
  // Start the background checkpoint thread (tests turn it off to control it).
  bool background_checkpoints = true;
  // Open read-only (RocksDB's OpenForReadOnly): works on a directory a
  // running server holds, sees the data as of the open, and refuses every
  // write (Append, Checkpoint, Downsample, CompactAll answer Unsupported).
  // The directory must exist.
  bool read_only = false;
  // Checkpoint when the DB is destroyed. Tests turn it off to leave the WAL
  // as a crash would.
  bool checkpoint_on_close = true;
  // Receives the duration in seconds of every group WAL fsync (kBatch); for
  // the /metrics histogram. May be empty.
  std::function<void(double)> wal_sync_observer;
  // Receives the progress of long maintenance calls (Downsample,
  // CompactAll), for `tsvault compact`'s progress bar: a stage name, the
  // units done and their total (0 when unknown). Called on the caller's
  // thread, at most every few thousand units. May be empty.
  std::function<void(std::string_view stage, uint64_t done, uint64_t total)> progress_observer;
  // The write log's consumers (forwarding targets, docs/design/forwarding.md):
  // each has a position, and WAL records at or after the lowest position
  // are kept after checkpoints until every consumer has advanced past them
  // (DB::AdvanceLogConsumer). A listed consumer new to the directory starts
  // at the next record; a stored position whose name is not listed is
  // removed at open, freeing what was kept for it.
  std::vector<std::string> log_consumers;
  // Offline tools (import, delete, compact): every consumer stored in the
  // directory counts as listed, so records written now are kept for the
  // forwarding targets of the server that owns the directory.
  bool keep_stored_log_consumers = false;
  // Most resident (active) series: a write that would create a new series
  // beyond it is refused for that series (WriteResult::samples_series_limit),
  // as Mimir refuses series over its limit. Series already stored, even if
  // they left memory, are not new. 0: no bound.
  uint64_t max_series = 0;
  // Most new series one Append may create; later new series of the same
  // write are refused as with max_series (series_limit), so one request
  // cannot add a burst of tens of thousands at once. 0: no bound.
  uint64_t max_new_series_per_write = 0;
  // Bound on the bytes of records kept only for consumers (already in the
  // chunk store); 0: none. When exceeded, either the oldest are given up at
  // the next checkpoint (positions move past them, counted per consumer),
  // or, with log_reject_when_full, Append refuses writes with
  // ResourceExhausted until consumers catch up.
  uint64_t log_max_bytes = 0;
  bool log_reject_when_full = false;
  // Tests only: called by Append after it released the head lock and
  // before its RocksDB write, to widen that window in race tests. Empty in
  // production.
  std::function<void()> append_write_hook;
};

// Iterates the samples of one series in timestamp order. A series may mix
// float samples and native histograms over time; each position is one kind.
class SampleIterator {
 public:
  virtual ~SampleIterator() = default;
  // Advances to the next sample; false at the end.
  virtual bool Next() = 0;
  // Advances to the first sample with timestamp >= t (may stay put); false if none.
  virtual bool Seek(int64_t t) = 0;
  virtual int64_t timestamp() const = 0;
  // True when the current position holds a histogram (use histogram()).
  virtual bool is_histogram() const = 0;
  virtual double value() const = 0;
  virtual const Histogram& histogram() const = 0;
};

// A stream of series selected by matchers, in label-set order.
class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  // Advances to the next series; false at the end or on error (see status()).
  virtual bool Next() = 0;
  virtual const Labels& labels() const = 0;
  // The samples of the current series inside the selected time range.
  virtual std::unique_ptr<SampleIterator> Samples() const = 0;
  // The rollup windows (model/rollup.h) of the current series at
  // `resolution_ms` (5m, 1h or 1d) whose ends lie in [start, end'] of the
  // selection, where end' is the end of the window holding `end`. Windows
  // the downsampler sealed are read from disk unless late samples made them
  // stale; the rest are computed from finer data, so the windows are always
  // complete and current. A window with unknown histograms
  // (FloatWindow::histograms_unknown(), written before histogram rollups)
  // does not describe the series: read Samples() instead.
  // NotSupported for a set that has no rollups.
  virtual Status Windows(int64_t resolution_ms, std::vector<model::FloatWindow>* out) const {
    (void)resolution_ms;
    out->clear();
    return Status::Unsupported("this series set has no rollups");
  }
  virtual Status status() const = 0;
  // Splits the series not yet visited into at most `max_parts` sets of
  // consecutive series, in this set's order, each of at least
  // `min_series_per_part` series; the sets may be read from different
  // threads at once, and this set is left with nothing to visit. Returns no
  // sets (and changes nothing) when there are fewer than two parts' worth
  // or the set cannot be split.
  virtual std::vector<std::unique_ptr<SeriesSet>> Split(size_t max_parts, size_t min_series_per_part) {
    (void)max_parts;
    (void)min_series_per_part;
    return {};
  }
};

// What a reader is about to do with the series it selects, as Prometheus'
// storage.SelectHints: the time range to read and, for queries, the step,
// the range of the enclosing range selector and the function applied. The
// engine reads exactly [start_ms, end_ms]; the other fields let it choose
// how (e.g. a downsampled resolution that answers the function exactly).
struct SelectHints {
  SelectHints() = default;
  // Reads [start, end] with no further intent.
  SelectHints(int64_t start, int64_t end) : start_ms(start), end_ms(end) {}

  int64_t start_ms = INT64_MIN;  // first timestamp wanted (inclusive)
  int64_t end_ms = INT64_MAX;    // last timestamp wanted (inclusive)
  int64_t step_ms = 0;           // query resolution step; 0 for instant queries and non-queries
  int64_t range_ms = 0;          // range of the enclosing [range] selector; 0 for instant selectors
  std::string function;          // enclosing PromQL function (e.g. "rate"), empty if none
  // The coarsest stored resolution the reader accepts, in milliseconds
  // (Thanos' max_source_resolution): 0 reads raw samples only.
  int64_t max_resolution_ms = 0;
  // A one-off scan of much data (an export): its chunks do not go into the
  // block cache, so it neither evicts what queries keep reading nor grows
  // memory with its size.
  bool bulk = false;
};

// What one DB::Delete call did.
struct DeleteStats {
  uint64_t series_matched = 0;    // series the matchers selected
  uint64_t series_removed = 0;    // removed entirely (the whole time range was deleted)
  uint64_t chunks_deleted = 0;    // raw chunks dropped whole
  uint64_t chunks_rewritten = 0;  // raw chunks that kept samples outside the range
  uint64_t spans_marked = 0;      // rollup spans over the range marked stale: the downsampler redoes them
  uint64_t spans_trimmed = 0;     // rollup spans whose windows over the range were dropped (raw data gone)
};

// Retention levels (DB::ApplyRetention): index 0 is raw samples, 1..3 the
// 5m, 1h and 1d rollups.
inline constexpr int kRetentionLevels = 4;

// Counters describing the engine, for /metrics and /api/v1/status/tsdb.
struct DBStats {
  uint64_t series_total = 0;        // series stored (ever created, not removed)
  uint64_t resident_series = 0;     // series held in memory (the rest are on disk only)
  uint64_t head_series = 0;         // series with samples in the head
  uint64_t head_samples = 0;        // samples held in open chunks
  int64_t head_min_time_ms = 0;
  int64_t head_max_time_ms = 0;
  uint64_t checkpoints = 0;
  uint64_t wal_syncs = 0;
  double last_wal_sync_seconds = 0;
  double restart_seconds = 0;       // how long the last Open took
  // Per resolution (5m, 1h, 1d): rollup windows ending at or before this
  // are stored; INT64_MIN when none is.
  int64_t rollup_sealed_until_ms[3] = {INT64_MIN, INT64_MIN, INT64_MIN};
  // Per level (raw, 5m, 1h, 1d): DB::RetentionCutoff.
  int64_t retention_cutoff_ms[kRetentionLevels] = {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN};
  // Per level: bytes of the column families its retention drops from (raw:
  // chunks and exemplars; 5m, 1h, 1d: their rollup chunks).
  uint64_t retention_level_bytes[kRetentionLevels] = {0, 0, 0, 0};
  uint64_t restart_replayed_records = 0;
  struct ColumnFamilySize {
    std::string name;
    uint64_t bytes = 0;  // live SST bytes plus memtable bytes
  };
  std::vector<ColumnFamilySize> column_families;
};

// What one DB::Downsample call did.
struct DownsampleStats {
  uint64_t series_scanned = 0;      // series looked at for new windows
  uint64_t windows_written = 0;     // windows stored (all resolutions)
  uint64_t spans_written = 0;       // rollup chunks written
  uint64_t stale_spans_redone = 0;  // spans recomputed because late samples made them stale
  // Per resolution (5m, 1h, 1d): every window ending at or before this is sealed.
  int64_t sealed_until_ms[3] = {INT64_MIN, INT64_MIN, INT64_MIN};
};

// What one resolution of the store holds (DB::Inspect).
struct ResolutionSummary {
  int64_t resolution_ms = 0;       // 0 for raw samples, else 5m, 1h or 1d
  int64_t min_time_ms = INT64_MAX;  // first sample (raw) or first window end
  int64_t max_time_ms = INT64_MIN;  // last sample (raw); rollups: end of the last span holding windows, at most sealed_until
  uint64_t series = 0;              // series with data at this resolution
  uint64_t chunks = 0;              // persisted chunks (raw) or rollup spans
  uint64_t points = 0;              // samples (raw) or windows (rollups) in them
  uint64_t bytes = 0;               // the column family's size on disk and in memtables
  int64_t sealed_until_ms = INT64_MIN;  // rollups: the downsampler's watermark
  int64_t retention_cutoff_ms = INT64_MIN;  // DB::RetentionCutoff of this resolution
};

// What to drop. A cutoff of INT64_MIN drops nothing at that level.
struct RetentionRequest {
  // Raw samples (and exemplars) with timestamps before drop_before_ms[0];
  // rollup windows of level i ending at or before drop_before_ms[i].
  int64_t drop_before_ms[kRetentionLevels] = {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN};
  // Rewrite the level's column families now (a full compaction of them) so
  // the space is free when the call returns; otherwise RocksDB frees it as
  // its own compactions reach the files.
  bool reclaim[kRetentionLevels] = {false, false, false, false};
};

// What DB::ApplyRetention did.
struct RetentionStats {
  // The cutoffs in force after the call (DB::RetentionCutoff).
  int64_t cutoff_ms[kRetentionLevels] = {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN};
  // Levels whose column families were compacted by this call.
  bool reclaimed[kRetentionLevels] = {false, false, false, false};
  // Series removed (index, memory, every record) because no level holds
  // any of their data any more.
  uint64_t series_removed = 0;
};

// Per-label-name cardinality, for /api/v1/status/tsdb.
struct CardinalityStats {
  std::vector<std::pair<std::string, uint64_t>> series_count_by_metric_name;
  std::vector<std::pair<std::string, uint64_t>> label_value_count_by_label_name;
  std::vector<std::pair<std::string, uint64_t>> series_count_by_label_value_pair;
};

// One series' part of a write log record (DB::ReadLog). Its float samples
// are LogRecord::samples[first_sample, first_sample + sample_count) (one
// array per record: a record of many one-sample series costs no allocation
// per series).
struct LogEntry {
  uint64_t series_id = 0;  // DB::SeriesLabels gives its labels
  size_t first_sample = 0;
  size_t sample_count = 0;
  std::vector<Histogram> histograms;
  std::vector<Exemplar> exemplars;
};

// One accepted append, as logged: what a forwarding target must receive.
struct LogRecord {
  uint64_t sequence = 0;
  std::vector<LogEntry> entries;
  std::vector<Sample> samples;  // every entry's float samples, entry after entry
  std::vector<MetricMetadata> metadata;

  // The float samples of `entry`, one of this record's entries.
  std::span<const Sample> SamplesOf(const LogEntry& entry) const {
    return std::span<const Sample>(samples.data() + entry.first_sample, entry.sample_count);
  }
};

// A write log consumer's state (DB::LogConsumers).
struct LogConsumerState {
  std::string name;
  uint64_t position = 0;          // the first record it still needs
  uint64_t records_dropped = 0;   // given up because the log was full (since open)
  uint64_t samples_dropped = 0;   // floats and histograms in those records
  uint64_t log_end = 0;           // the sequence the next record gets (same for all)
  uint64_t segment_end = 0;       // MarkLogConsumerSegment's, while beyond position; else 0
};

// The storage engine. Obtain with DB::Open; destroy to close.
class DB {
 public:
  // Opens (creating if needed) the database in options.data_dir, replays the
  // write-ahead log and returns it in *db.
  static Status Open(const Options& options, std::unique_ptr<DB>* db);

  virtual ~DB() = default;

  // Stores a validated write. Returns OK once the data is durable according
  // to the WAL sync mode; per-sample conflicts are reported in *result and do
  // not fail the call. A non-OK status means nothing of this call was stored.
  virtual Status Append(const WriteInput& input, WriteResult* result) = 0;

  // Series matching all matchers that have data in [hints.start_ms,
  // hints.end_ms], with their samples in that range. At least one matcher
  // must not match the empty string. The SeriesSet and its iterators must be
  // destroyed before the DB.
  virtual Status Select(const SelectHints& hints, const std::vector<LabelMatcher>& matchers,
                        std::unique_ptr<SeriesSet>* out) = 0;

  // Label sets only (no samples), same selection rules as Select.
  virtual Status Series(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                        int64_t max_time_ms, std::vector<Labels>* out) = 0;

  // Sorted label names of series matching `matchers` (all series when empty)
  // with data in the time range.
  virtual Status LabelNames(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                            int64_t max_time_ms, std::vector<std::string>* out) = 0;

  // Sorted distinct values of label `name` over matching series.
  virtual Status LabelValues(const std::string& name, const std::vector<LabelMatcher>& matchers,
                             int64_t min_time_ms, int64_t max_time_ms,
                             std::vector<std::string>* out) = 0;

  // Metadata by metric family name; all families when `metric` is empty.
  virtual Status Metadata(const std::string& metric, std::vector<MetricMetadata>* out) = 0;

  // Exemplars of matching series in the time range, grouped by series.
  virtual Status Exemplars(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                           int64_t max_time_ms,
                           std::vector<std::pair<Labels, std::vector<Exemplar>>>* out) = 0;

  // Writes all open chunks to the chunk store and truncates the WAL. Safe to
  // call at any time; the background thread calls it periodically.
  virtual Status Checkpoint() = 0;

  // Seals the rollup windows (5m, 1h, 1d) that end at or before
  // `seal_until_ms` (normally now minus a grace period for late samples):
  // stores 5m windows computed from raw samples, 1h from 5m, 1d from 1h, and
  // recomputes stored spans that samples arriving later made stale. Safe to
  // run while writes and reads go on, and to interrupt at any point (a crash
  // leaves every stored window exact or marked stale). Runs on the caller's
  // thread; one call at a time (others wait).
  // Spans that late samples made stale are recomputed only when their last
  // late sample arrived (wall clock) before `redo_marked_before_ms`, so a
  // long backfill does not redo the same spans at every run; until then
  // readers compute them from finer data.
  virtual Status Downsample(int64_t seal_until_ms, int64_t redo_marked_before_ms, DownsampleStats* stats) = 0;
  // Downsample that redoes every stale span.
  Status Downsample(int64_t seal_until_ms, DownsampleStats* stats) {
    return Downsample(seal_until_ms, INT64_MAX, stats);
  }

  // Drops data older than the requested cutoffs, as far as it is safe:
  // never below what the next coarser resolution has sealed (raw data goes
  // only once its 5m windows are stored, 5m once its 1h windows are, 1h once
  // its 1d windows are) or what a pending stale mark still needs, never less
  // at a coarser level than at a finer one, in whole spans (raw: 1 day, 5m:
  // 10 days, 1h and 1d: 120 days, so a recomputed span never reads dropped
  // data), and never backwards. Series left with no data at any level are
  // removed, as DB::Delete removes them. The new cutoffs are durable before
  // the call returns; reads stop seeing the dropped data at once, and Append rejects
  // samples at or before the raw cutoff from then on. Nothing is decoded: a
  // RocksDB compaction filter removes the records. Runs on the caller's
  // thread; one call at a time, alongside writes, reads and Downsample.
  virtual Status ApplyRetention(const RetentionRequest& request, RetentionStats* stats) = 0;
  // Level 0 (resolution_ms 0): raw samples before this time are dropped.
  // 5m, 1h, 1d: windows ending at or before it are. INT64_MIN: nothing is.
  virtual int64_t RetentionCutoff(int64_t resolution_ms) = 0;
  // The oldest data a level still holds: the first raw sample (level 0) or
  // the start of the first rollup span (levels 1..3) at or after the
  // cutoff; INT64_MAX when there is none. One seek per series: for
  // size-based retention, not for every request.
  virtual Status OldestTime(int level, int64_t* out) = 0;

  // Deletes the data of every series matching `matchers` (at least one must
  // not match the empty string) in [mint, maxt], at every resolution, as
  // Prometheus' delete_series. With mint <= INT64_MIN / 2 and maxt >=
  // INT64_MAX / 2 the series go entirely: from every column family, the
  // index and memory (a later sample with the same labels starts a new
  // series). Otherwise the samples in the range are cut out of the raw
  // chunks, and the sealed rollup spans over it are marked stale: reads
  // compute them from what is left, and the next Downsample redoes them
  // (call Downsample at the current watermark to redo them at once). Where
  // retention dropped the finer data, the windows that overlap the range
  // are dropped instead. Atomic and durable when it returns (the head is
  // checkpointed first, so a restart never brings deleted samples back).
  // Appends wait for the duration; one call at a time, serialized with
  // Downsample and ApplyRetention.
  virtual Status Delete(const std::vector<LabelMatcher>& matchers, int64_t mint, int64_t maxt,
                        DeleteStats* stats) = 0;

  // Writes a consistent copy of the database, as of the call, into
  // `directory` (created; it must not exist yet), which DB::Open with
  // data_dir = `directory` opens like the original: samples not yet
  // checkpointed come along in the write-ahead log. Files are hard links
  // where the file system allows, so it is quick and small at first.
  virtual Status Snapshot(const std::string& directory) = 0;

  // Checkpoints, flushes every memtable and compacts every column family to
  // the bottom level (slow; for `tsvault compact` and disk-usage figures).
  virtual Status CompactAll() = 0;

  // The write log (Options::log_consumers). Appends to *out up to
  // `max_records` records with sequence >= `from`, in sequence order, and
  // sets *next to the sequence to read from next. Records below the lowest
  // consumer position are gone: reading starts at the oldest kept one.
  // Returns only records whose append finished (a record still being
  // written ends the read), so a consumer that advances to *next never
  // skips one.
  // (The defaults, for test doubles: no write log.)
  virtual Status ReadLog(uint64_t from, size_t max_records, std::vector<LogRecord>* out, uint64_t* next) {
    (void)max_records;
    (void)out;
    *next = from;
    return Status::Unsupported("no write log");
  }
  // Consumer `name` (listed in Options::log_consumers) needs no record
  // before `position` any more. Positions only grow; durable without sync
  // (after a crash a consumer may resume a little earlier).
  virtual Status AdvanceLogConsumer(const std::string& name, uint64_t position) {
    (void)name;
    (void)position;
    return Status::Unsupported("no write log");
  }
  // Consumer `name` is about to send the records before `end` as one unit:
  // kept across restarts (LogConsumerState::segment_end) until its position
  // reaches `end`, so after a crash it can send exactly the same records
  // again. Durable without sync, like positions.
  virtual Status MarkLogConsumerSegment(const std::string& name, uint64_t end) {
    (void)name;
    (void)end;
    return Status::Unsupported("no write log");
  }
  // Every listed consumer's state, and the bytes kept only for consumers.
  virtual std::vector<LogConsumerState> LogConsumers(uint64_t* kept_bytes) {
    *kept_bytes = 0;
    return {};
  }
  // The labels of a series by id, from disk if it is not resident (without
  // making it resident); NotFound when it was deleted.
  virtual Status SeriesLabels(uint64_t series_id, Labels* labels) {
    (void)series_id;
    (void)labels;
    return Status::Unsupported("no write log");
  }

  // Engine counters.
  virtual DBStats Stats() = 0;
  // Per resolution (raw, 5m, 1h, 1d): time range, series, chunks, points and
  // bytes of what is persisted (raw: the chunk store, not the head). Scans
  // every chunk key, reading only chunk headers: slow on a large store.
  virtual Status Inspect(std::vector<ResolutionSummary>* out) = 0;
  // Top-`limit` cardinality figures over the series with data in the head
  // (`all_series` false, as Prometheus' head stats) or over every series
  // stored (`all_series` true, for `tsvault inspect`: reads the whole
  // persisted index).
  virtual CardinalityStats Cardinality(size_t limit, bool all_series) = 0;
};

}  // namespace tsvault::storage
