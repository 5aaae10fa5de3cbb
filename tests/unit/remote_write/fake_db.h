// Test doubles and helpers for the remote-write protocol tests: a storage::DB
// that records what it was asked to append, and request builders.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http.h"
#include "remote_write/encoder.h"
#include "storage/db.h"
#include "tests/support/write_only_db.h"

namespace tsvault::remote_write::testing {

// A storage::DB whose Append records its input and reports every sample,
// histogram and exemplar as written, unless told to fail or to report
// conflicts. Like the real engine it hands out series references
// (WriteResult::series_refs, one per distinct label set) and refuses an
// unknown reference with InvalidArgument before recording anything.
// All other methods return nothing (see tsvault::testing::WriteOnlyDB).
class FakeDB : public ::tsvault::testing::WriteOnlyDB {
 public:
  Status Append(const storage::WriteInput& input, storage::WriteResult* result) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++append_calls_;
    *result = storage::WriteResult();
    if (!fail_with_.ok()) return fail_with_;
    for (const storage::SeriesWrite& series : input.series) {
      if (series.series_ref != 0 && labels_by_ref_.count(series.series_ref) == 0) {
        ++unknown_ref_errors_;
        return Status::InvalidArgument("unknown series reference " + std::to_string(series.series_ref));
      }
    }
    storage::WriteInput resolved = input;
    for (storage::SeriesWrite& series : resolved.series) {
      if (series.series_ref != 0) {
        ++appended_by_ref_;
        series.labels = labels_by_ref_[series.series_ref];
      } else {
        auto [it, inserted] = ref_by_labels_.try_emplace(series.labels, next_ref_);
        if (inserted) labels_by_ref_[next_ref_++] = series.labels;
        series.series_ref = it->second;
      }
      if (issue_refs_) result->series_refs.push_back(series.series_ref);
    }
    if (record_) {
      raw_appended_.push_back(input);
      appended_.push_back(std::move(resolved));
    }
    for (const storage::SeriesWrite& series : input.series) {
      result->samples_written += series.samples.size();
      result->histograms_written += series.histograms.size();
      result->exemplars_written += series.exemplars.size();
    }
    if (conflicts_ > 0) {
      const uint64_t conflicts = std::min<uint64_t>(conflicts_, result->samples_written);
      result->samples_written -= conflicts;
      result->samples_rejected = conflicts;
      for (uint64_t i = 0; i < conflicts; ++i) {
        result->errors.push_back("duplicate_timestamp: duplicate sample for timestamp (conflict #" + std::to_string(i) + ")");
      }
    }
    return Status::OK();
  }

  // Makes every following Append return `status` without storing anything.
  void FailWith(Status status) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_with_ = std::move(status);
  }
  // Stops keeping appended inputs (for long randomized loops).
  void StopRecording() {
    std::lock_guard<std::mutex> lock(mutex_);
    record_ = false;
  }
  // Drops the inputs recorded so far (references stay valid).
  void ClearRecorded() {
    std::lock_guard<std::mutex> lock(mutex_);
    appended_.clear();
    raw_appended_.clear();
  }
  // Makes every following Append reject `count` samples as conflicts.
  void ReportConflicts(uint64_t count) {
    std::lock_guard<std::mutex> lock(mutex_);
    conflicts_ = count;
  }
  // Stops returning WriteResult::series_refs (as a storage without
  // references would), which leaves the receiver's cache empty.
  void StopIssuingRefs() {
    std::lock_guard<std::mutex> lock(mutex_);
    issue_refs_ = false;
  }
  // Invalidates every reference handed out so far (new ones differ).
  void ForgetRefs() {
    std::lock_guard<std::mutex> lock(mutex_);
    labels_by_ref_.clear();
    ref_by_labels_.clear();
  }
  // Appended inputs, each series with its labels (resolved from its
  // reference when it came by reference) and its reference.
  std::vector<storage::WriteInput> appended() {
    std::lock_guard<std::mutex> lock(mutex_);
    return appended_;
  }
  // Appended inputs exactly as received.
  std::vector<storage::WriteInput> raw_appended() {
    std::lock_guard<std::mutex> lock(mutex_);
    return raw_appended_;
  }
  // Series that came by reference, and Appends refused for an unknown one.
  uint64_t appended_by_ref() {
    std::lock_guard<std::mutex> lock(mutex_);
    return appended_by_ref_;
  }
  uint64_t unknown_ref_errors() {
    std::lock_guard<std::mutex> lock(mutex_);
    return unknown_ref_errors_;
  }
  int append_calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return append_calls_;
  }
  // All series appended so far, flattened.
  std::vector<storage::SeriesWrite> series() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<storage::SeriesWrite> all;
    for (const auto& input : appended_) all.insert(all.end(), input.series.begin(), input.series.end());
    return all;
  }

 private:
  std::mutex mutex_;
  Status fail_with_;
  uint64_t conflicts_ = 0;
  bool record_ = true;
  bool issue_refs_ = true;
  int append_calls_ = 0;
  uint64_t next_ref_ = 1;
  uint64_t appended_by_ref_ = 0;
  uint64_t unknown_ref_errors_ = 0;
  std::map<Labels, uint64_t> ref_by_labels_;
  std::map<uint64_t, Labels> labels_by_ref_;
  std::vector<storage::WriteInput> appended_;
  std::vector<storage::WriteInput> raw_appended_;
};

// A POST /api/v1/write request with the given headers and body.
inline http::Request MakeRequest(std::string body, std::string_view content_type,
                                 std::string_view content_encoding = "snappy") {
  http::Request request;
  request.method = "POST";
  request.target = "/api/v1/write";
  request.path = "/api/v1/write";
  if (!content_type.empty()) request.headers.emplace_back("content-type", std::string(content_type));
  if (!content_encoding.empty()) {
    request.headers.emplace_back("content-encoding", std::string(content_encoding));
  }
  request.headers.emplace_back("x-prometheus-remote-write-version",
                               content_type.find("v2") != std::string_view::npos ? "2.0.0" : "0.1.0");
  request.body = std::move(body);
  return request;
}

// A response header value (case-insensitive name), or nullptr when absent.
inline const std::string* FindResponseHeader(const http::Response& response, std::string_view name) {
  for (const auto& [header, value] : response.headers) {
    if (header.size() != name.size()) continue;
    bool equal = true;
    for (size_t i = 0; i < name.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(name[i]))) {
        equal = false;
        break;
      }
    }
    if (equal) return &value;
  }
  return nullptr;
}

// A series with the given labels (in the given order) and samples.
inline storage::SeriesWrite MakeSeries(Labels labels, std::vector<storage::Sample> samples) {
  storage::SeriesWrite series;
  series.labels = std::move(labels);
  series.samples = std::move(samples);
  return series;
}

}  // namespace tsvault::remote_write::testing
