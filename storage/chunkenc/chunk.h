// Chunk encodings of the storage engine: compressed runs of up to 65535
// samples of one series. A chunk is a self-describing byte string:
//
//   byte 0      ChunkEncoding
//   bytes 1..2  number of samples, uint16 big-endian
//   bytes 3..   the encoded stream (see docs/chunk-format.md)
//
// Appenders build a chunk incrementally and expose the complete, decodable
// bytes after every append; ChunkIterator decodes any chunk without copying
// and treats its input as untrusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/chunkenc/bit_stream.h"
#include "model/value.h"

namespace tsvault::storage {

// The encoding of a chunk, stored in its first byte. Values are persisted:
// a new encoding gets a new value and existing encodings never change.
enum class ChunkEncoding : uint8_t { kXor = 1, kHistogram = 2, kFloatRollup = 3, kHistogramRollup = 4 };

// Chunk layout: byte 0 = ChunkEncoding, bytes 1..2 = number of samples
// (uint16 big-endian), then the encoded stream.
inline constexpr size_t kChunkHeaderBytes = 3;
inline constexpr uint16_t kMaxSamplesPerChunk = 65535;

// Gorilla-style float chunk: delta-of-delta timestamps, XOR'd values, plus a
// lossless decimal fast path for values like 12345.67 (docs/chunk-format.md).
// Every value round-trips bit for bit (NaN payloads, -0.0, denormals).
// Not thread-safe; bytes() may be copied between appends to snapshot it.
class XorChunkAppender {
 public:
  XorChunkAppender();

  // Appends a sample. Timestamps must be strictly increasing (the caller
  // guarantees it; checked by a debug assertion only). Any int64 timestamps
  // and gaps are representable. Must not be called when full(); such a call
  // is ignored (and asserts in debug builds).
  void Append(int64_t timestamp_ms, double value);

  // Number of samples appended so far.
  uint16_t num_samples() const { return num_samples_; }
  // True when no further sample fits (kMaxSamplesPerChunk reached).
  bool full() const { return num_samples_ == kMaxSamplesPerChunk; }
  // First timestamp; undefined when empty.
  int64_t min_time() const { return min_time_; }
  // Last timestamp; undefined when empty.
  int64_t max_time() const { return previous_timestamp_; }
  // The complete chunk: header with the current count followed by the
  // stream. Decodable at any moment.
  const std::string& bytes() const { return writer_.bytes(); }

 private:
  // The value's code: head (prefix and small fields) and body (payload).
  void EncodeValue(double value, chunk_coding::Bits* head, chunk_coding::Bits* body);

  chunk_coding::BitWriter writer_;
  uint16_t num_samples_ = 0;
  int64_t min_time_ = 0;
  int64_t previous_timestamp_ = 0;
  uint64_t previous_delta_ = 0;        // modulo 2^64
  uint64_t previous_value_bits_ = 0;
  int leading_zeros_ = -1;             // current XOR window; -1 = none yet
  int trailing_zeros_ = 0;
  bool decimal_run_ = false;           // value == mantissa / 10^exponent, in a run
  int decimal_exponent_ = 0;
  int64_t decimal_mantissa_ = 0;
  uint8_t decimal_retry_wait_ = 0;     // XOR values to wait before trying decimals
};

// Lossless native-histogram chunk (integer and float histograms, every field
// of model::Histogram bit for bit). Not thread-safe; bytes() may be copied
// between appends to snapshot it.
class HistogramChunkAppender {
 public:
  HistogramChunkAppender();

  // Appends `histogram` at histogram.timestamp_ms. Timestamps must be
  // strictly increasing (debug-asserted only). reset_hint must be one of the
  // four ResetHint enumerators. Must not be called when full(); such a call
  // is ignored (and asserts in debug builds).
  void Append(const model::Histogram& histogram);

  // Number of histograms appended so far.
  uint16_t num_samples() const { return num_samples_; }
  // True when no further sample fits (kMaxSamplesPerChunk reached).
  bool full() const { return num_samples_ == kMaxSamplesPerChunk; }
  // First timestamp; undefined when empty.
  int64_t min_time() const { return min_time_; }
  // Last timestamp; undefined when empty.
  int64_t max_time() const { return previous_.timestamp_ms; }
  // The complete chunk, decodable at any moment.
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  uint16_t num_samples_ = 0;
  int64_t min_time_ = 0;
  uint64_t previous_delta_ = 0;  // modulo 2^64
  model::Histogram previous_;           // the last appended sample (default: empty)
  std::vector<uint64_t> scratch_;  // bucket values being packed
};

// Iterates the samples of any chunk, dispatching on byte 0. Does not copy:
// `chunk` must outlive the iterator. On malformed input (truncated, unknown
// encoding, garbage) Next() returns false and status() is Corruption; it
// never reads out of bounds, loops forever or allocates more than the input
// size justifies.
class ChunkIterator {
 public:
  explicit ChunkIterator(std::string_view chunk);

  // Advances to the next sample. False at the end or on error; then check
  // status().
  bool Next() {
    if (done_) return false;
    return encoding_ == ChunkEncoding::kXor ? NextXor() : NextHistogram();
  }

  // Timestamp of the current sample (valid after Next() returned true).
  int64_t timestamp() const { return timestamp_; }
  // True for histogram chunks (and for an unknown encoding: false).
  bool is_histogram() const { return encoding_ == ChunkEncoding::kHistogram; }
  // Value of the current sample of a float chunk.
  double value() const { return chunk_coding::BitsToDouble(value_bits_); }
  // The current sample of a histogram chunk, timestamp_ms included. Stays
  // valid until the next call to Next().
  const model::Histogram& histogram() const { return current_; }
  // OK unless the chunk was found malformed.
  Status status() const { return status_; }
  // Number of samples the header announces (0 if the header is malformed).
  uint16_t num_samples() const { return total_; }

 private:
  bool NextXor();
  bool ReadFirstXorTimestamp();
  bool DecodeXorValue(uint64_t window, int valid, uint64_t* position);
  bool NextHistogram();
  bool DecodeHistogramBody(uint8_t flags, uint8_t extended_flags);
  // Records Corruption(`message`) and ends the iteration; returns false.
  bool Fail(std::string_view message);

  ChunkEncoding encoding_ = ChunkEncoding::kXor;
  bool done_ = false;
  uint16_t total_ = 0;
  uint16_t decoded_ = 0;
  Status status_;
  int64_t timestamp_ = 0;
  uint64_t previous_delta_ = 0;  // modulo 2^64
  // Float chunks.
  chunk_coding::BitReader bits_;
  uint64_t value_bits_ = 0;
  int leading_zeros_ = -1;  // -1 = no XOR window yet
  int trailing_zeros_ = 0;
  bool decimal_run_ = false;
  int decimal_exponent_ = 0;
  int64_t decimal_mantissa_ = 0;
  // Histogram chunks.
  chunk_coding::ByteReader bytes_;
  model::Histogram current_;
  model::Histogram previous_;
};

// Decodes a whole chunk, appending its samples to `floats` (float chunks) or
// `histograms` (histogram chunks). Either pointer may be null when the chunk
// cannot be of that kind; InvalidArgument if the one needed is null. On
// Corruption the vectors hold the samples decoded before the damage.
Status DecodeChunk(std::string_view chunk, std::vector<model::Sample>* floats,
                   std::vector<model::Histogram>* histograms);

}  // namespace tsvault::storage
