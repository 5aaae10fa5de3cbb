// Integer encodings of Prometheus' on-disk formats (Go's encoding/binary):
// big-endian fixed-width integers and LEB128 varints, zig-zag for signed
// ones. Internal to storage/prometheus_tsdb.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

// Overwrites 4 bytes at `offset` of *out (which must hold them) with `value`, big-endian.
inline void StoreBigEndian32(std::string* out, size_t offset, uint32_t value) {
  std::string bytes;
  PutBigEndian32(&bytes, value);
  out->replace(offset, 4, bytes);
}

// Appends `value` as an unsigned varint (Go's binary.PutUvarint).
inline void PutUvarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Appends `value` as a zig-zag varint (Go's binary.PutVarint).
inline void PutVarint(std::string* out, int64_t value) {
  PutUvarint(out, (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
}

// Appends a string as its uvarint length and its bytes.
inline void PutLengthPrefixed(std::string* out, std::string_view text) {
  PutUvarint(out, text.size());
  out->append(text);
}

// Appends zero bytes until out->size() (plus `base`) is a multiple of `alignment`.
inline void PadTo(std::string* out, uint64_t base, uint64_t alignment) {
  const uint64_t position = base + out->size();
  if (position % alignment != 0) out->append(alignment - position % alignment, '\0');
}

}  // namespace tsvault::prometheus_tsdb
