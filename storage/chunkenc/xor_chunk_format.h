// Constants and helpers shared by the XOR chunk encoder and decoder
// (ChunkEncoding::kXor). Internal to storage/; the bit layout is specified in
// docs/chunk-format.md and must never change.
#pragma once

#include <cstdint>

#include "storage/chunkenc/bit_stream.h"

namespace tsvault::storage::xor_format {

// --- Timestamps ----------------------------------------------------------------
// Delta-of-delta classes: class c has a prefix of c ones followed by a zero
// (class 5: five ones, no zero) and a signed two's-complement payload.
//   0                      dod == 0
//   10     + 4 bits        [-8, 7]            scrape jitter of a few ms
//   110    + 8 bits        [-128, 127]
//   1110   + 16 bits       [-32768, 32767]    a missed 15 s or 30 s scrape
//   11110  + 32 bits       [-2^31, 2^31 - 1]
//   11111  + 64 bits       anything (timestamps are modulo 2^64)
inline constexpr int kTimeClasses = 6;
inline constexpr int kTimePrefixBits[kTimeClasses] = {1, 2, 3, 4, 5, 5};
inline constexpr uint64_t kTimePrefix[kTimeClasses] = {0b0, 0b10, 0b110, 0b1110, 0b11110, 0b11111};
inline constexpr int kTimePayloadBits[kTimeClasses] = {0, 4, 8, 16, 32, 64};

// --- Values --------------------------------------------------------------------
// Each value starts with one of these codes:
//   0      same bits as the previous value
//   10     decimal step: mantissa += signed step (decimal number below)
//   110    XOR with the previous value, meaningful bits in the current window
//   1110   XOR with a new window: 5 bits leading zeros, 6 bits width (0 = 64)
//   1111   decimal start: 3 bits exponent, then the mantissa (decimal number)
// A decimal value is mantissa / 10^exponent, computed in double precision
// (one correctly rounded IEEE division, so encoder and decoder agree bit for
// bit); the encoder uses it only after checking that it reproduces the
// value's exact bits. XOR-coded values end the decimal state.
inline constexpr uint64_t kValueSame = 0b0;
inline constexpr uint64_t kValueDecimalStep = 0b10;
inline constexpr uint64_t kValueXorReuse = 0b110;
inline constexpr uint64_t kValueXorNew = 0b1110;
inline constexpr uint64_t kValueDecimalStart = 0b1111;
// The new window header costs this many bits more than reusing the window.
inline constexpr int kWindowHeaderBits = 11;

// Decimal numbers (steps and start mantissas) are zig-zag encoded and
// stored in one of four classes: a prefix, then the zig-zag value.
//   0   + 6 bits      [-32, 31]
//   10  + 13 bits
//   110 + 21 bits
//   111 + 56 bits     anything the decimal range allows (|n| <= 2^54)
inline constexpr int kDecimalClasses = 4;
inline constexpr int kDecimalPrefixBits[kDecimalClasses] = {1, 2, 3, 3};
inline constexpr uint64_t kDecimalPrefix[kDecimalClasses] = {0b0, 0b10, 0b110, 0b111};
inline constexpr int kDecimalPayloadBits[kDecimalClasses] = {6, 13, 21, 56};

inline constexpr int kDecimalExponents = 8;  // 3-bit exponent field
inline constexpr double kDecimalScale[kDecimalExponents] = {1e0, 1e1, 1e2, 1e3,
                                                            1e4, 1e5, 1e6, 1e7};
// Mantissas stay within +-2^53, where every integer is an exact double.
inline constexpr int64_t kDecimalMantissaLimit = int64_t{1} << 53;

// The value of a decimal number. (Exponent 0 skips the division by 1.0,
// which would give the same bits, slower.)
inline double DecimalValue(int64_t mantissa, int exponent) {
  const double m = static_cast<double>(mantissa);
  return exponent == 0 ? m : m / kDecimalScale[exponent];
}

// True, with *mantissa set, when `value` is exactly (bit for bit)
// DecimalValue(*mantissa, exponent) with |*mantissa| <= 2^53.
inline bool ToDecimal(double value, int exponent, int64_t* mantissa) {
  const double scaled = value * kDecimalScale[exponent];
  constexpr double kLimit = static_cast<double>(kDecimalMantissaLimit);
  if (!(scaled > -kLimit && scaled < kLimit)) return false;  // also NaN and Inf
  const int64_t rounded = static_cast<int64_t>(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
  if (chunk_coding::DoubleBits(DecimalValue(rounded, exponent)) !=
      chunk_coding::DoubleBits(value)) {
    return false;
  }
  *mantissa = rounded;
  return true;
}

// Class of a zig-zag decimal number (fits its class's payload width).
inline int DecimalClass(uint64_t zigzag) {
  return zigzag < (uint64_t{1} << 6) ? 0 : zigzag < (uint64_t{1} << 13) ? 1
         : zigzag < (uint64_t{1} << 21) ? 2 : 3;
}

}  // namespace tsvault::storage::xor_format
