// The unit of ingestion: decoded series on their way into storage.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/labels.h"
#include "model/label_validation.h"
#include "remote_write/reject_reason.h"
#include "storage/types.h"

namespace tsvault::remote_write {

// How many per-series problems are described in full; the rest are counted.
inline constexpr size_t kMaxReportedProblems = 10;

// What a source (a Remote Write request, an import file) hands to the
// Ingester: the valid series in storage form and an account of what was
// left out. Sources other than the Remote Write decoders fill it with
// AddValidatedSeries, so every label set passes the same rules.
struct IngestBatch {
  storage::WriteInput input;  // valid series and metadata, canonical labels

  // Totals in the request as received (valid and invalid).
  uint64_t series_received = 0;
  uint64_t samples_received = 0;
  uint64_t histograms_received = 0;
  uint64_t exemplars_received = 0;

  // What was left out because of validation.
  uint64_t series_rejected = 0;
  uint64_t metadata_rejected = 0;
  uint64_t samples_rejected = 0;
  uint64_t histograms_rejected = 0;
  uint64_t exemplars_rejected = 0;
  std::array<uint64_t, kRejectReasonCount> rejected_by_reason{};
  // The first kMaxReportedProblems problems, e.g.
  // "duplicate_label: label name \"job\" appears more than once in series {...}".
  std::vector<std::string> problems;

  // True when something in the request was rejected by validation.
  bool has_rejections() const { return series_rejected + metadata_rejected > 0; }

  // Series-reference cache bookkeeping, filled only when decoding with a
  // cache. Series of `input` found in the cache carry a series_ref and no
  // labels; they are counted here.
  uint64_t series_cache_hits = 0;
  // A series of `input` decoded in full (a cache miss) whose key is to be
  // inserted once DB::Append has returned its reference.
  struct PendingKey {
    size_t series_index = 0;  // into input.series
    size_t offset = 0;        // of the key in pending_key_bytes
    size_t size = 0;
    uint64_t hash = 0;        // SeriesRefCache::Hash of the key
  };
  std::vector<PendingKey> pending_keys;
  std::string pending_key_bytes;  // the keys of pending_keys, back to back

  // Cleared series objects (buffers kept) that the decoder moves into
  // input.series before constructing new ones; see SeriesRecycler.
  std::vector<storage::SeriesWrite> spare_series;

  // Records one rejected series (or metadata entry): counted by reason, and
  // described ("reason: detail in {labels}") while fewer than
  // kMaxReportedProblems are.
  void RecordProblem(RejectReason reason, const std::string& detail, const std::string& labels_description);

  // Brings `labels` into canonical form and validates them against `limits`
  // (model::CanonicalizeLabels). Valid: returns a new series holding them, to
  // which the caller adds samples. Invalid: records the problem, counts the
  // series as rejected and returns null.
  storage::SeriesWrite* AddValidatedSeries(Labels labels, const model::LabelLimits& limits);

  // A new, empty entry at the end of input.series, recycled when possible.
  storage::SeriesWrite& AddSeries() {
    if (spare_series.empty()) return input.series.emplace_back();
    storage::SeriesWrite& series = input.series.emplace_back(std::move(spare_series.back()));
    spare_series.pop_back();
    return series;
  }

  // The key of a pending series.
  std::string_view PendingKeyBytes(const PendingKey& key) const {
    return std::string_view(pending_key_bytes).substr(key.offset, key.size);
  }
};

}  // namespace tsvault::remote_write
