// Sends one remote-write request body to a target until it is delivered or
// must be dropped: 5xx, connection errors and timeouts retry with capped
// exponential backoff, 429 retries after Retry-After when the target's
// retry_on_http_429 says so, any other status drops the batch (a 400 or a
// Thanos 409 would fail the same way again). Internal to the forwarder.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/client.h"
#include "remote_write/forward/config.h"

namespace tsvault::forward {

// A target's URL split for http::Client.
struct TargetUrl {
  std::string base;    // "http://host:port"
  std::string target;  // path and query, "/" at least
};
// InvalidArgument for anything but http:// and https:// URLs.
Status SplitTargetUrl(const std::string& url, TargetUrl* out);

// Lets a waiting sender wake up at once when the forwarder stops.
class StopSignal {
 public:
  void Stop();
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  // Waits up to `duration`; false when stopped meanwhile.
  bool SleepFor(std::chrono::milliseconds duration);

 private:
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// How a send ended.
struct SendOutcome {
  enum Kind { kDelivered, kDropped, kStopped } kind = kDelivered;
  int status = 0;        // the last HTTP status (0: none)
  int attempts = 0;      // requests made
  std::string message;   // why it was dropped, or the last error
};

class BatchSender {
 public:
  // `headers`: the target's own headers plus authorization, resolved.
  // `on_retry` (may be empty) hears of every failed attempt that will be
  // retried, with the reason, as it happens.
  BatchSender(const TargetConfig& config, TargetUrl url, std::vector<std::pair<std::string, std::string>> headers,
              StopSignal* stop, std::function<void(const std::string&)> on_retry);

  // Sends `body` (an encoded write request), retrying as the class comment
  // says, until delivered, dropped or stopped.
  SendOutcome Send(const std::string& body);

 private:
  const TargetConfig& config_;
  TargetUrl url_;
  std::vector<std::pair<std::string, std::string>> headers_;
  StopSignal* stop_;
  std::function<void(const std::string&)> on_retry_;
  std::unique_ptr<http::Client> client_;
};

// The request headers for a target: the protocol's, the configured ones,
// and Authorization from basic_auth or authorization (reading their
// password or credentials files). IOError when a file cannot be read.
Status TargetHeaders(const TargetConfig& config, std::vector<std::pair<std::string, std::string>>* headers);

}  // namespace tsvault::forward
