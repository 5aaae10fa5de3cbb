#include "storage/prometheus_tsdb/xor_chunk.h"

#include <bit>
#include <cstring>

#include "storage/chunkenc/bit_stream.h"

namespace tsvault::prometheus_tsdb {

using storage::chunk_coding::BitReader;
using storage::chunk_coding::BitWriter;
using storage::chunk_coding::Bits;
using storage::chunk_coding::DoubleBits;
using storage::chunk_coding::ZigZagDecode;
using storage::chunk_coding::ZigZagEncode;

namespace {

// True when `x` fits the dod class of `width` bits: Prometheus' bitRange,
// -(2^(width-1) - 1) <= x <= 2^(width-1).
bool FitsDodClass(int64_t x, int width) {
  const int64_t half = int64_t{1} << (width - 1);
  return -(half - 1) <= x && x <= half;
}

}  // namespace

class XorChunkEncoder::Writer : public BitWriter {};

XorChunkEncoder::XorChunkEncoder() { Reset(); }

XorChunkEncoder::~XorChunkEncoder() = default;

void XorChunkEncoder::Reset() {
  writer_ = std::make_unique<Writer>();
  writer_->Append({0, 16});  // the sample count, set by Finish
  num_samples_ = 0;
  min_time_ = last_time_ = 0;
  last_delta_ = last_value_bits_ = 0;
  leading_ = 0xFF;
  trailing_ = 0;
  bit_count_ = 0;
}

size_t XorChunkEncoder::size() const { return writer_->bytes().size(); }

void XorChunkEncoder::Append(int64_t timestamp_ms, double value) {
  const uint64_t value_bits = DoubleBits(value);
  auto append = [this](uint64_t bits, int count) {
    writer_->Append({bits, count});
    bit_count_ += count;
  };
  auto append_uvarint = [&](uint64_t v) {
    while (v >= 0x80) {
      append((v & 0x7F) | 0x80, 8);
      v >>= 7;
    }
    append(v, 8);
  };
  uint64_t delta = 0;
  if (num_samples_ == 0) {
    append_uvarint(ZigZagEncode(timestamp_ms));
    append(value_bits, 64);
    min_time_ = timestamp_ms;
  } else {
    delta = static_cast<uint64_t>(timestamp_ms) - static_cast<uint64_t>(last_time_);
    if (num_samples_ == 1) {
      append_uvarint(delta);
    } else {
      const int64_t dod = static_cast<int64_t>(delta - last_delta_);
      if (dod == 0) {
        append(0, 1);
      } else if (FitsDodClass(dod, 14)) {
        append(0b10, 2), append(static_cast<uint64_t>(dod), 14);
      } else if (FitsDodClass(dod, 17)) {
        append(0b110, 3), append(static_cast<uint64_t>(dod), 17);
      } else if (FitsDodClass(dod, 20)) {
        append(0b1110, 4), append(static_cast<uint64_t>(dod), 20);
      } else {
        append(0b1111, 4), append(static_cast<uint64_t>(dod), 64);
      }
    }
    // The value, XOR'd with the previous one (xorWrite).
    const uint64_t x = value_bits ^ last_value_bits_;
    if (x == 0) {
      append(0, 1);
    } else {
      uint8_t leading = static_cast<uint8_t>(std::countl_zero(x));
      const uint8_t trailing = static_cast<uint8_t>(std::countr_zero(x));
      if (leading >= 32) leading = 31;  // five bits hold it
      if (leading_ != 0xFF && leading >= leading_ && trailing >= trailing_) {
        append(0b10, 2);
        append(x >> trailing_, 64 - leading_ - trailing_);
      } else {
        leading_ = leading;
        trailing_ = trailing;
        const int significant = 64 - leading - trailing;  // 1..64; 64 is written as 0
        append(0b11, 2);
        append(leading, 5);
        append(static_cast<uint64_t>(significant), 6);
        append(x >> trailing, significant);
      }
    }
  }
  last_time_ = timestamp_ms;
  last_delta_ = delta;
  last_value_bits_ = value_bits;
  ++num_samples_;
}

std::string XorChunkEncoder::Finish() {
  std::string* bytes = writer_->mutable_bytes();
  (*bytes)[0] = static_cast<char>(num_samples_ >> 8);
  (*bytes)[1] = static_cast<char>(num_samples_);
  // Prometheus pads the last byte with zero bits (our BitWriter uses ones).
  const int used = static_cast<int>((bit_count_ + 16) % 8);
  if (used != 0) bytes->back() = static_cast<char>(bytes->back() & ~((1 << (8 - used)) - 1));
  std::string chunk = std::move(*bytes);
  Reset();
  return chunk;
}

}  // namespace tsvault::prometheus_tsdb

namespace tsvault::prometheus_tsdb {

namespace {

// Reads a Go varint's bytes from the bit stream (they are byte-aligned
// there, but Prometheus' reader does not rely on it). False when longer
// than 10 bytes.
bool ReadUvarint(BitReader* reader, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    const uint64_t byte = reader->Read(8);
    if (shift == 63 && byte > 1) return false;
    *value |= (byte & 0x7F) << shift;
    if (byte < 0x80) return true;
  }
  return false;
}

}  // namespace

Status DecodeXorChunk(std::string_view data, std::vector<model::Sample>* out) {
  out->clear();
  if (data.size() < 2) return Status::Corruption("XOR chunk shorter than its 2-byte header");
  const int count = (static_cast<uint8_t>(data[0]) << 8) | static_cast<uint8_t>(data[1]);
  BitReader reader(reinterpret_cast<const uint8_t*>(data.data()) + 2, data.size() - 2);
  // Each sample takes at least one bit: a count beyond that is a lie.
  if (static_cast<uint64_t>(count) > (data.size() - 2) * 8 + 2) {
    return Status::Corruption("XOR chunk: sample count exceeds its data");
  }
  out->reserve(count);
  int64_t time = 0;
  uint64_t delta = 0, value_bits = 0;
  int leading = 0, trailing = 0;
  for (int i = 0; i < count; ++i) {
    if (i == 0) {
      uint64_t zigzag;
      if (!ReadUvarint(&reader, &zigzag)) return Status::Corruption("XOR chunk: bad first timestamp");
      time = ZigZagDecode(zigzag);
      value_bits = reader.Read(64);
    } else {
      if (i == 1) {
        if (!ReadUvarint(&reader, &delta)) return Status::Corruption("XOR chunk: bad second timestamp");
      } else {
        int prefix = 0;
        while (prefix < 4 && reader.Read(1) == 1) ++prefix;
        static constexpr int kWidths[5] = {0, 14, 17, 20, 64};
        const int width = kWidths[prefix];
        uint64_t dod = reader.Read(width);
        if (width > 0 && width < 64 && dod > (uint64_t{1} << (width - 1))) dod -= uint64_t{1} << width;
        delta += dod;
      }
      time = static_cast<int64_t>(static_cast<uint64_t>(time) + delta);
      if (reader.Read(1) == 1) {
        if (reader.Read(1) == 1) {
          leading = static_cast<int>(reader.Read(5));
          int significant = static_cast<int>(reader.Read(6));
          if (significant == 0) significant = 64;
          trailing = 64 - leading - significant;
          if (trailing < 0) return Status::Corruption("XOR chunk: value window wider than 64 bits");
        }  // else the previous window (64 bits wide before the first, as in Prometheus)
        const int significant = 64 - leading - trailing;
        value_bits ^= reader.Read(significant) << trailing;
      }
    }
    if (reader.overrun()) return Status::Corruption("XOR chunk truncated at sample " + std::to_string(i));
    if (i > 0 && time <= out->back().timestamp_ms) {
      return Status::Corruption("XOR chunk: timestamps not increasing at sample " + std::to_string(i));
    }
    out->push_back(model::Sample{time, std::bit_cast<double>(value_bits)});
  }
  if ((reader.position() + 7) / 8 != data.size() - 2) {
    return Status::Corruption("XOR chunk: bytes after the last sample");
  }
  return Status::OK();
}

}  // namespace tsvault::prometheus_tsdb
