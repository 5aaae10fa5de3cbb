#include "remote_write/forward/target.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>


namespace tsvault::forward {

namespace {

constexpr size_t kReadRecords = 256;       // records per ReadLog call
constexpr size_t kMaxCachedSeries = size_t{1} << 24;  // ids; 8 bytes each in the table
// A send round should take about this long (ShardsFor).
constexpr double kRoundSeconds = 1.0;
// The most sample time one round spans. Shards send a round in parallel,
// each its series' samples from all the round's records, so one shard may
// deliver the round's newest samples before another its oldest. Receivers
// built on the Prometheus TSDB (Prometheus, Thanos Receive, Mimir) refuse
// samples more than an hour older than the newest they hold ("out of
// bounds"): half of that keeps a backlog's catch-up clear of it.
constexpr int64_t kRoundMaxSpanMs = 30 * 60 * 1000;

// The oldest and newest sample (float or histogram) time of a record; false
// when it holds none.
bool RecordTimeRange(const storage::LogRecord& record, int64_t* oldest, int64_t* newest) {
  bool any = false;
  auto add = [&](int64_t t) {
    *oldest = any ? std::min(*oldest, t) : t;
    *newest = any ? std::max(*newest, t) : t;
    any = true;
  };
  for (const storage::Sample& sample : record.samples) add(sample.timestamp_ms);
  for (const storage::LogEntry& entry : record.entries) {
    for (const storage::Histogram& histogram : entry.histograms) add(histogram.timestamp_ms);
  }
  return any;
}

}  // namespace

// What /metrics shows for one target; updated by Publish from status_.
struct Forwarder::Target::Metrics {
  prometheus::Counter* samples_sent = nullptr;
  prometheus::Counter* histograms_sent = nullptr;
  prometheus::Counter* exemplars_sent = nullptr;
  prometheus::Counter* metadata_sent = nullptr;
  prometheus::Counter* retried = nullptr;
  prometheus::Family<prometheus::Counter>* dropped_family = nullptr;
  std::map<std::string, prometheus::Counter*> dropped;
  prometheus::Counter* relabel_dropped = nullptr;
  prometheus::Gauge* pending = nullptr;
  prometheus::Gauge* highest = nullptr;
  prometheus::Gauge* shards = nullptr;
  prometheus::Gauge* position = nullptr;
  TargetStatus published;  // what the counters hold
};


Forwarder::Target::Target(storage::DB* db, TargetConfig config, std::unique_ptr<Relabeler> relabeler, TargetUrl url,
                          std::vector<std::pair<std::string, std::string>> headers, ForwarderOptions options,
                          prometheus::Registry* registry)
    : db_(db),
      config_(std::move(config)),
      relabeler_(std::move(relabeler)),
      url_(std::move(url)),
      headers_(std::move(headers)),
      options_(options) {
  status_.name = config_.name;
  status_.url = config_.url;
  if (registry == nullptr) return;
  metrics_ = std::make_unique<Metrics>();
  const std::map<std::string, std::string> target{{"target", config_.name}};
  auto counter = [&](const char* name, const char* help, std::map<std::string, std::string> labels) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add(labels);
  };
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add(target);
  };
  auto with_kind = [&](const char* kind) {
    auto labels = target;
    labels["kind"] = kind;
    return labels;
  };
  metrics_->samples_sent = counter("tsvault_forward_sent_total", "Samples, histograms, exemplars and metadata entries delivered to a forward target.",
                                   with_kind("sample"));
  metrics_->histograms_sent = counter("tsvault_forward_sent_total",
                                      "Samples, histograms, exemplars and metadata entries delivered to a forward target.", with_kind("histogram"));
  metrics_->exemplars_sent = counter("tsvault_forward_sent_total",
                                     "Samples, histograms, exemplars and metadata entries delivered to a forward target.", with_kind("exemplar"));
  metrics_->metadata_sent = counter("tsvault_forward_sent_total",
                                    "Samples, histograms, exemplars and metadata entries delivered to a forward target.", with_kind("metadata"));
  metrics_->retried = counter("tsvault_forward_retried_requests_total",
                              "Requests to a forward target that failed (5xx, 429 with retry_on_http_429, connection "
                              "errors, timeouts) and were retried.",
                              target);
  metrics_->dropped_family = &prometheus::BuildCounter()
                                  .Name("tsvault_forward_dropped_total")
                                  .Help("Samples and histograms a forward target will never receive, by reason: "
                                        "http_<status> (refused), queue_full (--forward.max-queue-bytes), "
                                        "series_deleted.")
                                  .Register(*registry);
  metrics_->relabel_dropped = counter("tsvault_forward_relabel_dropped_total",
                                      "Samples and histograms write_relabel_configs kept from a forward target.", target);
  metrics_->pending = gauge("tsvault_forward_pending_records", "Write log records not yet delivered to a forward target.");
  metrics_->highest = gauge("tsvault_forward_highest_sent_timestamp_seconds",
                            "Highest sample timestamp delivered to a forward target.");
  metrics_->shards = gauge("tsvault_forward_shards", "Shards (parallel requests) of a forward target's last send.");
  metrics_->position = gauge("tsvault_forward_position", "The forward target's position in the write log.");
}

Forwarder::Target::~Target() { Stop(); }

void Forwarder::Target::Start() {
  uint64_t kept = 0;
  for (const storage::LogConsumerState& state : db_->LogConsumers(&kept)) {
    if (state.name != config_.name) continue;
    position_ = read_next_ = state.position;
    queue_full_records_seen_ = state.records_dropped;
    queue_full_samples_seen_ = state.samples_dropped;
    // The segment being sent when the last process stopped is sent again
    // exactly: the same records make the same batches.
    resend_until_ = state.segment_end;
    log_end_ = state.log_end;
  }
  {
    // Known before the thread reads anything: a status taken right after
    // a restart must not say "nothing pending".
    std::lock_guard<std::mutex> lock(status_mutex_);
    status_.position = position_;
    status_.pending_records = log_end_ > position_ ? log_end_ - position_ : 0;
  }
  thread_ = std::thread([this] { Run(); });
}

void Forwarder::Target::Stop() {
  stop_.Stop();
  if (thread_.joinable()) thread_.join();
}

TargetStatus Forwarder::Target::status() const {
  // Pending counts up to the log's end now, not as the sender last looked:
  // a record appended since (or in flight then) is pending until sent, so
  // "pendingRecords 0" means everything acknowledged so far was delivered.
  uint64_t log_end = 0, kept = 0;
  for (const storage::LogConsumerState& state : db_->LogConsumers(&kept)) {
    if (state.name == config_.name) log_end = state.log_end;
  }
  std::lock_guard<std::mutex> lock(status_mutex_);
  TargetStatus out = status_;
  if (log_end > out.position) out.pending_records = std::max(out.pending_records, log_end - out.position);
  return out;
}

Status Forwarder::Target::ReadMore() {
  const uint64_t segment_samples =
      static_cast<uint64_t>(config_.queue.max_samples_per_send) * static_cast<uint64_t>(config_.queue.max_shards);
  // The interrupted segment (resend_until_) is read alone, whatever its size.
  const bool replaying = position_ < resend_until_;
  if (pending_span_full_ && !replaying) return Status::OK();  // the round is complete
  while (replaying ? read_next_ < resend_until_ : pending_samples_ < segment_samples) {
    std::vector<storage::LogRecord> records;
    uint64_t next = read_next_;
    const size_t limit = replaying ? std::min<uint64_t>(kReadRecords, resend_until_ - read_next_) : kReadRecords;
    Status s = db_->ReadLog(read_next_, limit, &records, &next);
    if (!s.ok()) return s;
    if (records.empty() && next == read_next_) break;
    bool round_full = false;
    for (storage::LogRecord& record : records) {
      int64_t oldest = 0, newest = 0;
      if (!replaying && RecordTimeRange(record, &oldest, &newest)) {
        // A record that would stretch the round past kRoundMaxSpanMs
        // starts the next one (read again then).
        const int64_t round_oldest = pending_timed_ ? std::min(pending_oldest_ms_, oldest) : oldest;
        const int64_t round_newest = pending_timed_ ? std::max(pending_newest_ms_, newest) : newest;
        if (pending_timed_ && round_newest - round_oldest > kRoundMaxSpanMs) {
          next = record.sequence;
          round_full = true;
          pending_span_full_ = true;
          break;
        }
        pending_oldest_ms_ = round_oldest;
        pending_newest_ms_ = round_newest;
        pending_timed_ = true;
      }
      for (const storage::LogEntry& entry : record.entries) pending_samples_ += entry.sample_count + entry.histograms.size();
      pending_.push_back(std::move(record));
    }
    read_next_ = next;
    if (round_full || records.size() < limit) break;
  }
  if (replaying) read_next_ = std::min(read_next_, resend_until_);
  return Status::OK();
}

Status Forwarder::Target::LabelsFor(uint64_t series_id, std::shared_ptr<const TargetSeries>* series, bool* deleted) {
  *deleted = false;
  series->reset();
  // Series ids are dense: a table indexed by id, up to a bound.
  if (series_id >= series_.size()) {
    if (series_id >= kMaxCachedSeries) {
      series_.clear();
      series_.shrink_to_fit();
      overflow_.reset();
      overflow_id_ = 0;
    } else {
      series_.resize(std::max<size_t>(series_id + 1, series_.size() * 2));
    }
  }
  std::shared_ptr<const TargetSeries>* slot = series_id < series_.size() ? &series_[series_id] : nullptr;
  if (slot == nullptr && overflow_ && overflow_id_ == series_id) slot = &overflow_;
  if (slot == nullptr || !*slot) {
    Labels stored;
    Status s = db_->SeriesLabels(series_id, &stored);
    if (s.IsNotFound()) {
      *deleted = true;  // not cached: ids are never reused, and it stays gone
      return Status::OK();
    }
    if (!s.ok()) return s;
    auto result = std::make_shared<TargetSeries>();
    result->dropped = !relabeler_->Apply(&stored);
    if (!result->dropped) {
      result->v1_labels = EncodeV1Labels(stored);
      result->labels = std::move(stored);
    }
    if (slot == nullptr) {  // ids beyond the table: remember the last one only
      overflow_id_ = series_id;
      slot = &overflow_;
    }
    *slot = std::move(result);
  }
  if (!(*slot)->dropped) *series = *slot;
  return Status::OK();
}

// What one send delivered and dropped.
struct Forwarder::Target::Counts {
  uint64_t samples = 0, histograms = 0, exemplars = 0, metadata = 0;
  int64_t max_timestamp_ms = 0;
  std::map<std::string, uint64_t> dropped;
  std::string error;
};


bool Forwarder::Target::SendBatch(size_t shard, const Batch& batch, Counts* counts) {
  std::string body;
  Status s = batch.Encode(config_.protocol, &body);
  SendOutcome outcome;
  if (s.ok()) {
    outcome = senders_[shard]->Send(body);
  } else {
    outcome.kind = SendOutcome::kDropped;
    outcome.message = "cannot encode: " + s.ToString();
  }
  if (outcome.kind == SendOutcome::kStopped) return false;
  if (outcome.kind == SendOutcome::kDelivered) {
    counts->samples += batch.samples;
    counts->histograms += batch.histograms;
    counts->exemplars += batch.exemplars;
    counts->metadata += batch.metadata;
    counts->max_timestamp_ms = std::max(counts->max_timestamp_ms, batch.max_timestamp_ms);
    return true;
  }
  // A batch of the segment that was being sent when the last process
  // stopped is the same batch as then: refused (400, 409: out of order,
  // conflict) it was most likely delivered then.
  const bool seen = batch.resent && (outcome.status == 400 || outcome.status == 409);
  const std::string reason =
      outcome.status == 0 ? "encoding" : std::string(seen ? "resent_" : "") + "http_" + std::to_string(outcome.status);
  counts->dropped[reason] += batch.points();
  counts->error = outcome.message;
  if (seen) {
    spdlog::info("forward target {} refused a batch sent again after a restart (delivered before?): {}", config_.name,
                 outcome.message);
  } else {
    spdlog::warn("forward target {} refused a batch of {} samples and histograms, dropped: {}", config_.name,
                 batch.points(), outcome.message);
  }
  return true;
}

int Forwarder::Target::BatchShards(uint64_t samples) const {
  // One per batch, within [min_shards, max_shards]. A function of the
  // records alone: a segment sent again after a restart makes the same
  // batches (series are split among these by id).
  const int64_t per_send = config_.queue.max_samples_per_send;
  const int64_t batches = static_cast<int64_t>((samples + per_send - 1) / per_send);
  return static_cast<int>(
      std::max<int64_t>(config_.queue.min_shards, std::min<int64_t>(config_.queue.max_shards, batches)));
}

int Forwarder::Target::ShardsFor(uint64_t samples) const {
  const int most = BatchShards(samples);
  // As Prometheus' desired shards: enough that the backlog goes out in
  // about kRoundSeconds at the speed one shard was measured to send. Until
  // a round was measured, one shard per batch shard (the most).
  if (seconds_per_sample_per_shard_ <= 0) return most;
  const double wanted = std::ceil(static_cast<double>(samples) * seconds_per_sample_per_shard_ / kRoundSeconds);
  return static_cast<int>(std::clamp<int64_t>(static_cast<int64_t>(wanted), config_.queue.min_shards, most));
}

void Forwarder::Target::LearnSendSpeed(int shards, uint64_t samples, std::chrono::steady_clock::duration elapsed) {
  if (samples < static_cast<uint64_t>(config_.queue.max_samples_per_send)) return;  // too small to tell
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const double measured = seconds * shards / static_cast<double>(samples);
  // A moving average, so one slow round (a retry) moves it only part way.
  seconds_per_sample_per_shard_ =
      seconds_per_sample_per_shard_ <= 0 ? measured : 0.7 * seconds_per_sample_per_shard_ + 0.3 * measured;
}

bool Forwarder::Target::SendPending() {
  const uint64_t per_send = static_cast<uint64_t>(config_.queue.max_samples_per_send);
  const int shard_count = ShardsFor(pending_samples_);
  const auto round_start = std::chrono::steady_clock::now();
  BatchBuilder builder(config_.protocol, per_send, static_cast<size_t>(BatchShards(pending_samples_)));
  uint64_t relabel_dropped = 0, deleted_dropped = 0;
  // A series' float samples from all pending records go out together, so
  // its labels are written once per batch instead of once per record (a
  // backlog holds many records per series), and its labels are looked up
  // once per round. Entries with histograms or exemplars are added as they
  // come, after the floats gathered before them, so each series stays in
  // time order. Everything depends on the records alone: a resent segment
  // makes the same batches.
  for (size_t i = 0; i < gathered_count_; ++i) {
    gathered_[i].samples.clear();
    gathered_[i].series.reset();
  }
  gathered_count_ = 0;
  gathered_index_.clear();
  for (const storage::LogRecord& record : pending_) {
    const bool resent = record.sequence < resend_until_;
    for (const storage::LogEntry& entry : record.entries) {
      const std::span<const storage::Sample> samples = record.SamplesOf(entry);
      auto [found, inserted] = gathered_index_.try_emplace(entry.series_id, gathered_count_);
      if (inserted) {
        if (gathered_count_ == gathered_.size()) gathered_.emplace_back();
        Gathered& fresh = gathered_[gathered_count_++];
        fresh.series_id = entry.series_id;
        fresh.resent = false;
        Status s = LabelsFor(entry.series_id, &fresh.series, &fresh.deleted);
        if (!s.ok()) {
          spdlog::warn("forward target {}: labels of series {}: {}; trying again", config_.name, entry.series_id,
                       s.ToString());
          return false;
        }
      }
      Gathered& series = gathered_[found->second];
      if (!series.series) {
        (series.deleted ? deleted_dropped : relabel_dropped) += samples.size() + entry.histograms.size();
        continue;
      }
      series.resent = series.resent || resent;
      if (entry.histograms.empty() && entry.exemplars.empty()) {
        series.samples.insert(series.samples.end(), samples.begin(), samples.end());
        continue;
      }
      if (!series.samples.empty()) {
        builder.AddSamples(series.series_id, *series.series, series.samples, series.resent);
        series.samples.clear();
      }
      builder.AddSamples(entry.series_id, *series.series, samples, resent);
      builder.AddHistogramsAndExemplars(entry.series_id, *series.series, entry, resent);
    }
  }
  for (size_t i = 0; i < gathered_count_; ++i) {
    const Gathered& series = gathered_[i];
    if (series.series && !series.samples.empty()) {
      builder.AddSamples(series.series_id, *series.series, series.samples, series.resent);
    }
  }
  if (config_.metadata.send) {
    std::vector<storage::MetricMetadata> metadata;
    for (const storage::LogRecord& record : pending_) {
      metadata.insert(metadata.end(), record.metadata.begin(), record.metadata.end());
    }
    builder.AddMetadata(metadata);
  }
  std::vector<std::vector<Batch>>& shards = builder.shards();
  // Remembered across a crash: the next process sends these same records
  // as the same batches.
  Status marked = db_->MarkLogConsumerSegment(config_.name, read_next_);
  if (!marked.ok()) spdlog::warn("forward target {}: cannot save its segment: {}", config_.name, marked.ToString());
  while (senders_.size() < std::min<size_t>(shard_count, shards.size())) {
    senders_.push_back(std::make_unique<BatchSender>(config_, url_, headers_, &stop_, [this](const std::string& error) {
      std::lock_guard<std::mutex> lock(status_mutex_);
      ++status_.requests_retried;
      status_.last_error = error;
    }));
  }
  std::atomic<bool> stopped{false};
  // Shard thread `shard` sends batch shards shard, shard + shard_count, ...
  // in turn: each batch shard's batches in order, on one connection.
  const std::function<void(size_t)> work = [this, &shards, &stopped, shard_count](size_t shard) {
    for (size_t batch_shard = shard; batch_shard < shards.size(); batch_shard += shard_count) {
      for (const Batch& batch : shards[batch_shard]) {
        Counts counts;
        bool running = true;
        try {
          running = SendBatch(shard, batch, &counts);
        } catch (const std::exception& e) {
          counts.error = std::string("send failed: ") + e.what();
          running = false;  // not delivered: the segment is sent again
        }
        std::lock_guard<std::mutex> lock(status_mutex_);
        status_.samples_sent += counts.samples;
        status_.histograms_sent += counts.histograms;
        status_.exemplars_sent += counts.exemplars;
        status_.metadata_sent += counts.metadata;
        status_.highest_sent_timestamp_ms = std::max(status_.highest_sent_timestamp_ms, counts.max_timestamp_ms);
        for (const auto& [reason, count] : counts.dropped) status_.dropped[reason] += count;
        if (!counts.error.empty() || counts.dropped.empty()) status_.last_error = counts.error;
        if (!running) {
          stopped = true;
          return;
        }
      }
    }
  };
  if (!shard_workers_.Run(std::min<size_t>(shard_count, shards.size()), work)) {
    // A shard without a thread: what ran is complete, the rest waits.
    spdlog::warn("forward target {}: cannot start a sender thread", config_.name);
    stopped = true;
  }
  if (stopped) return false;
  LearnSendSpeed(shard_count, pending_samples_, std::chrono::steady_clock::now() - round_start);
  Status s = db_->AdvanceLogConsumer(config_.name, read_next_);
  if (!s.ok()) spdlog::warn("forward target {}: cannot save its position: {}", config_.name, s.ToString());
  position_ = read_next_;
  pending_.clear();
  pending_timed_ = pending_span_full_ = false;
  pending_samples_ = 0;
  std::lock_guard<std::mutex> lock(status_mutex_);
  status_.position = position_;
  status_.shards = shard_count;
  status_.relabel_dropped += relabel_dropped;
  if (deleted_dropped > 0) status_.dropped["series_deleted"] += deleted_dropped;
  return true;
}

void Forwarder::Target::Run() {
  bool waiting = false;  // for a full batch, since waiting_since
  std::chrono::steady_clock::time_point waiting_since{};
  const auto deadline = std::chrono::milliseconds(std::max<int64_t>(1, config_.queue.batch_send_deadline_ms));
  const auto poll = std::chrono::milliseconds(std::max<int64_t>(1, options_.poll_interval_ms));
  while (!stop_.stopped()) {
    // Records the log gave up because it was full (queue_full): the
    // position moved past them.
    uint64_t kept = 0;
    for (const storage::LogConsumerState& state : db_->LogConsumers(&kept)) {
      if (state.name != config_.name) continue;
      log_end_ = state.log_end;
      if (state.position > position_) {
        position_ = state.position;
        if (read_next_ < position_) {
          pending_.clear();
          pending_timed_ = pending_span_full_ = false;
          pending_samples_ = 0;
          read_next_ = position_;
        }
      }
      std::lock_guard<std::mutex> lock(status_mutex_);
      if (state.samples_dropped > queue_full_samples_seen_) {
        status_.dropped["queue_full"] += state.samples_dropped - queue_full_samples_seen_;
        queue_full_samples_seen_ = state.samples_dropped;
      }
    }
    Status s = ReadMore();
    if (!s.ok()) {
      spdlog::error("forward target {}: cannot read the write log: {}", config_.name, s.ToString());
      stop_.SleepFor(std::chrono::seconds(1));
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(status_mutex_);
      status_.pending_records = std::max(log_end_, read_next_) - position_;
    }
    if (pending_.empty()) {
      // Nothing to send; skip gaps (sequences of failed appends).
      if (read_next_ > position_) {
        db_->AdvanceLogConsumer(config_.name, read_next_);
        position_ = read_next_;
      }
      waiting = false;
      Publish();
      stop_.SleepFor(poll);
      continue;
    }
    if (position_ >= resend_until_ && !pending_span_full_ &&
        pending_samples_ < static_cast<uint64_t>(config_.queue.max_samples_per_send)) {
      // Less than a full batch: wait for more, at most batch_send_deadline.
      const auto now = std::chrono::steady_clock::now();
      if (!waiting) {
        waiting = true;
        waiting_since = now;
      }
      if (now - waiting_since < deadline) {
        stop_.SleepFor(std::min(poll, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - (now - waiting_since))));
        continue;
      }
    }
    waiting = false;
    if (!SendPending()) {
      if (stop_.stopped()) break;
      // Not sent (a storage error, no thread): try the same segment again
      // (marked, so it makes the same batches).
      resend_until_ = std::max(resend_until_, read_next_);
      stop_.SleepFor(std::chrono::seconds(1));
      continue;
    }
    Publish();
  }
  Publish();
}

void Forwarder::Target::Publish() {
  if (!metrics_) return;
  const TargetStatus now = status();
  TargetStatus& before = metrics_->published;
  metrics_->samples_sent->Increment(static_cast<double>(now.samples_sent - before.samples_sent));
  metrics_->histograms_sent->Increment(static_cast<double>(now.histograms_sent - before.histograms_sent));
  metrics_->exemplars_sent->Increment(static_cast<double>(now.exemplars_sent - before.exemplars_sent));
  metrics_->metadata_sent->Increment(static_cast<double>(now.metadata_sent - before.metadata_sent));
  metrics_->retried->Increment(static_cast<double>(now.requests_retried - before.requests_retried));
  metrics_->relabel_dropped->Increment(static_cast<double>(now.relabel_dropped - before.relabel_dropped));
  for (const auto& [reason, count] : now.dropped) {
    prometheus::Counter*& counter = metrics_->dropped[reason];
    if (counter == nullptr) counter = &metrics_->dropped_family->Add({{"target", config_.name}, {"reason", reason}});
    counter->Increment(static_cast<double>(count - before.dropped[reason]));
  }
  metrics_->pending->Set(static_cast<double>(now.pending_records));
  metrics_->highest->Set(static_cast<double>(now.highest_sent_timestamp_ms) / 1000);
  metrics_->shards->Set(now.shards);
  metrics_->position->Set(static_cast<double>(now.position));
  before = now;
}

}  // namespace tsvault::forward
