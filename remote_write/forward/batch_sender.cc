#include "remote_write/forward/batch_sender.h"

#include <algorithm>

namespace tsvault::forward {

namespace {

// Retry-After in seconds ("120"); HTTP dates fall back to the backoff.
std::chrono::milliseconds RetryAfter(const http::Response& response, std::chrono::milliseconds fallback) {
  for (const auto& [name, value] : response.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower != "retry-after") continue;
    char* end = nullptr;
    const long seconds = std::strtol(value.c_str(), &end, 10);
    if (end != value.c_str() && *end == '\0' && seconds >= 0) return std::chrono::seconds(std::min(seconds, 3600L));
  }
  return fallback;
}

}  // namespace

Status SplitTargetUrl(const std::string& url, TargetUrl* out) {
  const bool secure = url.rfind("https://", 0) == 0;
  if (!secure && url.rfind("http://", 0) != 0) return Status::InvalidArgument("target " + url + ": not an http(s) URL");
  const size_t path = url.find_first_of("/?", secure ? 8 : 7);
  out->base = url.substr(0, path);
  out->target = path == std::string::npos ? "/" : url.substr(path);
  if (out->target[0] == '?') out->target = "/" + out->target;
  return Status::OK();
}

void StopSignal::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
}

bool StopSignal::SleepFor(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !wake_.wait_for(lock, duration, [this] { return stopped(); });
}

Status TargetHeaders(const TargetConfig& config, std::vector<std::pair<std::string, std::string>>* headers) {
  *headers = remote_write::WriteRequestHeaders(config.protocol);
  for (const auto& [name, value] : config.headers) headers->emplace_back(name, value);
  std::string authorization;
  Status s = AuthorizationHeader(config.client, &authorization);
  if (!s.ok()) return Status::IOError("target " + config.name + ": " + s.message());
  if (!authorization.empty()) headers->emplace_back("Authorization", authorization);
  headers->emplace_back("User-Agent", "tsvault-forwarder");
  return Status::OK();
}

BatchSender::BatchSender(const TargetConfig& config, TargetUrl url,
                         std::vector<std::pair<std::string, std::string>> headers, StopSignal* stop,
                         std::function<void(const std::string&)> on_retry)
    : config_(config), url_(std::move(url)), headers_(std::move(headers)), stop_(stop), on_retry_(std::move(on_retry)) {}

SendOutcome BatchSender::Send(const std::string& body) {
  SendOutcome outcome;
  std::chrono::milliseconds backoff(std::max<int64_t>(1, config_.queue.min_backoff_ms));
  const std::chrono::milliseconds max_backoff(std::max<int64_t>(1, config_.queue.max_backoff_ms));
  while (true) {
    if (stop_->stopped()) {
      outcome.kind = SendOutcome::kStopped;
      return outcome;
    }
    ++outcome.attempts;
    Status s;
    if (!client_) s = http::Client::Create(url_.base, ClientTlsOptions(config_.client.tls), &client_);
    http::Response response;
    if (s.ok()) {
      s = client_->Do("POST", url_.target, headers_, body, &response,
                      std::chrono::milliseconds(std::max<int64_t>(1, config_.remote_timeout_ms)));
    }
    std::chrono::milliseconds wait = backoff;
    if (!s.ok()) {
      client_.reset();  // a fresh connection next time
      outcome.status = 0;
      outcome.message = s.message();
    } else if (response.status >= 200 && response.status < 300) {
      outcome.kind = SendOutcome::kDelivered;
      outcome.status = response.status;
      return outcome;
    } else if (response.status == 429 && config_.queue.retry_on_http_429) {
      outcome.status = 429;
      outcome.message = "429 Too Many Requests";
      wait = RetryAfter(response, backoff);
    } else if (response.status >= 500 || response.status == 429) {
      outcome.status = response.status;
      outcome.message = "HTTP " + std::to_string(response.status) + ": " + response.body.substr(0, 200);
      if (response.status == 429) {  // without retry_on_http_429, as Prometheus: dropped
        outcome.kind = SendOutcome::kDropped;
        return outcome;
      }
    } else {
      outcome.kind = SendOutcome::kDropped;
      outcome.status = response.status;
      outcome.message = "HTTP " + std::to_string(response.status) + ": " + response.body.substr(0, 200);
      return outcome;
    }
    if (on_retry_) on_retry_(outcome.message);
    if (!stop_->SleepFor(wait)) {
      outcome.kind = SendOutcome::kStopped;
      return outcome;
    }
    backoff = std::min(backoff * 2, max_backoff);
  }
}

}  // namespace tsvault::forward
