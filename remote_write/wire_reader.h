// A minimal, bounds-checked reader of the protobuf wire format, used by the
// remote-write decoders on their hot path (labels, samples, symbols) where
// the generated parser's per-string allocations dominate. It reads views into
// the caller's buffer and never copies. Every method is safe on arbitrary
// bytes: malformed input makes it return false, nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tsvault::remote_write {

// Protobuf wire types.
enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

class WireReader {
 public:
  explicit WireReader(std::string_view data)
      : position_(reinterpret_cast<const uint8_t*>(data.data())), end_(position_ + data.size()) {}

  // True when every byte has been consumed.
  bool done() const { return position_ == end_; }

  // The next byte to be read (a pointer into the data given to the
  // constructor; its end when done).
  const char* position() const { return reinterpret_cast<const char*>(position_); }

  // The next byte without consuming it; -1 when done.
  int PeekByte() const { return position_ < end_ ? *position_ : -1; }
  // Consumes one byte. Requires !done().
  void SkipByte() { ++position_; }

  // Reads a field key. False on a malformed key, field number 0 or an
  // unknown wire type (6, 7).
  bool ReadTag(uint32_t* field, WireType* type) {
    uint64_t key;
    if (!ReadVarint(&key) || key > 0xFFFFFFFFu) return false;
    const uint32_t wire_type = static_cast<uint32_t>(key & 7);
    *field = static_cast<uint32_t>(key >> 3);
    if (*field == 0 || wire_type > 5) return false;
    *type = static_cast<WireType>(wire_type);
    return true;
  }

  // Reads a base-128 varint of at most 10 bytes.
  bool ReadVarint(uint64_t* value) {
    if (position_ < end_ && *position_ < 0x80) {  // one-byte fast path
      *value = *position_++;
      return true;
    }
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (position_ == end_) return false;
      const uint8_t byte = *position_++;
      result |= static_cast<uint64_t>(byte & 0x7F) << (shift < 64 ? shift : 63);
      if (byte < 0x80) {
        *value = result;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }

  bool ReadFixed64(uint64_t* value) {
    if (end_ - position_ < 8) return false;
    std::memcpy(value, position_, 8);  // little-endian hosts only (x86-64, arm64)
    position_ += 8;
    return true;
  }

  bool ReadFixed32(uint32_t* value) {
    if (end_ - position_ < 4) return false;
    std::memcpy(value, position_, 4);
    position_ += 4;
    return true;
  }

  bool ReadDouble(double* value) {
    uint64_t bits;
    if (!ReadFixed64(&bits)) return false;
    std::memcpy(value, &bits, sizeof(bits));
    return true;
  }

  // Reads a length prefix and returns a view of that many following bytes.
  bool ReadLengthDelimited(std::string_view* bytes) {
    uint64_t length;
    if (!ReadVarint(&length) || length > static_cast<uint64_t>(end_ - position_)) return false;
    *bytes = std::string_view(reinterpret_cast<const char*>(position_), static_cast<size_t>(length));
    position_ += length;
    return true;
  }

  // Skips the value of a field of wire type `type` (whose key was just read),
  // including whole groups up to kMaxGroupDepth deep. False when malformed
  // (an unmatched end-group included).
  bool SkipField(uint32_t field, WireType type, int depth = 0);

 private:
  static constexpr int kMaxGroupDepth = 64;

  const uint8_t* position_;
  const uint8_t* end_;
};

// Zigzag decoding (sint32 / sint64).
inline int64_t ZigZagDecode64(uint64_t value) {
  return static_cast<int64_t>((value >> 1) ^ (~(value & 1) + 1));
}

}  // namespace tsvault::remote_write
