// The records of the `wal` column family: the accepted samples of one
// append, replayed into the head at start-up (internal; format in
// docs/storage-format.md).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/types.h"

namespace tsvault::storage {

// Record entry kinds (first byte of each entry).
// Exemplars and metadata are logged only for write log consumers
// (forwarding); recovery skips them (they are stored directly).
enum class WalEntryKind : uint8_t { kFloatSamples = 1, kHistogramSamples = 2, kExemplars = 3, kMetadata = 4 };

// Accumulates one record. Entries for one series must be added together.
class WalRecordBuilder {
 public:
  void AddFloats(uint64_t series_id, const Sample* samples, size_t count);
  void AddHistograms(uint64_t series_id, const Histogram* histograms, size_t count);
  void AddExemplars(uint64_t series_id, const Exemplar* exemplars, size_t count);
  void AddMetadata(const MetricMetadata* metadata, size_t count);
  bool empty() const { return data_.empty(); }
  const std::string& data() const { return data_; }
  void Clear() { data_.clear(); }

 private:
  std::string data_;
};

// Calls back for every entry of a record, in order: a series' float
// samples as one run (the span is valid during the call only), each
// histogram; exemplars and metadata go to their callbacks when given, else
// are skipped. Returns Corruption if the record is malformed (callbacks may
// have run for a prefix of it).
Status DecodeWalRecord(std::string_view record,
                       const std::function<void(uint64_t series_id, std::span<const Sample> samples)>& on_floats,
                       const std::function<void(uint64_t series_id, const Histogram&)>& on_histogram,
                       const std::function<void(uint64_t series_id, const Exemplar&)>& on_exemplar = nullptr,
                       const std::function<void(const MetricMetadata&)>& on_metadata = nullptr);

}  // namespace tsvault::storage
