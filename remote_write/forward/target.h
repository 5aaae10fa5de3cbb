// One forwarding target: a reader thread that takes write log records from
// the target's position, resolves and relabels their series, splits them
// into per-shard batches (a series always in the same shard, so its
// samples stay in order), sends the batches in parallel and moves the
// position once every batch was delivered or dropped. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "remote_write/forward/batch_builder.h"
#include "remote_write/forward/batch_sender.h"
#include "remote_write/forward/forwarder.h"
#include "remote_write/forward/relabel.h"
#include "remote_write/forward/shard_workers.h"
#include "storage/db.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
class Gauge;
}  // namespace prometheus

namespace tsvault::forward {

class Forwarder::Target {
 public:
  Target(storage::DB* db, TargetConfig config, std::unique_ptr<Relabeler> relabeler, TargetUrl url,
         std::vector<std::pair<std::string, std::string>> headers, ForwarderOptions options,
         prometheus::Registry* registry);
  ~Target();

  void Start();
  void Stop();
  TargetStatus status() const;

 private:
  void Run();
  // Reads records after read_next_ into pending_: up to a segment's worth
  // of samples spanning at most kRoundMaxSpanMs of sample time (target.cc).
  Status ReadMore();
  // Sends pending_ and moves the position past it; false when stopped.
  bool SendPending();
  // Into how many groups of series `samples` are batched (BatchBuilder's
  // shards): fixed by the records, so a resent segment makes the same batches.
  int BatchShards(uint64_t samples) const;
  // How many shard threads send them (Prometheus' desired shards, from the
  // measured send speed; see docs/forwarding.md). At most BatchShards.
  int ShardsFor(uint64_t samples) const;
  // Updates the measured send speed from a round of `shards` shards.
  void LearnSendSpeed(int shards, uint64_t samples, std::chrono::steady_clock::duration elapsed);
  // The series as sent (relabeled) in *series; null when relabeling drops
  // it or the series was deleted (*deleted). A storage error is returned
  // (and not remembered), so the send is tried again later.
  Status LabelsFor(uint64_t series_id, std::shared_ptr<const TargetSeries>* series, bool* deleted);
  // Sends `batch` and adds what was delivered and dropped to *counts; a
  // resent batch (of the segment a stopped process was sending) refused
  // with 400 or 409 counts as resent_http_<status>. False when stopped.
  struct Counts;
  bool SendBatch(size_t shard, const Batch& batch, Counts* counts);
  // Copies the counters into the registry's metrics.
  void Publish();

  storage::DB* db_;
  TargetConfig config_;
  std::unique_ptr<Relabeler> relabeler_;
  TargetUrl url_;
  std::vector<std::pair<std::string, std::string>> headers_;
  ForwarderOptions options_;
  StopSignal stop_;
  std::thread thread_;

  // Reader thread only.
  uint64_t position_ = 0;   // first record not yet delivered
  uint64_t read_next_ = 0;  // first record not yet in pending_
  uint64_t log_end_ = 0;    // the log's end when last looked (for status)
  std::vector<storage::LogRecord> pending_;
  uint64_t pending_samples_ = 0;
  // The oldest and newest sample time in pending_, when pending_timed_
  // (pending_ holds a sample or histogram).
  int64_t pending_oldest_ms_ = 0, pending_newest_ms_ = 0;
  bool pending_timed_ = false;
  bool pending_span_full_ = false;  // the next record would stretch it too far: send now
  double seconds_per_sample_per_shard_ = 0;  // measured; 0 until a round was
  // The series as sent, by id (null: not looked up yet).
  // Shared, so that a round's gathered series stay valid when the table
  // is reset or the overflow slot replaced.
  std::vector<std::shared_ptr<const TargetSeries>> series_;
  std::shared_ptr<const TargetSeries> overflow_;  // for an id beyond the table's bound
  uint64_t overflow_id_ = 0;
  // SendPending's gathering of each series' samples in a round; kept
  // between rounds to reuse its memory. Entries [0, gathered_count_) are live.
  struct Gathered {
    uint64_t series_id = 0;
    std::shared_ptr<const TargetSeries> series;  // null: relabeled away or deleted
    bool deleted = false;
    std::vector<storage::Sample> samples;
    bool resent = false;
  };
  std::vector<Gathered> gathered_;
  size_t gathered_count_ = 0;
  std::unordered_map<uint64_t, size_t> gathered_index_;
  std::vector<std::unique_ptr<BatchSender>> senders_;  // one per shard, connections kept
  ShardWorkers shard_workers_;  // one thread per shard, kept
  uint64_t queue_full_records_seen_ = 0, queue_full_samples_seen_ = 0;
  // The end of the segment a stopped process was sending (0: none); it is
  // sent again alone, as the same batches (see SendBatch).
  uint64_t resend_until_ = 0;

  mutable std::mutex status_mutex_;
  TargetStatus status_;  // Guarded by status_mutex_.

  struct Metrics;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace tsvault::forward
