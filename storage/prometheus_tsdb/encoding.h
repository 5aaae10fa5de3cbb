// Integer encodings of Prometheus' on-disk formats (Go's encoding/binary):
// big-endian fixed-width integers and LEB128 varints, zig-zag for signed
// ones (the varints are our chunk coding's, which are the same bytes). Internal to storage/prometheus_tsdb.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/chunkenc/bit_stream.h"

namespace tsvault::prometheus_tsdb {

// Appends `value` as 4 big-endian bytes.
inline void PutBigEndian32(std::string* out, uint32_t value) {
  const char bytes[4] = {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                         static_cast<char>(value >> 8), static_cast<char>(value)};
  out->append(bytes, 4);
}

// Appends `value` as 8 big-endian bytes.
inline void PutBigEndian64(std::string* out, uint64_t value) {
  PutBigEndian32(out, static_cast<uint32_t>(value >> 32));
  PutBigEndian32(out, static_cast<uint32_t>(value));
}

// Go's binary.PutUvarint and PutVarint (zig-zag) are the LEB128 varints
// of our chunk coding.
using storage::chunk_coding::PutUvarint;

inline void PutVarint(std::string* out, int64_t value) {
  PutUvarint(out, storage::chunk_coding::ZigZagEncode(value));
}

// Appends a string as its uvarint length and its bytes.
inline void PutLengthPrefixed(std::string* out, std::string_view text) {
  PutUvarint(out, text.size());
  out->append(text);
}

}  // namespace tsvault::prometheus_tsdb
