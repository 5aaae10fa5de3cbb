// DBImpl: the storage engine behind storage::DB (internal). Split by concern:
// db_open.cc (open, recovery, close), db_write.cc (append), db_read.cc
// (select and label queries), db_checkpoint.cc (head checkpoints),
// db_stats.cc (counters).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

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
}  // namespace rocksdb

namespace tsvault::storage {

// Converts a RocksDB status into ours.
Status FromRocks(const rocksdb::Status& status);

class DBImpl final : public DB {
 public:
  explicit DBImpl(const Options& options);
  ~DBImpl() override;

  Status OpenImpl();

  Status Append(const WriteInput& input, WriteResult* result) override;
  Status Select(const std::vector<LabelMatcher>& matchers, int64_t min_time_ms,
                int64_t max_time_ms, std::unique_ptr<SeriesSet>* out) override;
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
  Status Checkpoint() override;
  Status CompactAll() override;
  DBStats Stats() override;
  CardinalityStats Cardinality(size_t limit) override;

 private:
  friend class DBSeriesSet;

  enum ColumnFamilyIndex { kDefault = 0, kSeries, kPostings, kChunks, kExemplars, kMetadata, kWal, kColumnFamilyCount };

  // --- open / recovery (db_open.cc) ---
  Status LoadSeries();
  Status ReplayWal();
  void CheckpointLoop();

  // --- write (db_write.cc); callers hold head_mutex_ exclusively ---
  MemSeries* GetOrCreateSeries(const Labels& labels, bool* created);
  void PutSeriesRecords(const MemSeries& series, rocksdb::WriteBatch* batch);
  // Applies one replayed or incoming float/histogram sample to the head.
  AppendOutcome ApplyFloat(MemSeries* series, const Sample& sample);
  AppendOutcome ApplyHistogram(MemSeries* series, const Histogram& histogram);

  // --- read (db_read.cc) ---
  struct SelectedSeries {
    uint64_t id;
    Labels labels;
  };
  // Series matching all matchers with data in [mint, maxt], sorted by labels.
  Status SelectSeries(const std::vector<LabelMatcher>& matchers, int64_t mint, int64_t maxt,
                      bool require_selective_matcher, std::vector<SelectedSeries>* out);
  // Every chunk of a series overlapping [mint, maxt], from the head and disk.
  Status CollectChunks(uint64_t series_id, int64_t mint, int64_t maxt, rocksdb::Iterator* iterator,
                       std::vector<ChunkData>* chunks);
  // Persisted chunks overlapping [mint, maxt]; with `first_only`, stops at
  // the first (an existence check).
  Status ReadPersistedChunks(uint64_t series_id, int64_t mint, int64_t maxt, bool first_only,
                             rocksdb::Iterator* iterator, std::vector<ChunkData>* chunks);
  std::unique_ptr<rocksdb::Iterator> NewChunkIterator();
  Status CollectLabelStrings(const std::string* name, const std::vector<LabelMatcher>& matchers,
                             int64_t min_time_ms, int64_t max_time_ms, std::vector<std::string>* out);

  rocksdb::ColumnFamilyHandle* cf(ColumnFamilyIndex index) const { return handles_[index]; }

  const Options options_;
  rocksdb::DB* rocks_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<WalSyncer> syncer_;

  // The head: every series, the in-memory index and the open chunks.
  mutable std::shared_mutex head_mutex_;
  std::vector<std::unique_ptr<MemSeries>> series_by_id_;  // index = id; [0] unused
  SeriesIndex series_index_;  // label set -> series, over series_by_id_
  MemPostings postings_;
  ChunkSequencer chunk_sequencer_{1};
  uint64_t next_series_id_ = 1;
  std::string encode_buffer_;  // reused by GetOrCreateSeries (head lock held)
  uint64_t next_log_sequence_ = 1;
  uint64_t logged_bytes_since_checkpoint_ = 0;
  int64_t head_max_time_ = std::numeric_limits<int64_t>::min();
  int64_t head_min_time_ = std::numeric_limits<int64_t>::max();

  // Checkpoints are serialized among themselves.
  std::mutex checkpoint_mutex_;
  std::atomic<uint64_t> checkpoints_{0};

  // Background checkpoint thread.
  std::mutex background_mutex_;
  std::condition_variable background_wake_;
  bool stopping_ = false;
  std::thread background_;

  double restart_seconds_ = 0;
  uint64_t restart_replayed_records_ = 0;
};

}  // namespace tsvault::storage
