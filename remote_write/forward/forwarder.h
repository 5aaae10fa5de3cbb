// Forwards everything tsvault acknowledged to other remote-write receivers
// (Thanos Receive, Mimir, VictoriaMetrics, Prometheus), at least once and in
// order per series (docs/design/forwarding.md). The queue is the storage
// engine's write log: each target is a log consumer (storage::Options::
// log_consumers) whose position moves only after its data was delivered
// (or dropped, counted), so restarts, `kill -9` and outages lose nothing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "remote_write/forward/config.h"
#include "storage/db.h"

namespace prometheus {
class Registry;
}

namespace tsvault::forward {

struct ForwarderOptions {
  // How often an idle target looks for new records.
  int64_t poll_interval_ms = 50;
};

// One target's figures (GET /api/v1/status/forward, /metrics).
struct TargetStatus {
  std::string name;
  std::string url;
  uint64_t position = 0;          // first write log record not yet delivered
  uint64_t pending_records = 0;   // records after it, up to the log's end when asked
  uint64_t samples_sent = 0;
  uint64_t histograms_sent = 0;
  uint64_t exemplars_sent = 0;
  uint64_t metadata_sent = 0;     // metadata entries
  uint64_t requests_retried = 0;  // failed attempts that were retried
  std::map<std::string, uint64_t> dropped;  // samples and histograms by reason
  uint64_t relabel_dropped = 0;   // removed by write_relabel_configs (not a loss)
  int64_t highest_sent_timestamp_ms = 0;
  int shards = 0;                 // shards of the last send
  std::string last_error;         // empty when the last request succeeded
};

class Forwarder {
 public:
  // The write log consumer names for `targets` (their names).
  static std::vector<std::string> ConsumerNames(const std::vector<TargetConfig>& targets);

  // Prepares a sender per target; `db` must have been opened with
  // ConsumerNames(targets) as its log consumers and outlive the forwarder.
  // InvalidArgument for a bad URL or unreadable TLS files, IOError for
  // unreadable credential files. `registry` (may be null) gets the
  // tsvault_forward_* metrics.
  static Status Create(storage::DB* db, std::vector<TargetConfig> targets, ForwarderOptions options,
                       prometheus::Registry* registry, std::unique_ptr<Forwarder>* out);
  ~Forwarder();  // Stop()

  // Starts one reader thread per target.
  void Start();
  // Stops sending; data not yet delivered is sent after the next start.
  void Stop();

  std::vector<TargetStatus> Targets() const;

 private:
  class Target;
  Forwarder();
  std::vector<std::unique_ptr<Target>> targets_;
};

}  // namespace tsvault::forward
