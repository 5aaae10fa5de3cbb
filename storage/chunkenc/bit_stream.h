// Bit- and byte-level primitives shared by the chunk encodings: an MSB-first
// bit writer and reader, bit packing, LEB128 varints, zig-zag mapping and the
// "xor bytes" float field. Internal to storage/; see docs/chunk-format.md.
//
// Readers never touch memory outside their input and never allocate. The
// byte reader reports running out of data by returning false; the bit
// reader reads zeros past the end and lets the caller check overrun once per
// decoded unit.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

// Forces inlining of the few functions on the per-sample hot paths.
#define TSVAULT_CHUNK_INLINE inline __attribute__((always_inline))

// A nested namespace keeps these names apart from storage/coding.h.
namespace tsvault::storage::chunk_coding {

// Stores `v` as 8 big-endian bytes at p.
inline void StoreBigEndian64(char* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof(v));
}

// `count` (0..64) bits: the low bits of `value` (higher bits are ignored).
struct Bits {
  uint64_t value = 0;
  int count = 0;
};

// Appends bits, most significant first, to a byte string. Each call to
// Append() updates the string once; afterwards it holds exactly the bits
// written, rounded up to whole bytes. The unused low bits of a partial last
// byte are ones, so that a reader told to decode more than was written runs
// out of input instead of decoding padding.
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
    if (total == 0) return;
    // All output bytes (whole ones, then the partial one padded with ones)
    // in one word and one 8-byte store: later loads of any of its bytes are
    // forwarded from that store (separate byte stores would stall them).
    const uint64_t word = (accumulator << (64 - total)) | (~uint64_t{0} >> total);
    char out[8];
    StoreBigEndian64(out, word);
    const int partial_bits = total & 7;
    Store(out, (total + 7) >> 3);
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
// zero, and the caller checks OverrunAt()/overrun() once per decoded unit
// (e.g. per sample) instead of after every field.
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

  // The number of bits consumed.
  uint64_t position() const { return position_; }
  // Moves to `position`, e.g. after a hot loop worked on a local copy.
  void set_position(uint64_t position) { position_ = position; }
  // True when `position` lies past the input.
  bool OverrunAt(uint64_t position) const { return position > total_bits_; }

  // True when more bits were consumed than the input holds.
  bool overrun() const { return position_ > total_bits_; }

  // True when fewer than 8 bits remain and all of them are ones, i.e. the
  // reader stands at the padding of the final byte (see BitWriter).
  bool AtPaddedEnd() const;

  // The 8 bytes at p as a big-endian number.
  static uint64_t LoadBigEndian64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    return v;
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

// Reads `count` values of `width` (1..64) bits packed at the start of
// `input` (which may continue past them: that makes most reads fast loads)
// and calls sink(index, value) for each. The packed block takes
// (count * width + 7) / 8 bytes and its padding bits must be zero; false
// otherwise (before any call to `sink` when `input` is too short).
template <typename Sink>
bool GetPacked(std::string_view input, size_t count, int width, Sink&& sink);

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

  // Bytes not yet read.
  size_t remaining() const { return data_.size() - position_; }

  // One byte.
  bool GetByte(uint8_t* out) {
    if (position_ >= data_.size()) return false;
    *out = static_cast<uint8_t>(data_[position_++]);
    return true;
  }

  // The unread bytes, not consumed.
  std::string_view rest() const { return data_.substr(position_); }

  // Consumes `count` bytes; false (consuming nothing) if fewer remain.
  bool Skip(size_t count) {
    if (count > remaining()) return false;
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

  // A zig-zag encoded signed varint.
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
bool GetPacked(std::string_view input, size_t count, int width, Sink&& sink) {
  if (width < 1 || width > 64) return false;
  const uint64_t total_bits = static_cast<uint64_t>(count) * width;
  const uint64_t packed_bytes = (total_bits + 7) / 8;
  if (input.size() < packed_bytes) return false;
  const BitReader reader(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  uint64_t position = 0;
  for (size_t i = 0; i < count; ++i) sink(i, reader.ReadAt(&position, width));
  // Canonical form: the padding of the last byte is zero.
  const int padding = static_cast<int>(packed_bytes * 8 - total_bits);
  return padding == 0 || reader.ReadAt(&position, padding) == 0;
}

}  // namespace tsvault::storage::chunk_coding
