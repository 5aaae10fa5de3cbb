#include "storage/prometheus_tsdb/crc32c.h"

#include <boost/crc.hpp>

namespace tsvault::prometheus_tsdb {

namespace {

// Boost's table-driven CRC with the Castagnoli parameters, without the
// initial value and final xor, so that an interim remainder can be resumed
// (Crc32cBuilder starts from 0xFFFFFFFF and applies the final xor).
using CastagnoliState = boost::crc_optimal<32, 0x1EDC6F41, 0, 0, true, true>;

}  // namespace

void Crc32cBuilder::Update(const void* data, size_t size) {
  CastagnoliState crc(state_);
  crc.process_bytes(data, size);
  state_ = crc.get_interim_remainder();
}

uint32_t Crc32cBuilder::value() const { return CastagnoliState(state_).checksum() ^ 0xFFFFFFFFu; }

uint32_t Crc32c(const void* data, size_t size) {
  Crc32cBuilder builder;
  builder.Update(data, size);
  return builder.value();
}

}  // namespace tsvault::prometheus_tsdb
