// Out-of-line parts of the bit writer and reader, and the byte-level codecs.
#include "storage/chunkenc/bit_stream.h"

namespace tsvault::storage::chunk_coding {

void BitWriter::AppendSlow(const Bits* pieces, int count) {
  char out[8 * 4 + 2];  // 4 pieces of up to 64 bits plus the old partial byte
  int length = 0;
  uint64_t accumulator = pending_;
  int bits = pending_bits_;
  for (int i = 0; i < count; ++i) {
    uint64_t value = pieces[i].value;
    int remaining = pieces[i].count;
    while (remaining > 0) {  // feed at most 56 bits at a time
      const int take = remaining < 56 ? remaining : 56;
      remaining -= take;
      const uint64_t chunk = (value >> remaining) & Mask(take);
      accumulator = (accumulator << take) | chunk;
      bits += take;
      while (bits >= 8) {
        bits -= 8;
        out[length++] = static_cast<char>(accumulator >> bits);
      }
      accumulator &= Mask(bits);
    }
  }
  if (bits > 0) {
    const int free = 8 - bits;
    out[length] = static_cast<char>((accumulator << free) | ((1u << free) - 1));
  }
  Store(out, length + (bits > 0));
  pending_ = accumulator;
  pending_bits_ = bits;
}

uint64_t BitReader::WindowNearEnd(uint64_t position) const {
  // Up to 8 bytes from the current byte, zero-padded past the end.
  uint8_t buffer[8] = {};
  const uint64_t byte = position >> 3;
  if (byte < size_) {
    const uint64_t available = size_ - byte;
    std::memcpy(buffer, data_ + byte, available < 8 ? available : 8);
  }
  return LoadBigEndian64(buffer) << (position & 7);
}

bool BitReader::AtPaddedEnd() const {
  if (overrun()) return false;
  const uint64_t remaining = total_bits_ - position_;
  if (remaining >= 8) return false;
  if (remaining == 0) return true;
  const uint32_t mask = (1u << remaining) - 1;
  return (data_[size_ - 1] & mask) == mask;
}

void PutPacked(std::string* out, const uint64_t* values, size_t count, int width) {
  if (width == 0 || count == 0) return;
  // Bits accumulate in registers (locals whose address is never taken, so
  // the byte stores below cannot alias them) and go to a stack buffer with
  // one unaligned 8-byte store per piece.
  constexpr size_t kFlushAt = 240;
  char buffer[kFlushAt + 16];
  size_t used = 0;
  uint64_t accumulator = 0;
  int bits = 0;  // < 8 between pieces
  auto put = [&](uint64_t value, int piece_bits) {  // 1..56 bits, none above
    accumulator = (accumulator << piece_bits) | value;
    bits += piece_bits;
    const int full_bytes = bits >> 3;
    bits &= 7;
    const uint64_t whole = ((accumulator >> bits) << (63 - 8 * full_bytes)) << 1;
    StoreBigEndian64(buffer + used, whole);
    used += full_bytes;
    accumulator &= (uint64_t{1} << bits) - 1;
    if (used > kFlushAt) {
      out->append(buffer, used);
      used = 0;
    }
  };
  if (width <= 56) {
    const uint64_t mask = (uint64_t{1} << width) - 1;
    for (size_t i = 0; i < count; ++i) put(values[i] & mask, width);
  } else {
    const int high_bits = width - 32;  // 25..32
    const uint64_t high_mask = (uint64_t{1} << high_bits) - 1;
    for (size_t i = 0; i < count; ++i) {
      put((values[i] >> 32) & high_mask, high_bits);
      put(values[i] & 0xffffffff, 32);
    }
  }
  if (bits > 0) buffer[used++] = static_cast<char>(accumulator << (8 - bits));
  out->append(buffer, used);
}

void PutXorBytes(std::string* out, uint64_t bits, uint64_t reference_bits) {
  const uint64_t x = bits ^ reference_bits;
  if (x == 0) {
    out->push_back(0);
    return;
  }
  const int leading_bytes = __builtin_clzll(x) / 8;
  const int trailing_bytes = __builtin_ctzll(x) / 8;
  const int significant = 8 - leading_bytes - trailing_bytes;  // 1..8
  char buffer[9];
  buffer[0] = static_cast<char>((trailing_bytes << 4) | significant);
  const uint64_t shifted = x >> (8 * trailing_bytes);
  for (int i = 0; i < significant; ++i) {
    buffer[1 + i] = static_cast<char>(shifted >> (8 * (significant - 1 - i)));
  }
  out->append(buffer, 1 + significant);
}

bool ByteReader::GetXorBytes(uint64_t reference_bits, uint64_t* bits) {
  uint8_t header;
  if (!GetByte(&header)) return false;
  if (header == 0) {
    *bits = reference_bits;
    return true;
  }
  const int significant = header & 0x0f;
  const int trailing_bytes = header >> 4;
  if (significant < 1 || significant + trailing_bytes > 8) return false;
  if (remaining() < static_cast<size_t>(significant)) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data()) + position_;
  // Canonical form: the outermost significant bytes are non-zero.
  if (p[0] == 0 || p[significant - 1] == 0) return false;
  uint64_t x = 0;
  for (int i = 0; i < significant; ++i) x = (x << 8) | p[i];
  position_ += significant;
  *bits = reference_bits ^ (x << (8 * trailing_bytes));
  return true;
}

bool ByteReader::GetUvarintSlow(uint64_t* out) {
  uint64_t result = 0;
  for (int i = 0; i < 10; ++i) {
    if (position_ >= data_.size()) return false;
    const uint8_t byte = static_cast<uint8_t>(data_[position_++]);
    if (i == 9 && byte > 1) return false;  // would overflow 64 bits
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      if (byte == 0 && i > 0) return false;  // non-canonical trailing zero
      *out = result;
      return true;
    }
  }
  return false;
}

}  // namespace tsvault::storage::chunk_coding
