// Human-readable bodies of partial-write (400) answers.
#pragma once

#include <cstdint>
#include <string>

#include "remote_write/decoder.h"
#include "storage/types.h"

namespace tsvault::remote_write {

// What was written, for the 2.0 X-Prometheus-Remote-Write-*-Written headers.
struct WrittenCounts {
  uint64_t samples = 0;
  uint64_t histograms = 0;
  uint64_t exemplars = 0;
};

// Describes everything of a request that was not written: the series and
// metadata validation rejected (counts per reason and the first few problems
// with the offending labels) and the samples storage refused (conflicts).
// States that the rest was written. Bounded to a few kilobytes.
std::string PartialWriteMessage(const IngestBatch& decoded, const storage::WriteResult& result);

}  // namespace tsvault::remote_write
