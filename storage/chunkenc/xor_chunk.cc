// The XOR float chunk encoder (ChunkEncoding::kXor). Layout in
// docs/chunk-format.md and storage/chunkenc/xor_chunk_format.h; the decoder is in
// xor_chunk_iterator.cc.
//
// This is the ingest hot path: the code favours selects over data-dependent
// branches and builds each sample's bits in registers before one string
// update.
#include <algorithm>
#include <bit>
#include <cassert>

#include "storage/chunkenc/chunk.h"
#include "storage/chunkenc/xor_chunk_format.h"

namespace tsvault::storage {

using chunk_coding::Bits;
using chunk_coding::DoubleBits;
using chunk_coding::ZigZagEncode;
namespace layout = xor_format;

namespace {

// Maps the bit length (0..64) of a zig-zag delta-of-delta to its class.
struct TimeClassTable {
  uint8_t by_bit_length[65];
  constexpr TimeClassTable() : by_bit_length() {
    for (int bits = 0; bits <= 64; ++bits) {
      int c = 0;
      while (c < layout::kTimeClasses - 1 && layout::kTimePayloadBits[c] < bits) ++c;
      by_bit_length[bits] = static_cast<uint8_t>(c);
    }
  }
};
constexpr TimeClassTable kTimeClassTable;

// After a failed attempt to start a decimal run, the encoder waits this many
// XOR-coded values before trying again (the attempt costs divisions): long
// when no exponent fits, short when one fits but XOR was cheaper.
constexpr uint8_t kDecimalRetryAfterMiss = 16;
constexpr uint8_t kDecimalRetryAfterXorWin = 4;

// A decimal number as a class prefix (head) and a zig-zag payload (body).
void DecimalNumber(int64_t number, Bits* head, Bits* body) {
  const uint64_t zigzag = ZigZagEncode(number);
  const int c = layout::DecimalClass(zigzag);
  *head = {layout::kDecimalPrefix[c], layout::kDecimalPrefixBits[c]};
  *body = {zigzag, layout::kDecimalPayloadBits[c]};
}

// `prefix` followed by `head`.
Bits Concat(Bits prefix, Bits head) {
  return {(prefix.value << head.count) | head.value, prefix.count + head.count};
}

}  // namespace

XorChunkAppender::XorChunkAppender() {
  writer_.Reserve(256);  // ~120 samples at 1-2 bytes each
  // Encoding byte, then the sample count (patched by Append).
  writer_.Append({static_cast<uint8_t>(ChunkEncoding::kXor), 8}, {0, 16});
}

// Inlined into Append (the only caller): the ingest hot path.
TSVAULT_CHUNK_INLINE void XorChunkAppender::EncodeValue(double value, Bits* head, Bits* body) {
  const uint64_t bits = DoubleBits(value);
  const uint64_t x = bits ^ previous_value_bits_;  // the first value XORs with 0
  previous_value_bits_ = bits;
  if (x == 0) {
    *head = {layout::kValueSame, 1};
    return;
  }

  // Continue a decimal run: one multiplication, one division.
  int64_t mantissa;
  if (decimal_run_ && layout::ToDecimal(value, decimal_exponent_, &mantissa)) {
    DecimalNumber(mantissa - decimal_mantissa_, head, body);
    *head = Concat({layout::kValueDecimalStep, 2}, *head);
    decimal_mantissa_ = mantissa;
    return;
  }

  // XOR (x != 0 here, so the builtins are defined).
  const int leading = std::min(__builtin_clzll(x), 31);  // 5-bit field
  const int trailing = __builtin_ctzll(x);
  const int new_width = 64 - leading - trailing;
  const int window_width = 64 - leading_zeros_ - trailing_zeros_;
  const bool reuse = leading_zeros_ >= 0 && leading >= leading_zeros_ &&
                     trailing >= trailing_zeros_ &&
                     window_width <= new_width + layout::kWindowHeaderBits;
  const int xor_bits = reuse ? 3 + window_width : 4 + layout::kWindowHeaderBits + new_width;

  // Or start a decimal run, when that is no longer than the XOR code.
  if (decimal_retry_wait_ > 0) {
    --decimal_retry_wait_;
  } else {
    int exponent = 0;
    while (exponent < layout::kDecimalExponents &&
           !layout::ToDecimal(value, exponent, &mantissa)) {
      ++exponent;
    }
    if (exponent == layout::kDecimalExponents) {
      decimal_retry_wait_ = kDecimalRetryAfterMiss;
    } else {
      Bits number_head;
      DecimalNumber(mantissa, &number_head, body);
      if (4 + 3 + number_head.count + body->count <= xor_bits) {
        *head = Concat({(layout::kValueDecimalStart << 3) | static_cast<uint64_t>(exponent), 7},
                       number_head);
        decimal_run_ = true;
        decimal_exponent_ = exponent;
        decimal_mantissa_ = mantissa;
        return;
      }
      decimal_retry_wait_ = kDecimalRetryAfterXorWin;
    }
  }

  decimal_run_ = false;
  if (reuse) {
    *head = {layout::kValueXorReuse, 3};
    *body = {x >> trailing_zeros_, window_width};
  } else {
    *head = {(layout::kValueXorNew << 11) | (static_cast<uint64_t>(leading) << 6) |
                 static_cast<uint64_t>(new_width & 63),
             4 + layout::kWindowHeaderBits};
    *body = {x >> trailing, new_width};
    leading_zeros_ = leading;
    trailing_zeros_ = trailing;
  }
}

void XorChunkAppender::Append(int64_t timestamp_ms, double value) {
  assert(!full());
  if (full()) return;
  assert(num_samples_ == 0 || timestamp_ms > previous_timestamp_);

  Bits time_high;  // all but the last 64 bits of the timestamp field
  Bits time_low;
  if (__builtin_expect(num_samples_ == 0, 0)) {
    // First timestamp: zig-zag varint bytes (the stream is byte-aligned
    // here). Up to 10 bytes: the last 8 go to time_low, the rest before.
    uint8_t varint[10];
    int length = 0;
    for (uint64_t zigzag = ZigZagEncode(timestamp_ms);; zigzag >>= 7) {
      varint[length++] = static_cast<uint8_t>(zigzag < 0x80 ? zigzag : (zigzag & 0x7f) | 0x80);
      if (zigzag < 0x80) break;
    }
    for (int i = 0; i < length; ++i) {
      Bits& field = i < length - 8 ? time_high : time_low;
      field.value = (field.value << 8) | varint[i];
      field.count += 8;
    }
    min_time_ = timestamp_ms;
    previous_delta_ = 0;
  } else {
    // Timestamp arithmetic is modulo 2^64, so any int64 sequence round-trips.
    const uint64_t delta =
        static_cast<uint64_t>(timestamp_ms) - static_cast<uint64_t>(previous_timestamp_);
    const int64_t dod = static_cast<int64_t>(delta - previous_delta_);
    const int c = kTimeClassTable.by_bit_length[64 - std::countl_zero(ZigZagEncode(dod))];
    const int payload_bits = layout::kTimePayloadBits[c];
    if (__builtin_expect(payload_bits < 64, 1)) {
      const uint64_t payload = static_cast<uint64_t>(dod) & ((uint64_t{1} << payload_bits) - 1);
      time_low = {(layout::kTimePrefix[c] << payload_bits) | payload,
                  layout::kTimePrefixBits[c] + payload_bits};
    } else {  // rare: 5-bit prefix + 64 bits
      time_high = {layout::kTimePrefix[c], layout::kTimePrefixBits[c]};
      time_low = {static_cast<uint64_t>(dod), 64};
    }
    previous_delta_ = delta;
  }
  previous_timestamp_ = timestamp_ms;

  Bits value_head;
  Bits value_body;
  EncodeValue(value, &value_head, &value_body);
  writer_.Append(time_high, time_low, value_head, value_body);

  ++num_samples_;
  char* header_bytes = writer_.mutable_bytes()->data();
  header_bytes[1] = static_cast<char>(num_samples_ >> 8);
  header_bytes[2] = static_cast<char>(num_samples_ & 0xff);
}

}  // namespace tsvault::storage
