#include "tools/loadgen_sender.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "http/client.h"

namespace tsvault::tools {

double LoadgenCounters::LatencyQuantile(double q) {
  std::lock_guard<std::mutex> lock(latency_mutex);
  if (latencies_seconds.empty()) return 0;
  std::vector<double> sorted = latencies_seconds;
  size_t index = static_cast<size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1));
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(index), sorted.end());
  return sorted[index];
}

struct LoadgenSender::Impl {
  std::string base_url;
  std::string path;
  remote_write::Protocol protocol;
  int max_retries;
  LoadgenCounters* counters;
  std::unique_ptr<http::Client> client;
  std::string body;
};

LoadgenSender::LoadgenSender(std::string url, remote_write::Protocol protocol, int max_retries,
                             LoadgenCounters* counters)
    : impl_(std::make_unique<Impl>()) {
  // Split "http://host:port/path" into the client's base and the path.
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  impl_->base_url = slash == std::string::npos ? url : url.substr(0, slash);
  impl_->path = slash == std::string::npos ? "/api/v1/write" : url.substr(slash);
  impl_->protocol = protocol;
  impl_->max_retries = max_retries;
  impl_->counters = counters;
}

LoadgenSender::~LoadgenSender() = default;

bool LoadgenSender::Send(const storage::WriteInput& input) {
  Impl& s = *impl_;
  uint64_t samples = 0;
  for (const auto& series : input.series) samples += series.samples.size() + series.histograms.size();
  Status status = remote_write::EncodeWriteRequest(input, s.protocol, &s.body);
  if (!status.ok()) {
    std::lock_guard<std::mutex> lock(s.counters->latency_mutex);
    s.counters->last_error = status.ToString();
    s.counters->failed_requests++;
    return false;
  }
  std::vector<std::pair<std::string, std::string>> headers = remote_write::WriteRequestHeaders(s.protocol);
  headers.emplace_back("User-Agent", "tsvault-loadgen");
  auto backoff = std::chrono::milliseconds(30);
  for (int attempt = 0; attempt <= s.max_retries; ++attempt) {
    if (attempt > 0) {
      s.counters->retries++;
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
    if (!s.client) {
      status = http::Client::Create(s.base_url, &s.client);
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(s.counters->latency_mutex);
        s.counters->last_error = status.ToString();
        s.counters->failed_requests++;
        return false;
      }
    }
    s.counters->requests++;
    http::Response response;
    const auto begin = std::chrono::steady_clock::now();
    status = s.client->Do("POST", s.path, headers, s.body, &response);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    if (!status.ok()) {
      s.counters->transport_errors++;
      s.client.reset();  // reconnect next time
      std::lock_guard<std::mutex> lock(s.counters->latency_mutex);
      s.counters->last_error = status.ToString();
      continue;
    }
    if (response.status >= 200 && response.status < 300) {
      s.counters->samples_sent += samples;
      s.counters->samples_acknowledged += samples;
      std::lock_guard<std::mutex> lock(s.counters->latency_mutex);
      s.counters->latencies_seconds.push_back(seconds);
      return true;
    }
    {
      std::lock_guard<std::mutex> lock(s.counters->latency_mutex);
      s.counters->last_error = "HTTP " + std::to_string(response.status) + ": " + response.body.substr(0, 300);
    }
    if (response.status == 429 || response.status >= 500) {
      if (auto retry_after = response.Header("Retry-After"); !retry_after.empty()) {
        int secs = std::atoi(std::string(retry_after).c_str());
        if (secs > 0) backoff = std::chrono::seconds(std::min(secs, 30));
      }
      continue;  // retryable
    }
    break;  // 4xx: the data is bad, retrying cannot help
  }
  s.counters->samples_sent += samples;
  s.counters->failed_requests++;
  return false;
}

}  // namespace tsvault::tools
