#include <charconv>
#include <chrono>
#include <thread>

#include "http/client.h"
#include "import/sinks.h"
#include "remote_write/encoder.h"
#include "remote_write/protocol.h"

namespace tsvault::import {

namespace {

constexpr auto kRetryFor = std::chrono::minutes(1);

uint64_t HeaderNumber(const http::Response& response, std::string_view name, uint64_t fallback) {
  const std::string_view value = response.Header(name);
  uint64_t number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  return value.empty() || error != std::errc() || end != value.data() + value.size() ? fallback : number;
}

class RemoteWriteSink : public ImportSink {
 public:
  RemoteWriteSink(http::Client* client, std::string path, std::vector<std::pair<std::string, std::string>> headers)
      : client_(client), path_(std::move(path)), extra_headers_(std::move(headers)) {}

  Status Write(storage::WriteInput* input, ImportReport* report) override {
    uint64_t samples = 0;
    for (const storage::SeriesWrite& series : input->series) samples += series.samples.size();
    std::string body;
    Status s = remote_write::EncodeWriteRequest(*input, remote_write::Protocol::kV2, &body);
    if (!s.ok()) return s;
    auto headers = remote_write::WriteRequestHeaders(remote_write::Protocol::kV2);
    headers.insert(headers.end(), extra_headers_.begin(), extra_headers_.end());
    const auto give_up = std::chrono::steady_clock::now() + kRetryFor;
    auto pause = std::chrono::milliseconds(100);
    while (true) {
      http::Response response;
      s = client_->Do("POST", path_, headers, body, &response, std::chrono::seconds(60));
      const bool retry = !s.ok() || response.status == 429 || response.status >= 500;
      if (!retry) {
        if (response.status / 100 != 2 && response.status != 400) {
          return Status::IOError("the server answered " + std::to_string(response.status) + ": " + response.body);
        }
        const uint64_t accepted = HeaderNumber(response, remote_write::kSamplesWrittenHeader,
                                               response.status / 100 == 2 ? samples : 0);
        report->samples_accepted += accepted;
        report->samples_refused += samples - std::min(samples, accepted);
        if (response.status == 400) report->AddProblem(response.body);
        return Status::OK();
      }
      if (std::chrono::steady_clock::now() > give_up) {
        return Status::IOError("the server did not take a batch for a minute: " +
                               (s.ok() ? std::to_string(response.status) + " " + response.body : s.ToString()));
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(5000));
    }
  }

 private:
  http::Client* client_;
  std::string path_;
  std::vector<std::pair<std::string, std::string>> extra_headers_;  // e.g. Authorization
};

}  // namespace

std::unique_ptr<ImportSink> NewRemoteWriteSink(http::Client* client, std::string path,
                                               std::vector<std::pair<std::string, std::string>> headers) {
  return std::make_unique<RemoteWriteSink>(client, std::move(path), std::move(headers));
}

}  // namespace tsvault::import
