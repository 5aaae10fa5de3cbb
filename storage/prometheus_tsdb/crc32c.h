// CRC-32C (Castagnoli), the checksum of Prometheus' on-disk formats (index,
// chunk segments, tombstones) and of remote read's chunked frames: reflected
// polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF, as Go's
// crc32.MakeTable(crc32.Castagnoli).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tsvault::prometheus_tsdb {

// The CRC-32C of data[0, size). Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(const void* data, size_t size);
inline uint32_t Crc32c(std::string_view data) { return Crc32c(data.data(), data.size()); }

// An incremental CRC-32C over several pieces: equal to Crc32c of their
// concatenation.
class Crc32cBuilder {
 public:
  // Adds data[0, size).
  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // The checksum of everything added so far.
  uint32_t value() const;

 private:
  uint32_t state_ = 0xFFFFFFFFu;  // Boost's interim remainder
};

}  // namespace tsvault::prometheus_tsdb
