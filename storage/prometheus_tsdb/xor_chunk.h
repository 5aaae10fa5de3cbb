// Prometheus' XOR float chunk (tsdb/chunkenc/xor.go, encoding 1): the chunk
// bytes of a block's chunk files and of remote read's streamed
// `Chunk.data`. Byte layout in docs/prometheus-formats.md. tsvault's own
// XOR chunk (storage/chunkenc) is a different format.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/value.h"

namespace tsvault::prometheus_tsdb {

// Samples per chunk as Prometheus cuts them (tsdb's samplesPerChunk).
inline constexpr int kSamplesPerChunk = 120;

// Builds one XOR chunk, sample by sample. Not thread-safe.
class XorChunkEncoder {
 public:
  XorChunkEncoder();
  ~XorChunkEncoder();
  XorChunkEncoder(const XorChunkEncoder&) = delete;
  XorChunkEncoder& operator=(const XorChunkEncoder&) = delete;

  // Adds a sample; values are kept bit for bit (NaN payloads, stale markers).
  // REQUIRES: timestamps strictly increase; num_samples() < 65535.
  void Append(int64_t timestamp_ms, double value);

  int num_samples() const { return num_samples_; }
  // First and last timestamp appended. REQUIRES: num_samples() > 0.
  int64_t min_time() const { return min_time_; }
  int64_t max_time() const { return last_time_; }
  // Bytes the chunk takes so far.
  size_t size() const;

  // The chunk's bytes (count, then the bit stream padded with zero bits);
  // the encoder starts a new, empty chunk.
  std::string Finish();

 private:
  class Writer;
  void Reset();

  std::unique_ptr<Writer> writer_;
  int num_samples_ = 0;
  int64_t min_time_ = 0;
  int64_t last_time_ = 0;
  uint64_t last_delta_ = 0;
  uint64_t last_value_bits_ = 0;
  uint8_t leading_ = 0xFF;  // 0xFF: no value window yet
  uint8_t trailing_ = 0;
  uint64_t bit_count_ = 0;
};

// Decodes a whole XOR chunk (from a block or a remote read response) into
// *out (replacing its contents). Corruption when the data is truncated, has
// bytes beyond its last sample's byte, or is otherwise malformed; never reads
// outside `data`.
Status DecodeXorChunk(std::string_view data, std::vector<model::Sample>* out);

}  // namespace tsvault::prometheus_tsdb
