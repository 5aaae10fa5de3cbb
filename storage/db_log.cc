// The write log kept for consumers (forwarding targets,
// docs/design/forwarding.md): WAL records stay after checkpoints until every
// consumer has read past them, within Options::log_max_bytes.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>

#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"
#include "storage/wal_record.h"

namespace tsvault::storage {

namespace {

std::string LogConsumerKey(const std::string& name) { return std::string(kLogConsumerPrefix) + name; }

std::string Fixed64(uint64_t value) {
  std::string out;
  PutFixed64BE(&out, value);
  return out;
}

// A consumer's stored value: u64be(position), then u64be(segment end) while
// a segment is marked.
std::string ConsumerValue(uint64_t position, uint64_t segment_end) {
  std::string out = Fixed64(position);
  if (segment_end > position) PutFixed64BE(&out, segment_end);
  return out;
}

// Decodes a WAL record into entries, one per series run.
Status DecodeLogRecord(std::string_view value, LogRecord* record) {
  auto entry_for = [record](uint64_t id) -> LogEntry& {
    if (record->entries.empty() || record->entries.back().series_id != id) {
      record->entries.emplace_back();
      record->entries.back().series_id = id;
      record->entries.back().first_sample = record->samples.size();
    }
    return record->entries.back();
  };
  // A series' samples are one run in the WAL record, so each entry's
  // samples are contiguous in record->samples.
  return DecodeWalRecord(
      value,
      [&](uint64_t id, std::span<const Sample> samples) {
        entry_for(id).sample_count += samples.size();
        record->samples.insert(record->samples.end(), samples.begin(), samples.end());
      },
      [&](uint64_t id, const Histogram& histogram) { entry_for(id).histograms.push_back(histogram); },
      [&](uint64_t id, const Exemplar& exemplar) { entry_for(id).exemplars.push_back(exemplar); },
      [record](const MetricMetadata& metadata) { record->metadata.push_back(metadata); });
}

}  // namespace

Status DBImpl::LoadLogConsumers() {
  std::string value;
  rocksdb::Status rs = rocks_->Get(rocksdb::ReadOptions(), cf(kDefault), std::string(kWalCheckpointedKey), &value);
  if (rs.ok() && value.size() == 8) {
    wal_checkpointed_ = DecodeFixed64BE(value.data());
  } else if (!rs.IsNotFound()) {
    return rs.ok() ? Status::Corruption("bad wal_checkpointed value") : FromRocks(rs);
  }
  std::lock_guard<std::mutex> lock(log_mutex_);
  for (const std::string& name : options_.log_consumers) log_consumers_[name];  // position set below
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kDefault)));
  std::vector<std::string> unlisted;
  for (it->Seek(std::string(kLogConsumerPrefix)); it->Valid() && it->key().starts_with(std::string(kLogConsumerPrefix));
       it->Next()) {
    const std::string name = it->key().ToString().substr(kLogConsumerPrefix.size());
    auto consumer = log_consumers_.find(name);
    if (consumer == log_consumers_.end() && options_.keep_stored_log_consumers) {
      consumer = log_consumers_.emplace(name, LogConsumer()).first;
    }
    if (consumer == log_consumers_.end()) {
      unlisted.push_back(it->key().ToString());
      continue;
    }
    if (it->value().size() != 8 && it->value().size() != 16) {
      return Status::Corruption("bad position of log consumer " + name);
    }
    consumer->second.position = DecodeFixed64BE(it->value().data());
    if (it->value().size() == 16) consumer->second.segment_end = DecodeFixed64BE(it->value().data() + 8);
  }
  Status s = FromRocks(it->status());
  if (!s.ok() || options_.read_only) return s;
  for (const std::string& key : unlisted) {
    spdlog::info("write log consumer {} is no longer configured: its position is removed",
                 key.substr(kLogConsumerPrefix.size()));
    s = FromRocks(rocks_->Delete(rocksdb::WriteOptions(), cf(kDefault), key));
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status DBImpl::StartLogConsumers() {
  std::lock_guard<std::mutex> lock(log_mutex_);
  // A consumer may have skipped the sequences of failed appends at the end
  // of the log: never hand them out again, or it would not see them.
  for (const auto& [name, consumer] : log_consumers_) {
    next_log_sequence_ = std::max(next_log_sequence_, consumer.position);
  }
  log_assigned_end_ = next_log_sequence_;
  log_checkpointed_ = wal_checkpointed_;
  has_log_consumers_ = !log_consumers_.empty();
  if (log_consumers_.empty()) return Status::OK();
  uint64_t floor = next_log_sequence_;
  for (auto& [name, consumer] : log_consumers_) {
    if (consumer.position == 0) {  // new: starts with the next record
      consumer.position = next_log_sequence_;
      if (!options_.read_only) {
        Status s = FromRocks(rocks_->Put(rocksdb::WriteOptions(), cf(kDefault), LogConsumerKey(name),
                                         Fixed64(consumer.position)));
        if (!s.ok()) return s;
      }
    }
    floor = std::min(floor, consumer.position);
  }
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(kWal)));
  for (it->Seek(WalKey(floor)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Status::Corruption("bad WAL key");
    const uint64_t sequence = DecodeFixed64BE(it->key().data());
    uint64_t samples = 0;
    LogRecord record;
    if (DecodeLogRecord(std::string_view(it->value().data(), it->value().size()), &record).ok()) {
      for (const LogEntry& entry : record.entries) samples += entry.sample_count + entry.histograms.size();
    }
    log_record_sizes_.push_back({sequence, it->value().size(), samples});
    if (sequence < log_checkpointed_) log_kept_bytes_ += it->value().size();
  }
  return FromRocks(it->status());
}

void DBImpl::LogRecordStarted(uint64_t sequence, uint64_t bytes, uint64_t samples) {
  std::lock_guard<std::mutex> lock(log_mutex_);
  log_assigned_end_ = sequence + 1;
  if (log_consumers_.empty()) return;
  log_record_sizes_.push_back({sequence, bytes, samples});
  log_in_flight_.insert(sequence);
}

void DBImpl::LogRecordFinished(uint64_t sequence) {
  std::lock_guard<std::mutex> lock(log_mutex_);
  log_in_flight_.erase(sequence);
}

uint64_t DBImpl::TrimLogForCheckpoint(rocksdb::WriteBatch* batch) {
  wal_checkpointed_ = next_log_sequence_;
  batch->Put(cf(kDefault), std::string(kWalCheckpointedKey), Fixed64(wal_checkpointed_));
  std::lock_guard<std::mutex> lock(log_mutex_);
  log_checkpointed_ = wal_checkpointed_;
  if (log_consumers_.empty()) {
    log_record_sizes_.clear();
    log_kept_bytes_ = 0;
    return next_log_sequence_;
  }
  uint64_t floor = next_log_sequence_;
  for (const auto& [name, consumer] : log_consumers_) floor = std::min(floor, consumer.position);
  while (!log_record_sizes_.empty() && log_record_sizes_.front().sequence < floor) log_record_sizes_.pop_front();
  log_kept_bytes_ = 0;
  for (const LoggedRecord& record : log_record_sizes_) log_kept_bytes_ += record.bytes;
  const uint64_t max_bytes = options_.log_max_bytes;
  if (max_bytes == 0 || log_kept_bytes_ <= max_bytes) {
    log_refuses_writes_.store(false, std::memory_order_release);
    return floor;
  }
  if (options_.log_reject_when_full) {
    if (!log_refuses_writes_.exchange(true)) {
      spdlog::error("write log full ({} bytes kept for forwarding, bound {}): refusing writes until targets catch up",
                    log_kept_bytes_, max_bytes);
    }
    return floor;
  }
  // Give up the oldest records until the rest fits, counting what each
  // consumer loses.
  std::vector<std::pair<uint64_t, uint64_t>> given_up;  // sequence, samples
  while (log_kept_bytes_ > max_bytes && !log_record_sizes_.empty()) {
    const LoggedRecord oldest = log_record_sizes_.front();
    log_record_sizes_.pop_front();
    log_kept_bytes_ -= oldest.bytes;
    given_up.emplace_back(oldest.sequence, oldest.samples);
    floor = oldest.sequence + 1;
  }
  for (auto& [name, consumer] : log_consumers_) {
    if (consumer.position >= floor) continue;
    uint64_t records = 0, samples = 0;
    for (const auto& [sequence, count] : given_up) {
      if (sequence < consumer.position) continue;
      ++records;
      samples += count;
    }
    consumer.records_dropped += records;
    consumer.samples_dropped += samples;
    consumer.position = floor;
    if (consumer.segment_end <= floor) consumer.segment_end = 0;
    batch->Put(cf(kDefault), LogConsumerKey(name), ConsumerValue(floor, consumer.segment_end));
    spdlog::error("write log full ({} bytes bound): forward target {} lost its {} oldest records ({} samples)",
                  max_bytes, name, records, samples);
  }
  return floor;
}

Status DBImpl::ReadLog(uint64_t from, size_t max_records, std::vector<LogRecord>* out, uint64_t* next) {
  uint64_t floor = 0, end = 0;
  {
    std::lock_guard<std::mutex> lock(log_mutex_);
    floor = log_assigned_end_;
    for (const auto& [name, consumer] : log_consumers_) floor = std::min(floor, consumer.position);
    if (log_consumers_.empty()) floor = 0;
    end = log_in_flight_.empty() ? log_assigned_end_ : *log_in_flight_.begin();
  }
  const uint64_t start = std::max(from, floor);
  *next = std::max(from, start);
  if (start >= end) return Status::OK();
  const std::string upper_key = WalKey(end);
  const rocksdb::Slice upper(upper_key);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(read_options, cf(kWal)));
  size_t read = 0;
  for (it->Seek(WalKey(start)); it->Valid() && read < max_records; it->Next(), ++read) {
    if (it->key().size() != 8) return Status::Corruption("bad WAL key");
    LogRecord record;
    record.sequence = DecodeFixed64BE(it->key().data());
    Status s = DecodeLogRecord(std::string_view(it->value().data(), it->value().size()), &record);
    if (!s.ok()) return Status::Corruption("WAL record " + std::to_string(record.sequence) + ": " + s.message());
    *next = record.sequence + 1;
    out->push_back(std::move(record));
  }
  Status s = FromRocks(it->status());
  if (!s.ok()) return s;
  if (read < max_records) *next = end;  // nothing else is complete before `end`
  return Status::OK();
}

Status DBImpl::UpdateLogConsumer(const std::string& name, const std::function<bool(LogConsumer*)>& update) {
  if (options_.read_only) return Status::Unsupported("the database is open read-only");
  // Written outside log_mutex_ (Append takes it under the head lock: a slow
  // write must not stall ingestion), one at a time so the latest lands last.
  std::lock_guard<std::mutex> write_lock(log_position_write_mutex_);
  std::string value;
  {
    std::lock_guard<std::mutex> lock(log_mutex_);
    auto it = log_consumers_.find(name);
    if (it == log_consumers_.end()) return Status::InvalidArgument("no write log consumer named " + name);
    if (!update(&it->second)) return Status::OK();
    if (it->second.segment_end <= it->second.position) it->second.segment_end = 0;
    value = ConsumerValue(it->second.position, it->second.segment_end);
  }
  return FromRocks(rocks_->Put(rocksdb::WriteOptions(), cf(kDefault), LogConsumerKey(name), value));
}

Status DBImpl::AdvanceLogConsumer(const std::string& name, uint64_t position) {
  return UpdateLogConsumer(name, [&](LogConsumer* consumer) {
    position = std::min(position, log_assigned_end_);
    if (position <= consumer->position) return false;
    consumer->position = position;
    // Records no consumer needs any more leave the accounting.
    uint64_t floor = log_assigned_end_;
    for (const auto& [other, state] : log_consumers_) floor = std::min(floor, state.position);
    while (!log_record_sizes_.empty() && log_record_sizes_.front().sequence < floor) {
      if (log_record_sizes_.front().sequence < log_checkpointed_) log_kept_bytes_ -= log_record_sizes_.front().bytes;
      log_record_sizes_.pop_front();
    }
    if (options_.log_max_bytes > 0 && log_kept_bytes_ <= options_.log_max_bytes &&
        log_refuses_writes_.exchange(false)) {
      spdlog::info("write log below its bound again ({} bytes kept): accepting writes", log_kept_bytes_);
    }
    return true;
  });
}

Status DBImpl::MarkLogConsumerSegment(const std::string& name, uint64_t end) {
  return UpdateLogConsumer(name, [&](LogConsumer* consumer) {
    consumer->segment_end = std::min(end, log_assigned_end_);
    return true;
  });
}

std::vector<LogConsumerState> DBImpl::LogConsumers(uint64_t* kept_bytes) {
  std::lock_guard<std::mutex> lock(log_mutex_);
  std::vector<LogConsumerState> out;
  for (const auto& [name, consumer] : log_consumers_) {
    out.push_back({name, consumer.position, consumer.records_dropped, consumer.samples_dropped, log_assigned_end_,
                   consumer.segment_end > consumer.position ? consumer.segment_end : 0});
  }
  *kept_bytes = log_kept_bytes_;
  return out;
}

Status DBImpl::SeriesLabels(uint64_t series_id, Labels* labels) {
  {
    std::shared_lock<std::shared_mutex> lock(head_mutex_);
    if (series_id < series_by_id_.size() && series_by_id_[series_id] != nullptr) {
      *labels = series_by_id_[series_id]->labels();
      return Status::OK();
    }
  }
  std::string encoded;
  rocksdb::Status rs = rocks_->Get(rocksdb::ReadOptions(), cf(kSeries), SeriesKey(series_id), &encoded);
  if (rs.IsNotFound()) return Status::NotFound("series " + std::to_string(series_id) + " was deleted");
  if (!rs.ok()) return FromRocks(rs);
  if (!DecodeLabels(encoded, labels)) return Status::Corruption("bad labels for series " + std::to_string(series_id));
  return Status::OK();
}

}  // namespace tsvault::storage
