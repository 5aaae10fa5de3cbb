// The append path: resolve series, apply to the head, log, sync.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <optional>

#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"
#include "storage/wal_record.h"

namespace tsvault::storage {

namespace {
constexpr size_t kMaxReportedErrors = 5;
constexpr auto kGatePoll = std::chrono::milliseconds(5);

// Counts one append between the head lock and the end of its RocksDB write
// (DBImpl::BlockAppends polls for these to finish, so the ingest path pays
// one atomic increment and decrement, no notification).
class InFlightAppend {
 public:
  explicit InFlightAppend(std::atomic<int>* counter) : counter_(counter) {
    counter_->fetch_add(1, std::memory_order_acq_rel);
  }
  ~InFlightAppend() { Done(); }
  InFlightAppend(const InFlightAppend&) = delete;
  InFlightAppend& operator=(const InFlightAppend&) = delete;
  void Done() {
    if (counter_ == nullptr) return;
    counter_->fetch_sub(1, std::memory_order_acq_rel);
    counter_ = nullptr;
  }

 private:
  std::atomic<int>* counter_;
};

void EncodeExemplar(const Exemplar& exemplar, std::string* out) {
  EncodeLabels(exemplar.labels, out);
  PutDouble(out, exemplar.value);
}

void EncodeMetadata(const MetricMetadata& metadata, std::string* out) {
  out->push_back(static_cast<char>(metadata.type));
  PutLengthPrefixed(out, metadata.help);
  PutLengthPrefixed(out, metadata.unit);
}
}  // namespace

AppendOutcome DBImpl::ApplyFloat(MemSeries* series, const Sample& sample) {
  AppendOutcome outcome = series->AppendFloat(sample, &chunk_sequencer_);
  if (outcome == AppendOutcome::kAppended) {
    head_max_time_ = std::max(head_max_time_, sample.timestamp_ms);
    head_min_time_ = std::min(head_min_time_, sample.timestamp_ms);
  }
  return outcome;
}

AppendOutcome DBImpl::ApplyHistogram(MemSeries* series, const Histogram& histogram) {
  AppendOutcome outcome = series->AppendHistogram(histogram, &chunk_sequencer_);
  if (outcome == AppendOutcome::kAppended) {
    head_max_time_ = std::max(head_max_time_, histogram.timestamp_ms);
    head_min_time_ = std::min(head_min_time_, histogram.timestamp_ms);
  }
  return outcome;
}

void DBImpl::BlockAppends(std::unique_lock<std::shared_mutex>* lock) {
  ++appends_blocked_;
  while (appends_in_flight_.load(std::memory_order_acquire) > 0) append_gate_.wait_for(*lock, kGatePoll);
}

void DBImpl::UnblockAppends() {
  --appends_blocked_;
  append_gate_.notify_all();
}

Status DBImpl::Append(const WriteInput& input, WriteResult* result) {
  *result = WriteResult();
  if (options_.read_only) return Status::Unsupported("the database is open read-only");
  rocksdb::WriteBatch batch;
  WalRecordBuilder record;
  std::vector<Sample> accepted_floats;
  std::vector<Histogram> accepted_histograms;
  // (id, incarnation) of the series whose records are in this batch.
  std::vector<std::pair<uint64_t, uint64_t>> recorded_series;
  std::vector<int64_t> accepted_times;      // of one series, for stale rollup marks
  bool wake_checkpoint = false;
  bool marked_stale_rollups = false;

  result->series_refs.reserve(input.series.size());
  uint64_t new_series_in_write = 0;  // against Options::max_new_series_per_write
  auto report = [&](const Labels& labels, int64_t t) {
    ++result->samples_rejected;
    if (result->errors.size() < kMaxReportedErrors) {
      result->errors.push_back("duplicate_timestamp: duplicate sample for timestamp " + std::to_string(t) +
                               " with a different value, series " + LabelsToString(labels));
    }
  };
  auto report_too_old = [&](const Labels& labels, int64_t t, int64_t cutoff) {
    ++result->samples_too_old;
    if (result->errors.size() < kMaxReportedErrors) {
      result->errors.push_back("too_old: sample at timestamp " + std::to_string(t) +
                               " is not after the raw retention cutoff " + std::to_string(cutoff) +
                               " (raw data older than the retention is dropped), series " + LabelsToString(labels));
    }
  };

  auto refuse_out_of_bounds = [&](const Labels& labels, const char* what, int64_t t) {
    ++result->samples_out_of_bounds;
    if (result->errors.size() < kMaxReportedErrors) {
      result->errors.push_back(std::string("out_of_bounds: ") + what + " at timestamp " + std::to_string(t) +
                               " is outside the accepted window [" + std::to_string(kMinTimestampMs) + ", " +
                               std::to_string(kMaxTimestampMs) + "] (years 0001 to 9999), series " +
                               LabelsToString(labels));
    }
  };

  if (LogRefusesWrites()) {
    return Status::ResourceExhausted(
        "the forwarding queue is full (--forward.max-queue-bytes): a forward target is too far behind");
  }
  // Samples at or before the raw retention cutoff are folded into rollups
  // (db_history.cc), one such Append at a time. The cutoff only grows: a
  // sample that crosses it between this check and the head lock is refused
  // as too_old, as it would have been before history folding existed.
  std::unique_lock<std::mutex> history_lock;
  HistorySpans history;
  std::vector<Sample> history_floats;
  std::vector<Histogram> history_histograms;
  if (const int64_t cutoff = retention_cutoff_[0].load(std::memory_order_acquire);
      cutoff != std::numeric_limits<int64_t>::min()) {
    // Stops at the first old sample; recent writes scan their timestamps once.
    const bool has_history = std::any_of(input.series.begin(), input.series.end(), [cutoff](const SeriesWrite& write) {
      return std::any_of(write.samples.begin(), write.samples.end(),
                         [cutoff](const Sample& s) { return s.timestamp_ms <= cutoff; }) ||
             std::any_of(write.histograms.begin(), write.histograms.end(),
                         [cutoff](const Histogram& h) { return h.timestamp_ms <= cutoff; });
    });
    if (has_history) history_lock = std::unique_lock<std::mutex>(history_mutex_);
  }
  std::optional<InFlightAppend> in_flight;
  uint64_t log_sequence = 0;  // this append's WAL record, if any
  // Exemplars and metadata are logged, and records tracked in flight, only
  // for forwarding (recovery needs neither).
  const bool log_for_consumers = has_log_consumers_;
  std::vector<Exemplar> accepted_exemplars;
  // Ends the record's in-flight state however Append returns.
  struct LogRecordGuard {
    LogRecordGuard(DBImpl* db, uint64_t sequence) : db(db), sequence(sequence) {}
    ~LogRecordGuard() { db->LogRecordFinished(sequence); }
    DBImpl* db;
    uint64_t sequence;
  };
  std::optional<LogRecordGuard> log_guard;
  {
    std::unique_lock<std::shared_mutex> lock(head_mutex_);
    while (appends_blocked_ > 0) append_gate_.wait_for(lock, kGatePoll);
    in_flight.emplace(&appends_in_flight_);
    // Samples at or before the raw retention cutoff C are refused: before
    // it they would be dropped at once, and at C (the end of a 5m window
    // whose span lies before C) their window could not be rolled up again,
    // since the rest of its span is gone. INT64_MIN: no cutoff.
    const int64_t raw_cutoff = retention_cutoff_[0].load(std::memory_order_acquire);
    auto too_old = [raw_cutoff](int64_t t) {
      return raw_cutoff != std::numeric_limits<int64_t>::min() && t <= raw_cutoff;
    };
    // Read under the lock: Downsample raises the sealing point before it
    // reads a series' samples, so a sample either is in what it reads or
    // gets a stale mark.
    int64_t max_rollup_sealing = std::numeric_limits<int64_t>::min();
    for (const auto& sealing : rollup_sealing_) {
      max_rollup_sealing = std::max(max_rollup_sealing, sealing.load(std::memory_order_acquire));
    }
    // References are checked before anything is applied, so a bad one
    // leaves the head untouched. A series that left the head comes back.
    for (const SeriesWrite& write : input.series) {
      if (write.series_ref == 0) continue;
      MemSeries* series = nullptr;
      Status s = LoadStoredSeries(write.series_ref, &series);
      if (!s.ok()) return s;
      if (series == nullptr) {
        return Status::InvalidArgument("unknown series reference " + std::to_string(write.series_ref));
      }
    }
    for (const SeriesWrite& write : input.series) {
      bool created = false;
      MemSeries* series = nullptr;
      if (write.series_ref != 0) {
        series = series_by_id_[write.series_ref].get();  // loaded above
      } else {
        const bool head_full = options_.max_series != 0 && resident_series_ >= options_.max_series;
        const bool write_full =
            options_.max_new_series_per_write != 0 && new_series_in_write >= options_.max_new_series_per_write;
        Status s = GetOrCreateSeries(write.labels, &series, &created, !head_full && !write_full);
        // Nothing of this request is logged: the samples applied so far
        // stay in the head only (as after a failed write below).
        if (!s.ok()) return s;
        if (series == nullptr) {  // new, and a limit is reached
          result->series_refs.push_back(0);
          result->samples_series_limit += write.samples.size() + write.histograms.size();
          if (result->errors.size() < kMaxReportedErrors) {
            result->errors.push_back(
                head_full ? "series_limit: the head holds " + std::to_string(resident_series_) +
                                " series, the limit (--storage.max-series " + std::to_string(options_.max_series) +
                                "); new series " + LabelsToString(write.labels) + " was not created"
                          : "series_limit: this request already created " + std::to_string(new_series_in_write) +
                                " new series, the limit per request (--storage.max-new-series-per-write " +
                                std::to_string(options_.max_new_series_per_write) + "); new series " +
                                LabelsToString(write.labels) + " was not created");
          }
          continue;
        }
        if (created) ++new_series_in_write;
      }
      result->series_refs.push_back(series->id());
      // A series whose records did not reach RocksDB yet (new, back from
      // disk, or an earlier write failed) gets them in this batch.
      if (!series->persisted() || !series->in_head_set()) {
        PutSeriesRecords(*series, &batch);
        recorded_series.emplace_back(series->id(), series->incarnation());
      }

      accepted_floats.clear();
      history_floats.clear();
      history_histograms.clear();
      for (const Sample& sample : write.samples) {
        if (!TimestampInBounds(sample.timestamp_ms)) {
          refuse_out_of_bounds(series->labels(), "sample", sample.timestamp_ms);
          continue;
        }
        if (too_old(sample.timestamp_ms)) {
          if (!history_lock.owns_lock()) {
            report_too_old(series->labels(), sample.timestamp_ms, raw_cutoff);
            continue;
          }
          history_floats.push_back(sample);
          // One exactly at the cutoff is also kept raw, below: reads from
          // the cutoff on use raw samples, reads before it the window
          // ending there (as every sample at the boundary is kept).
          if (sample.timestamp_ms < raw_cutoff) continue;
        }
        // Duplicates are logged too: if the earlier copy was never made
        // durable (its write failed), this retry makes it so.
        AppendOutcome outcome = ApplyFloat(series, sample);
        if (outcome == AppendOutcome::kConflict) {
          report(series->labels(), sample.timestamp_ms);
          if (sample.timestamp_ms == raw_cutoff) history_floats.pop_back();
          continue;
        }
        accepted_floats.push_back(sample);
        ++result->samples_written;
      }
      record.AddFloats(series->id(), accepted_floats.data(), accepted_floats.size());

      accepted_histograms.clear();
      for (const Histogram& histogram : write.histograms) {
        if (!TimestampInBounds(histogram.timestamp_ms)) {
          refuse_out_of_bounds(series->labels(), "histogram", histogram.timestamp_ms);
          continue;
        }
        if (too_old(histogram.timestamp_ms)) {
          if (!history_lock.owns_lock()) {
            report_too_old(series->labels(), histogram.timestamp_ms, raw_cutoff);
            continue;
          }
          history_histograms.push_back(histogram);
          if (histogram.timestamp_ms < raw_cutoff) continue;  // at the cutoff: raw too, as floats
        }
        AppendOutcome outcome = ApplyHistogram(series, histogram);
        if (outcome == AppendOutcome::kConflict) {
          report(series->labels(), histogram.timestamp_ms);
          if (histogram.timestamp_ms == raw_cutoff) history_histograms.pop_back();
          continue;
        }
        accepted_histograms.push_back(histogram);
        ++result->histograms_written;
      }
      record.AddHistograms(series->id(), accepted_histograms.data(), accepted_histograms.size());
      if (!history_floats.empty() || !history_histograms.empty()) {
        // Not in the write log: recovery has nothing to replay into the
        // head, and forward targets refuse samples this old anyway.
        Status s = FoldHistory(*series, history_floats, history_histograms, raw_cutoff, &history, &batch, result);
        if (!s.ok()) return s;
      }

      // Samples for windows the downsampler already sealed make those
      // rollups stale; the marks go into this same atomic batch. (One at
      // the raw cutoff is folded into its window directly.)
      int64_t min_time = std::numeric_limits<int64_t>::max();
      for (const Sample& sample : accepted_floats) {
        if (!too_old(sample.timestamp_ms)) min_time = std::min(min_time, sample.timestamp_ms);
      }
      for (const Histogram& histogram : accepted_histograms) {
        if (!too_old(histogram.timestamp_ms)) min_time = std::min(min_time, histogram.timestamp_ms);
      }
      if (min_time <= max_rollup_sealing) {
        accepted_times.clear();
        for (const Sample& sample : accepted_floats) {
          if (!too_old(sample.timestamp_ms)) accepted_times.push_back(sample.timestamp_ms);
        }
        for (const Histogram& histogram : accepted_histograms) {
          if (!too_old(histogram.timestamp_ms)) accepted_times.push_back(histogram.timestamp_ms);
        }
        marked_stale_rollups |= MarkStaleRollups(series->id(), min_time, accepted_times, &batch);
      }

      accepted_exemplars.clear();
      for (const Exemplar& exemplar : write.exemplars) {
        if (!TimestampInBounds(exemplar.timestamp_ms)) {
          refuse_out_of_bounds(series->labels(), "exemplar", exemplar.timestamp_ms);
          continue;
        }
        if (too_old(exemplar.timestamp_ms)) continue;  // would be dropped at once
        std::string value;
        EncodeExemplar(exemplar, &value);
        batch.Put(cf(kExemplars), ExemplarKey(series->id(), exemplar.timestamp_ms), value);
        ++result->exemplars_written;
        if (log_for_consumers) accepted_exemplars.push_back(exemplar);
      }
      record.AddExemplars(series->id(), accepted_exemplars.data(), accepted_exemplars.size());
    }
    // Metadata goes to the write log's consumers too (stored below).
    if (log_for_consumers) record.AddMetadata(input.metadata.data(), input.metadata.size());
    if (!record.empty()) {
      if (log_for_consumers) {  // readers need the in-flight bookkeeping; plain ingest does not
        log_sequence = next_log_sequence_;
        LogRecordStarted(log_sequence, record.data().size(), result->samples_written + result->histograms_written);
        log_guard.emplace(this, log_sequence);
      }
      batch.Put(cf(kWal), WalKey(next_log_sequence_++), record.data());
      logged_bytes_since_checkpoint_ += record.data().size();
      wake_checkpoint = logged_bytes_since_checkpoint_ >= options_.head_checkpoint_bytes;
    }
  }

  if (!history.spans.empty()) {
    Status s = PutHistorySpans(&history, &batch);
    if (!s.ok()) {
      std::unique_lock<std::shared_mutex> lock(head_mutex_);
      written_stale_marks_.clear();  // this batch's marks are not written
      return s;
    }
    marked_stale_rollups |= history.marked_stale;
  }
  for (const MetricMetadata& metadata : input.metadata) {
    std::string value;
    EncodeMetadata(metadata, &value);
    batch.Put(cf(kMetadata), metadata.metric_family_name, value);
  }
  if (batch.Count() == 0) return Status::OK();  // in_flight ends here

  if (options_.append_write_hook) options_.append_write_hook();
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.wal_sync == WalSyncMode::kAlways;
  Status s;
  if (marked_stale_rollups) {
    // Ordered against Downsample removing older marks of the same spans.
    std::lock_guard<std::mutex> stale_lock(rollup_stale_mutex_);
    s = FromRocks(rocks_->Write(write_options, &batch));
  } else {
    s = FromRocks(rocks_->Write(write_options, &batch));
  }
  in_flight->Done();
  log_guard.reset();  // the record is written (or failed): readers may pass it
  if (!s.ok()) {
    if (marked_stale_rollups) {
      // The marks of this batch may not exist: let the next late samples
      // write them again.
      std::unique_lock<std::shared_mutex> lock(head_mutex_);
      written_stale_marks_.clear();
    }
    result->samples_written = result->histograms_written = result->exemplars_written = 0;
    return s;
  }

  if (!recorded_series.empty()) {
    // Series records are in RocksDB now. Looked up again by id: since the
    // lock was released, Delete may have removed a series, or a checkpoint
    // evicted it (deleting its head_series key) and another append loaded
    // it again as a new object, whose records are not this batch's.
    std::unique_lock<std::shared_mutex> lock(head_mutex_);
    for (const auto& [id, incarnation] : recorded_series) {
      MemSeries* series = id < series_by_id_.size() ? series_by_id_[id].get() : nullptr;
      if (series == nullptr || series->incarnation() != incarnation) continue;
      series->set_persisted(true);
      series->set_in_head_set(true);
    }
  }
  if (wake_checkpoint) background_wake_.notify_all();
  if (options_.wal_sync == WalSyncMode::kBatch) return syncer_->WaitDurable();
  return Status::OK();
}

}  // namespace tsvault::storage
