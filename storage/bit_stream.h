// Bit- and byte-level primitives shared by the chunk encodings: an MSB-first
// bit writer/reader, LEB128 varints, zig-zag mapping and the "xor bytes"
// float encoding. Internal to storage/; see docs/chunk-format.md.
//
// Readers never read outside their input and report running out of data by
// returning false; they never allocate.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

// A nested namespace keeps these names apart from storage/coding.h.
namespace tsvault::storage::chunk_coding {

#define TSVAULT_CHUNK_INLINE inline __attribute__((always_inline))

// Appends bits, most significant first, to a byte string. Each call to
// Append() updates the string once; afterwards it holds exactly the bits
// written, rounded up to whole bytes. The unused low bits of a partial last
// byte are ones, so that a reader told to decode more than was written runs
// out of input instead of decoding padding.
// `count` (0..64) bits: the low bits of `value` (higher bits are ignored).
struct Bits {
  uint64_t value = 0;
  int count = 0;
};

class BitWriter {
 public:
  using Bits = chunk_coding::Bits;

  BitWriter() = default;

  // The bytes written so far.
  const std::string& bytes() const { return bytes_; }
  // For patching written bytes in place (e.g. a header's count). Callers
  // must not change the string's length.
  std::string* mutable_bytes() { return &bytes_; }
  // Reserves capacity for `size` bytes in the string.
  void Reserve(size_t size) { bytes_.reserve(size); }

  // Appends a, b, c and d in this order. Up to 63 bits in total (with the
  // partial last byte) take an inlined, register-only path.
  TSVAULT_CHUNK_INLINE void Append(Bits a, Bits b = {}, Bits c = {}, Bits d = {}) {
    const int total = pending_bits_ + a.count + b.count + c.count + d.count;
    if (__builtin_expect(total > 63, 0)) {
      const Bits pieces[4] = {a, b, c, d};
      AppendSlow(pieces, 4);
      return;
    }
    uint64_t accumulator = pending_;
    accumulator = (accumulator << a.count) | (a.value & Mask(a.count));
    accumulator = (accumulator << b.count) | (b.value & Mask(b.count));
    accumulator = (accumulator << c.count) | (c.value & Mask(c.count));
    accumulator = (accumulator << d.count) | (d.value & Mask(d.count));
    const int full_bytes = total >> 3;  // 0..7
    const int partial_bits = total & 7;
    char out[16];
    const uint64_t whole =
        ((accumulator >> partial_bits) << (63 - 8 * full_bytes)) << 1;  // 0 bytes: 0
    const uint64_t big_endian = __builtin_bswap64(whole);
    std::memcpy(out, &big_endian, sizeof(big_endian));
    const int free = 8 - partial_bits;  // ones pad the new partial byte
    out[full_bytes] = static_cast<char>((accumulator << free) | ((1u << free) - 1));
    Store(out, full_bytes + (partial_bits > 0));
    pending_ = accumulator & Mask(partial_bits);
    pending_bits_ = partial_bits;
  }

 private:
  static uint64_t Mask(int count) { return (uint64_t{1} << count) - 1; }  // count < 64

  // Writes `length` bytes that start at the old partial byte (if any).
  TSVAULT_CHUNK_INLINE void Store(const char* out, int length) {
    if (pending_bits_ > 0) {  // the old partial byte was extended: rewrite it
      bytes_.back() = *out++;
      --length;
    }
    if (length == 1) {
      bytes_.push_back(*out);
    } else if (length > 1) {
      bytes_.append(out, length);
    }
  }

  void AppendSlow(const Bits* pieces, int count);

  std::string bytes_;
  uint64_t pending_ = 0;  // bits of the partial last byte (low bits)
  int pending_bits_ = 0;  // 0..7
};

// Reads bits, most significant first, from a byte range it does not own.
// Reads never touch memory outside the range: bits past the end read as
// zero, and the caller checks overrun() once per decoded unit (e.g. per
// sample) instead of after every field. Cheap to copy into a local for a
// hot loop.
class BitReader {
 public:
  BitReader() = default;
  // Reads from data[0, size).
  BitReader(const uint8_t* data, size_t size)
      : data_(data), size_(size), total_bits_(uint64_t{size} * 8) {}

  // The 64 bits starting at bit `position`, that bit in bit 63. At least
  // the top 57 bits are meaningful (later ones may be zero); past the end,
  // zeros. Hot loops keep the position in a local (copying the reader
  // through memory defeats store forwarding) and pass it here.
  TSVAULT_CHUNK_INLINE uint64_t WindowAt(uint64_t position) const {
    const uint64_t byte = position >> 3;
    if (__builtin_expect(byte + 8 <= size_, 1)) {
      return LoadBigEndian64(data_ + byte) << (position & 7);
    }
    return WindowNearEnd(position);
  }

  // Reads `count` bits (0..64) at *position and advances it, unchecked.
  TSVAULT_CHUNK_INLINE uint64_t ReadAt(uint64_t* position, int count) const {
    if (count <= 56) {
      const uint64_t bits = count == 0 ? 0 : WindowAt(*position) >> (64 - count);
      *position += count;
      return bits;
    }
    const uint64_t high = WindowAt(*position) >> 32;  // 32 bits
    *position += 32;
    const int rest = count - 32;                      // 25..32
    const uint64_t low = WindowAt(*position) >> (64 - rest);
    *position += rest;
    return (high << rest) | low;
  }

  // Reads `count` bits (0..64) at the reader's position, unchecked; see
  // overrun().
  uint64_t Read(int count) { return ReadAt(&position_, count); }

  uint64_t position() const { return position_; }
  // Moves to `position`, e.g. after a hot loop worked on a local copy.
  void set_position(uint64_t position) { position_ = position; }
  // True when `position` lies past the input.
  bool OverrunAt(uint64_t position) const { return position > total_bits_; }

  // True when more bits were consumed than the input holds.
  bool overrun() const { return position_ > total_bits_; }
  uint64_t remaining_bits() const { return overrun() ? 0 : total_bits_ - position_; }

  // True when fewer than 8 bits remain and all of them are ones, i.e. the
  // reader stands at the padding of the final byte (see BitWriter).
  bool AtPaddedEnd() const;

  static uint64_t LoadBigEndian64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    return __builtin_bswap64(v);
  }

 private:
  uint64_t WindowNearEnd(uint64_t position) const;  // for the last 7 bytes and beyond

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  uint64_t total_bits_ = 0;
  uint64_t position_ = 0;
};

// --- Byte-level helpers ------------------------------------------------------

// Maps signed to unsigned so that small magnitudes become small numbers.
inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// Appends `value` as an LEB128 unsigned varint (1..10 bytes).
inline void PutUvarint(std::string* out, uint64_t value) {
  char buffer[10];
  int n = 0;
  while (value >= 0x80) {
    buffer[n++] = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  buffer[n++] = static_cast<char>(value);
  out->append(buffer, n);
}

// The raw IEEE-754 bits of a double, and back.
inline uint64_t DoubleBits(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return bits;
}
inline double BitsToDouble(uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

// Appends values[0, count), each as `width` (0..64) bits MSB-first, padded
// with zero bits to whole bytes: (count * width + 7) / 8 bytes. Bits of a
// value above `width` are ignored.
void PutPacked(std::string* out, const uint64_t* values, size_t count, int width);

// Reads `count` values of `width` (1..64) bits from `packed` and calls
// sink(index, value) for each. `packed` must hold exactly
// (count * width + 7) / 8 bytes with zero padding; false otherwise (before
// any call to `sink` when the size is wrong).
template <typename Sink>
bool GetPacked(std::string_view packed, size_t count, int width, Sink&& sink);

// Appends the "xor bytes" encoding of `bits ^ reference_bits`: one header byte
// (0 when equal, else trailing-zero-byte count << 4 | significant byte count)
// followed by the significant bytes, big-endian.
void PutXorBytes(std::string* out, uint64_t bits, uint64_t reference_bits);

// Sequential reader over bytes it does not own. Every Get* returns false on
// truncated or malformed (overlong, non-canonical) input.
class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::string_view data) : data_(data) {}

  size_t remaining() const { return data_.size() - position_; }
  size_t position() const { return position_; }

  bool GetByte(uint8_t* out) {
    if (position_ >= data_.size()) return false;
    *out = static_cast<uint8_t>(data_[position_++]);
    return true;
  }

  // The next `count` bytes, consumed.
  bool GetBytes(size_t count, std::string_view* out) {
    if (count > remaining()) return false;
    *out = data_.substr(position_, count);
    position_ += count;
    return true;
  }

  // A canonical LEB128 varint of at most 10 bytes.
  bool GetUvarint(uint64_t* out) {
    // Fast path: a single byte.
    if (position_ < data_.size() && static_cast<uint8_t>(data_[position_]) < 0x80) {
      *out = static_cast<uint8_t>(data_[position_++]);
      return true;
    }
    return GetUvarintSlow(out);
  }

  bool GetVarint(int64_t* out) {
    uint64_t raw;
    if (!GetUvarint(&raw)) return false;
    *out = ZigZagDecode(raw);
    return true;
  }

  // Reads a PutXorBytes field and returns reference_bits ^ decoded in *bits.
  bool GetXorBytes(uint64_t reference_bits, uint64_t* bits);

 private:
  bool GetUvarintSlow(uint64_t* out);

  std::string_view data_;
  size_t position_ = 0;
};

template <typename Sink>
bool GetPacked(std::string_view packed, size_t count, int width, Sink&& sink) {
  if (width < 1 || width > 64) return false;
  const uint64_t total_bits = static_cast<uint64_t>(count) * width;
  if (packed.size() != (total_bits + 7) / 8) return false;
  const BitReader reader(reinterpret_cast<const uint8_t*>(packed.data()), packed.size());
  uint64_t position = 0;
  for (size_t i = 0; i < count; ++i) sink(i, reader.ReadAt(&position, width));
  // Canonical form: the padding of the last byte is zero.
  const int padding = static_cast<int>(packed.size() * 8 - total_bits);
  return padding == 0 || reader.ReadAt(&position, padding) == 0;
}

}  // namespace tsvault::storage::chunk_coding
