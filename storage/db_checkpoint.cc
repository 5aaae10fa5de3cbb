// Head checkpoints: persist the head's chunks and truncate the WAL.
#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"

#ifdef __GLIBC__
#include <malloc.h>  // malloc_trim
#endif

namespace tsvault::storage {

Status DBImpl::Checkpoint() {
  if (options_.read_only) return Status::Unsupported("the database is open read-only");
  std::lock_guard<std::mutex> checkpoint_lock(checkpoint_mutex_);
  // Ingestion pauses for the duration: the snapshot of the head and the WAL
  // truncation must describe the same moment.
  std::unique_lock<std::shared_mutex> lock(head_mutex_);
  return CheckpointLocked();
}

Status DBImpl::CheckpointLocked() {
  rocksdb::WriteBatch batch;
  std::vector<ChunkData> chunks;
  std::vector<std::pair<MemSeries*, bool>> touched;  // series, close its open chunk
  std::string value;
  for (auto& owned : series_by_id_) {
    MemSeries* series = owned.get();
    if (series == nullptr) continue;
    // A series quiet for a whole window releases its open chunk's memory.
    const bool quiet = series->has_open_chunk() &&
                       series->last_timestamp() < head_max_time_ - kChunkWindowMs;
    const bool records_missing = !series->persisted() || !series->in_head_set();
    if (!series->has_unpersisted_data() && !quiet && !records_missing) continue;
    if (records_missing) PutSeriesRecords(*series, &batch);
    chunks.clear();
    series->CollectForCheckpoint(&chunk_sequencer_, &chunks);
    for (const ChunkData& chunk : chunks) {
      value.clear();
      EncodeChunkValue(chunk.min_time, chunk.max_time, chunk.bytes, &value);
      batch.Put(cf(kChunks), ChunkKey(series->id(), chunk.min_time, chunk.sequence), value);
    }
    touched.emplace_back(series, quiet);
  }
  std::string sequence;
  PutFixed64BE(&sequence, chunk_sequencer_.peek());
  batch.Put(cf(kDefault), std::string(kChunkSequenceKey), sequence);
  PutSeriesIds(0, &batch);
  // Every record logged so far is folded into the chunks written above;
  // the write log's consumers may still need some (db_log.cc).
  const uint64_t log_floor = TrimLogForCheckpoint(&batch);
  batch.DeleteRange(cf(kWal), WalKey(0), WalKey(log_floor));

  rocksdb::WriteOptions write_options;
  write_options.sync = options_.wal_sync != WalSyncMode::kNone;
  Status s = FromRocks(rocks_->Write(write_options, &batch));
  if (!s.ok()) {
    spdlog::error("checkpoint failed, the WAL is kept: {}", s.ToString());
    return s;
  }
  head_min_time_ = std::numeric_limits<int64_t>::max();
  for (auto& [series, close] : touched) {
    series->CheckpointDone(close);
    series->set_persisted(true);
    series->set_in_head_set(true);
  }
  for (auto& owned : series_by_id_) {
    if (owned && owned->has_open_chunk()) head_min_time_ = std::min(head_min_time_, owned->min_time());
  }
  logged_bytes_since_checkpoint_ = 0;
  checkpoints_.fetch_add(1, std::memory_order_relaxed);
  // The WAL records in the memtable are now covered by the range deletion
  // (or kept for the write log's consumers): flushing frees that memory (the flush drops covered keys) and lets
  // RocksDB retire its own log files sooner. Not waited for.
  rocksdb::FlushOptions flush;
  flush.wait = false;
  flush.allow_write_stall = true;
  rocks_->Flush(flush, cf(kWal));
  // Series that will not change any more leave memory.
  s = EvictIdleSeries();
  if (!s.ok()) spdlog::warn("series eviction failed, they stay resident: {}", s.ToString());
  return Status::OK();
}

Status DBImpl::CompactAll() {
  if (options_.read_only) return Status::Unsupported("the database is open read-only");
  Status s = Checkpoint();
  if (!s.ok()) return s;
  rocksdb::FlushOptions flush;
  flush.wait = true;
  s = FromRocks(rocks_->Flush(flush, handles_));
  if (!s.ok()) return s;
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (size_t i = 0; i < handles_.size(); ++i) {
    if (options_.progress_observer) options_.progress_observer("full compaction", i, handles_.size());
    s = FromRocks(rocks_->CompactRange(compact, handles_[i], nullptr, nullptr));
    if (!s.ok()) return s;
  }
  if (options_.progress_observer) options_.progress_observer("full compaction", handles_.size(), handles_.size());
  return Status::OK();
}

Status DBImpl::Snapshot(const std::string& directory) {
  std::error_code ec;
  if (std::filesystem::exists(directory, ec)) return Status::InvalidArgument("snapshot directory " + directory + " exists");
  std::filesystem::create_directories(directory, ec);
  if (ec) return Status::IOError("cannot create snapshot directory " + directory + ": " + ec.message());
  rocksdb::Checkpoint* checkpoint = nullptr;
  Status s = FromRocks(rocksdb::Checkpoint::Create(rocks_, &checkpoint));
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::Checkpoint> owned(checkpoint);
  // The same layout as a data directory: <directory>/rocksdb.
  return FromRocks(owned->CreateCheckpoint(directory + "/rocksdb"));
}

void DBImpl::CheckpointLoop() {
  auto last = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(background_mutex_);
  while (!stopping_) {
    background_wake_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) break;
    bool due = std::chrono::steady_clock::now() - last >= options_.head_checkpoint_interval;
    {
      std::shared_lock<std::shared_mutex> head_lock(head_mutex_);
      due = due || logged_bytes_since_checkpoint_ >= options_.head_checkpoint_bytes;
    }
    if (!due) continue;
    lock.unlock();
    Status s = Checkpoint();
    if (!s.ok()) spdlog::warn("background checkpoint: {}", s.ToString());
#ifdef __GLIBC__
    // Ingestion frees request buffers and WAL memtables in bursts; glibc
    // keeps the freed pages in its arenas. Hand them back to the kernel
    // once per checkpoint (a few ms) so resident memory follows the head.
    malloc_trim(0);
#endif
    last = std::chrono::steady_clock::now();
    lock.lock();
  }
}

}  // namespace tsvault::storage
