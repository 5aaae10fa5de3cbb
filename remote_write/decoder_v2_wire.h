// Remote Write 2.0 wire-level reading for decoder_v2.cc: the request's
// symbols table and one TimeSeries as found on the wire (label references,
// samples, serialized histograms, exemplars, metadata references), before any
// validation. Internal to the decoder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/utf8.h"
#include "storage/types.h"

namespace tsvault::remote_write::internal::v2 {

// The request's symbols table with a per-symbol UTF-8 verdict computed at most
// once (symbols are shared by many series).
class SymbolTable {
 public:
  // `symbols` (views into the request) must outlive the table.
  explicit SymbolTable(const std::vector<std::string_view>& symbols)
      : symbols_(symbols), utf8_state_(symbols.size(), kUnknown) {}

  // Number of symbols.
  size_t size() const { return symbols_.size(); }
  // The symbol `ref`; requires Contains(ref).
  std::string_view operator[](uint32_t ref) const { return symbols_[ref]; }
  // True when `ref` is inside the table; callers check before indexing.
  bool Contains(uint32_t ref) const { return ref < symbols_.size(); }

  // Whether symbol `ref` is valid UTF-8 (checked once); requires Contains(ref).
  bool IsValidUtf8At(uint32_t ref) {
    uint8_t& state = utf8_state_[ref];
    if (state == kUnknown) state = model::IsValidUtf8(symbols_[ref]) ? kValid : kInvalid;
    return state == kValid;
  }

 private:
  static constexpr uint8_t kUnknown = 0, kValid = 1, kInvalid = 2;
  const std::vector<std::string_view>& symbols_;
  std::vector<uint8_t> utf8_state_;
};

// An exemplar as read from the wire.
struct WireExemplar {
  std::vector<uint32_t> labels_refs;
  double value = 0;
  int64_t timestamp = 0;
};

// Per-series metadata as symbol references. Several occurrences of the
// field merge, later scalars winning, as protobuf does.
struct WireMetadata {
  bool present = false;
  int32_t type = 0;
  uint32_t help_ref = 0;
  uint32_t unit_ref = 0;
};

// One TimeSeries as read from the wire, before validation. Reused across
// series to keep its buffers.
struct WireSeries {
  std::vector<uint32_t> labels_refs;
  std::vector<storage::Sample> samples;
  std::vector<std::string_view> histograms;  // serialized v2 Histogram
  std::vector<WireExemplar> exemplars;
  WireMetadata metadata;

  void Clear() {
    labels_refs.clear();
    samples.clear();
    histograms.clear();
    exemplars.clear();
    metadata = WireMetadata{};
  }
};

// Reads a TimeSeries message into *series (cleared first). False when
// malformed.
bool ParseTimeSeries(std::string_view bytes, WireSeries* series);

// Appends the series key (series_ref_cache.h) of `refs` resolved through
// `symbols` to *key. False (with *key unchanged) when the references cannot
// be resolved: such a series is rejected by validation and never cached.
bool AppendKeyFromRefs(const std::vector<uint32_t>& refs, const SymbolTable& symbols, std::string* key);

// The symbol reference of a valid series' metric name: the value of its
// __name__ pair with a non-empty value (valid series have exactly one; pairs
// with an empty value are dropped by canonicalization). Requires references
// inside the table. False when there is none.
bool FindMetricNameRef(const std::vector<uint32_t>& refs, const SymbolTable& symbols, uint32_t* value_ref);

}  // namespace tsvault::remote_write::internal::v2
