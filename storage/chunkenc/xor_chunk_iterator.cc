// The float half of ChunkIterator: decodes ChunkEncoding::kXor streams
// written by XorChunkAppender (layout in storage/chunkenc/xor_chunk_format.h).
//
// Query hot path. The bit position lives in a local while a sample is
// decoded (copying the reader through memory would defeat store forwarding);
// reads past the end yield zeros and are caught once per sample by the
// overrun check, so no read ever leaves the input.
#include <algorithm>
#include <bit>

#include "storage/chunkenc/chunk.h"
#include "storage/chunkenc/xor_chunk_format.h"

namespace tsvault::storage {

using chunk_coding::DoubleBits;
using chunk_coding::ZigZagDecode;
namespace layout = xor_format;

// Decodes the first timestamp, a zig-zag varint of whole bytes.
bool ChunkIterator::ReadFirstXorTimestamp() {
  uint64_t zigzag = 0;
  for (int i = 0; i < 10; ++i) {
    const uint64_t byte = bits_.Read(8);
    if (bits_.overrun()) return Fail("xor chunk: truncated first timestamp");
    if (i == 9 && byte > 1) return Fail("xor chunk: first timestamp overflows");
    zigzag |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      if (byte == 0 && i > 0) return Fail("xor chunk: non-canonical first timestamp");
      timestamp_ = ZigZagDecode(zigzag);
      previous_delta_ = 0;
      return true;
    }
  }
  return Fail("xor chunk: first timestamp too long");
}

// Decodes the value code at *position, whose next `valid` (>= 20) bits are
// at the top of `window`. Inlined into NextXor (the only caller).
TSVAULT_CHUNK_INLINE bool ChunkIterator::DecodeXorValue(uint64_t window, int valid, uint64_t* position) {
  // The `width` (1..64) bits that follow a `head`-bit header.
  auto field = [&](int head, int width) __attribute__((always_inline)) -> uint64_t {
    if (head + width <= valid) {
      *position += head + width;
      return (window << head) >> (64 - width);
    }
    *position += head;
    return bits_.ReadAt(position, width);
  };
  // A decimal number whose class prefix starts `head` bits into `window`.
  auto decimal_number = [&](int head) __attribute__((always_inline)) -> int64_t {
    const int c = std::min(std::countl_one(window << head), layout::kDecimalClasses - 1);
    return ZigZagDecode(field(head + layout::kDecimalPrefixBits[c], layout::kDecimalPayloadBits[c]));
  };
  // Sets the value to mantissa / 10^exponent.
  auto set_decimal = [&](int64_t mantissa, int exponent) __attribute__((always_inline)) {
    if (mantissa < -layout::kDecimalMantissaLimit || mantissa > layout::kDecimalMantissaLimit) {
      return Fail("xor chunk: decimal mantissa out of range");
    }
    decimal_run_ = true;
    decimal_exponent_ = exponent;
    decimal_mantissa_ = mantissa;
    value_bits_ = DoubleBits(layout::DecimalValue(mantissa, exponent));
    return true;
  };

  if ((window >> 63) == layout::kValueSame) {
    *position += 1;
    return true;
  }
  if ((window >> 62) == layout::kValueDecimalStep) {
    if (!decimal_run_) return Fail("xor chunk: decimal step without a decimal start");
    // |mantissa| and |step| are bounded (2^53, 2^55 for a damaged step), so
    // the sum cannot overflow.
    return set_decimal(decimal_mantissa_ + decimal_number(2), decimal_exponent_);
  }
  if ((window >> 60) == layout::kValueDecimalStart) {
    const int exponent = static_cast<int>((window >> 57) & 7);
    return set_decimal(decimal_number(7), exponent);
  }
  decimal_run_ = false;
  if ((window >> 61) == layout::kValueXorReuse) {
    if (leading_zeros_ < 0) return Fail("xor chunk: value reuses a missing window");
    const int width = 64 - leading_zeros_ - trailing_zeros_;
    value_bits_ ^= field(3, width) << trailing_zeros_;
    return true;
  }
  // kValueXorNew: 5 bits leading zeros, 6 bits width (0 means 64).
  const int leading = static_cast<int>((window >> 55) & 31);
  int width = static_cast<int>((window >> 49) & 63);
  if (width == 0) width = 64;
  if (leading + width > 64) return Fail("xor chunk: bad value window");
  leading_zeros_ = leading;
  trailing_zeros_ = 64 - leading - width;
  value_bits_ ^= field(15, width) << trailing_zeros_;
  return true;
}

bool ChunkIterator::NextXor() {
  if (decoded_ == total_) {
    done_ = true;
    if (!bits_.AtPaddedEnd()) return Fail("xor chunk: data after the last sample");
    return false;
  }
  if (__builtin_expect(decoded_ == 0, 0)) {
    if (!ReadFirstXorTimestamp()) return false;
  }
  uint64_t position = bits_.position();
  uint64_t window = bits_.WindowAt(position);
  int valid = 57;  // meaningful bits at the top of `window`; stays >= 20

  if (__builtin_expect(decoded_ != 0, 1)) {
    // Class c has c leading ones; its prefix is min(c + 1, 5) bits and its
    // payload 0, 4, 8, 16, 32 or 64 bits (2 << c for c >= 1).
    const int ones = std::min(std::countl_one(window), layout::kTimeClasses - 1);
    const int prefix_bits = std::min(ones + 1, 5);
    int64_t dod;
    if (__builtin_expect(ones < layout::kTimeClasses - 1, 1)) {
      const int payload_bits = (2 << ones) & -static_cast<int>(ones != 0);
      // Sign-extend the payload; the split shift keeps a 0-bit payload
      // defined, and the mask makes it 0.
      const int64_t payload =
          (static_cast<int64_t>(window << prefix_bits) >> (63 - payload_bits)) >> 1;
      dod = payload & -static_cast<int64_t>(payload_bits != 0);
      const int used = prefix_bits + payload_bits;  // <= 37
      position += used;
      window <<= used;
      valid -= used;
    } else {
      position += prefix_bits;
      dod = static_cast<int64_t>(bits_.ReadAt(&position, 64));
      window = bits_.WindowAt(position);
      valid = 57;
    }
    previous_delta_ += static_cast<uint64_t>(dod);
    timestamp_ = static_cast<int64_t>(static_cast<uint64_t>(timestamp_) + previous_delta_);
  }

  if (!DecodeXorValue(window, valid, &position)) return false;
  if (bits_.OverrunAt(position)) return Fail("xor chunk: truncated sample");
  bits_.set_position(position);
  ++decoded_;
  return true;
}

}  // namespace tsvault::storage
