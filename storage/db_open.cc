// Opening, recovery and closing of the storage engine.
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"
#include "storage/wal_record.h"

namespace tsvault::storage {

Status ParseWalSyncMode(std::string_view text, WalSyncMode* mode) {
  if (text == "always") {
    *mode = WalSyncMode::kAlways;
  } else if (text == "batch") {
    *mode = WalSyncMode::kBatch;
  } else if (text == "none") {
    *mode = WalSyncMode::kNone;
  } else {
    return Status::InvalidArgument("unknown WAL sync mode \"" + std::string(text) +
                                   "\" (want always, batch or none)");
  }
  return Status::OK();
}

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
  return Status::IOError(s.ToString());
}

namespace {
std::atomic<rocksdb::Env*> env_for_testing{nullptr};
}  // namespace

void SetRocksEnvForTesting(rocksdb::Env* env) { env_for_testing.store(env); }

Status DB::Open(const Options& options, std::unique_ptr<DB>* db) {
  auto impl = std::make_unique<DBImpl>(options);
  Status s = impl->OpenImpl();
  if (!s.ok()) return s;
  *db = std::move(impl);
  return Status::OK();
}

DBImpl::DBImpl(const Options& options) : options_(options) {
  for (auto& cutoff : retention_cutoff_) cutoff.store(std::numeric_limits<int64_t>::min());
}

namespace {

rocksdb::ColumnFamilyOptions IndexOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kZSTD;
  return cf;
}

rocksdb::ColumnFamilyOptions ChunkOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.block_size = 32 << 10;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Chunks are already compressed; ZSTD still finds redundancy in keys and
  // in runs of constant values, at the bottom level only.
  cf.compression = rocksdb::kNoCompression;
  cf.bottommost_compression = rocksdb::kZSTD;
  // Checkpoints write here in bursts; a 32 MiB memtable keeps resident
  // memory per series low without many tiny L0 files.
  cf.write_buffer_size = 32 << 20;
  cf.target_file_size_base = 64 << 20;
  return cf;
}

rocksdb::ColumnFamilyOptions HashIndexOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf = IndexOptions(cache);
  // Lookups seek to an 8-byte hash: prefix bloom filters skip the files
  // that do not hold it (most lookups are for new series, held nowhere).
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = false;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(8));
  cf.memtable_prefix_bloom_size_ratio = 0.05;
  return cf;
}

rocksdb::ColumnFamilyOptions WalOptions() {
  rocksdb::ColumnFamilyOptions cf;
  // Records live until the next checkpoint deletes them; a large memtable
  // means most are deleted before they are ever flushed.
  cf.write_buffer_size = 128 << 20;
  cf.compression = rocksdb::kLZ4Compression;
  return cf;
}

rocksdb::ColumnFamilyOptions ColumnFamilyOptionsFor(ColumnFamilyProfile profile,
                                                   const std::shared_ptr<rocksdb::Cache>& cache) {
  switch (profile) {
    case ColumnFamilyProfile::kDefault: return rocksdb::ColumnFamilyOptions();
    case ColumnFamilyProfile::kIndex: return IndexOptions(cache);
    case ColumnFamilyProfile::kChunks: return ChunkOptions(cache);
    case ColumnFamilyProfile::kWal: return WalOptions();
    case ColumnFamilyProfile::kHashIndex: return HashIndexOptions(cache);
  }
  return rocksdb::ColumnFamilyOptions();
}

}  // namespace

Status DBImpl::OpenImpl() {
  const auto begin = std::chrono::steady_clock::now();
  std::error_code ec;
  if (options_.read_only) {
    if (!std::filesystem::exists(options_.data_dir + "/rocksdb", ec)) {
      return Status::NotFound("no tsvault data in " + options_.data_dir);
    }
  } else {
    std::filesystem::create_directories(options_.data_dir, ec);
    if (ec) {
      return Status::IOError("cannot create data directory " + options_.data_dir + ": " + ec.message());
    }
  }

  auto cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.max_total_wal_size = 256ull << 20;
  db_options.manual_wal_flush = false;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 3;
  if (rocksdb::Env* env = env_for_testing.load()) db_options.env = env;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const ColumnFamilySpec& spec : kColumnFamilies) {
    rocksdb::ColumnFamilyOptions cf_options = ColumnFamilyOptionsFor(spec.profile, cache);
    cf_options.compaction_filter = RetentionFilterFor(spec.index);
    descriptors.emplace_back(spec.name, cf_options);
  }
  Status s = FromRocks(options_.read_only
                           ? rocksdb::DB::OpenForReadOnly(db_options, options_.data_dir + "/rocksdb", descriptors,
                                                          &handles_, &rocks_)
                           : rocksdb::DB::Open(db_options, options_.data_dir + "/rocksdb", descriptors, &handles_,
                                               &rocks_));
  if (!s.ok()) return s;

  // Format version: written on creation, checked on every open.
  std::string version;
  rocksdb::Status rs = rocks_->Get(rocksdb::ReadOptions(), cf(kDefault),
                                   std::string(kFormatVersionKey), &version);
  if (rs.IsNotFound() && options_.read_only) {
    return Status::Corruption("no storage format version in " + options_.data_dir);
  } else if (rs.IsNotFound()) {
    std::string value;
    PutFixed64BE(&value, kFormatVersion);
    s = FromRocks(rocks_->Put(rocksdb::WriteOptions(), cf(kDefault),
                              std::string(kFormatVersionKey), value));
    if (!s.ok()) return s;
  } else if (!rs.ok()) {
    return FromRocks(rs);
  } else if (version.size() != 8 || DecodeFixed64BE(version.data()) != kFormatVersion) {
    return Status::Corruption("unsupported storage format version in " + options_.data_dir);
  }

  s = LoadRollupWatermarks();
  if (s.ok()) s = LoadRetentionCutoffs();
  if (!s.ok()) return s;

  std::string sequence;
  rs = rocks_->Get(rocksdb::ReadOptions(), cf(kDefault), std::string(kChunkSequenceKey), &sequence);
  if (rs.ok() && sequence.size() == 8) {
    chunk_sequencer_ = ChunkSequencer(DecodeFixed64BE(sequence.data()));
  } else if (!rs.IsNotFound() && !rs.ok()) {
    return FromRocks(rs);
  }

  s = LoadSeries();
  if (s.ok()) s = LoadLogConsumers();
  if (s.ok()) s = ReplayWal();
  if (s.ok()) s = StartLogConsumers();
  if (!s.ok()) return s;

  syncer_ = std::make_unique<WalSyncer>(
      [this] { return FromRocks(rocks_->SyncWAL()); }, options_.wal_sync_interval,
      options_.wal_sync_observer);

  // Fold the replayed log into chunks right away so the next start is quick.
  if (restart_replayed_records_ > 0 && !options_.read_only) {
    s = Checkpoint();
    if (!s.ok()) return s;
  }
  restart_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  spdlog::info("storage opened at {} in {:.3f}s: {} series ({} resident), {} WAL records replayed",
               options_.data_dir, restart_seconds_, next_series_id_ - 1 - removed_series_, resident_series_,
               restart_replayed_records_);

  opened_ = true;
  if (options_.background_checkpoints && !options_.read_only) {
    background_ = std::thread([this] { CheckpointLoop(); });
  }
  return Status::OK();
}

Status DBImpl::ReplayWal() {
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kWal)));
  Status status;
  auto series_for = [&](uint64_t id) -> MemSeries* {
    MemSeries* series = nullptr;
    Status s = LoadStoredSeries(id, &series);  // resident already, as a rule
    if (!s.ok()) {
      status = s;
    } else if (series == nullptr) {
      status = Status::Corruption("WAL record references unknown series " + std::to_string(id));
    }
    return series;
  };
  // Records before wal_checkpointed_ are in the chunk store already (kept
  // only for the write log's consumers).
  next_log_sequence_ = std::max(next_log_sequence_, wal_checkpointed_);
  for (it->Seek(WalKey(wal_checkpointed_)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Status::Corruption("bad WAL key");
    next_log_sequence_ = DecodeFixed64BE(it->key().data()) + 1;
    Status s = DecodeWalRecord(
        std::string_view(it->value().data(), it->value().size()),
        [&](uint64_t id, std::span<const Sample> samples) {
          if (MemSeries* series = series_for(id)) {
            for (const Sample& sample : samples) ApplyFloat(series, sample);
          }
        },
        [&](uint64_t id, const Histogram& histogram) {
          if (MemSeries* series = series_for(id)) ApplyHistogram(series, histogram);
        });
    if (!s.ok()) return s;
    if (!status.ok()) return status;
    ++restart_replayed_records_;
  }
  return FromRocks(it->status());
}

DBImpl::~DBImpl() {
  {
    std::lock_guard<std::mutex> lock(background_mutex_);
    stopping_ = true;
  }
  background_wake_.notify_all();
  if (background_.joinable()) background_.join();
  if (rocks_ != nullptr) {
    if (options_.checkpoint_on_close && opened_ && !options_.read_only) {
      Status s = Checkpoint();
      if (!s.ok()) spdlog::error("final checkpoint failed: {}", s.ToString());
      // Flush every memtable so a stopped node's directory holds SST files,
      // not RocksDB logs that the next open would have to replay.
      rocksdb::FlushOptions flush;
      flush.wait = true;
      rocksdb::Status rs = rocks_->Flush(flush, handles_);
      if (!rs.ok()) spdlog::error("final flush failed: {}", rs.ToString());
    }
    for (auto* handle : handles_) rocks_->DestroyColumnFamilyHandle(handle);
    rocks_->Close();
    delete rocks_;
  }
}

}  // namespace tsvault::storage
