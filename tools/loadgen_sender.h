// Sends Remote Write requests for the load generator: retries as the spec
// says (5xx and 429 with backoff, honouring Retry-After; 4xx is final),
// counts what was acknowledged and records request latencies.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remote_write/encoder.h"
#include "storage/types.h"

namespace tsvault::tools {

// Totals shared by every sender thread.
struct LoadgenCounters {
  // Atomic; no lock (some are bumped while latency_mutex happens to be held).
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> samples_sent{0};
  std::atomic<uint64_t> samples_acknowledged{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> failed_requests{0};  // gave up (4xx or retries exhausted)
  std::atomic<uint64_t> transport_errors{0};
  // Guards latencies_seconds and last_error.
  std::mutex latency_mutex;
  std::vector<double> latencies_seconds;  // one per successful request; guarded by latency_mutex
  std::string last_error;  // Guarded by latency_mutex.

  // The q-quantile (0..1) of the recorded latencies, in seconds. Takes
  // latency_mutex. REQUIRES: latency_mutex not held.
  double LatencyQuantile(double q);
};

class LoadgenSender {
 public:
  // `url` like http://127.0.0.1:9201/api/v1/write.
  LoadgenSender(std::string url, remote_write::Protocol protocol, int max_retries,
                LoadgenCounters* counters);
  ~LoadgenSender();

  // Encodes and sends one request, retrying as needed. Returns true when it
  // was acknowledged with a 2xx.
  bool Send(const storage::WriteInput& input);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsvault::tools
