// Byte-level encoding helpers for keys and values (internal to storage/).
// Fixed-width integers are big-endian so that keys sort numerically.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tsvault::storage {

inline void PutFixed64BE(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, 8);
}

inline uint64_t DecodeFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Signed timestamps map to unsigned so that big-endian bytes sort in time order.
inline uint64_t TimestampToKeyBits(int64_t t) { return static_cast<uint64_t>(t) ^ (1ull << 63); }
inline int64_t KeyBitsToTimestamp(uint64_t v) { return static_cast<int64_t>(v ^ (1ull << 63)); }

inline void PutVarint64(std::string* dst, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

inline void PutVarsint64(std::string* dst, int64_t v) { PutVarint64(dst, ZigZagEncode(v)); }

inline void PutFixed64LE(std::string* dst, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);  // little-endian hosts only (x86_64, arm64)
  dst->append(buf, 8);
}

inline void PutDouble(std::string* dst, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  PutFixed64LE(dst, bits);
}

inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s.data(), s.size());
}

// Reads from a byte range; every Get* returns false (and consumes nothing
// reliable) when the input is short or malformed.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool empty() const { return p_ >= end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  bool GetVarint64(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63 && p_ < end_; shift += 7) {
      uint64_t byte = static_cast<uint8_t>(*p_++);
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool GetVarsint64(int64_t* v) {
    uint64_t u;
    if (!GetVarint64(&u)) return false;
    *v = ZigZagDecode(u);
    return true;
  }
  bool GetByte(uint8_t* b) {
    if (p_ >= end_) return false;
    *b = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool GetFixed64LE(uint64_t* v) {
    if (remaining() < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }
  bool GetDouble(double* d) {
    uint64_t bits;
    if (!GetFixed64LE(&bits)) return false;
    std::memcpy(d, &bits, 8);
    return true;
  }
  bool GetFixed64BE(uint64_t* v) {
    if (remaining() < 8) return false;
    *v = DecodeFixed64BE(p_);
    p_ += 8;
    return true;
  }
  bool GetLengthPrefixed(std::string_view* s) {
    uint64_t n;
    if (!GetVarint64(&n) || n > remaining()) return false;
    *s = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool GetBytes(size_t n, std::string_view* s) {
    if (n > remaining()) return false;
    *s = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  std::string_view Rest() const { return std::string_view(p_, remaining()); }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace tsvault::storage
