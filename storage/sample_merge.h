// Merges the chunks of one series into a single timestamp-ordered sample
// sequence (internal). Chunks may overlap (out-of-order ingestion): on equal
// timestamps the chunk with the lowest sequence (the earliest write) wins.
#pragma once

#include <memory>
#include <vector>

#include "common/status.h"
#include "storage/db.h"
#include "storage/mem_series.h"

namespace tsvault::storage {

// Decodes and merges `chunks`, keeping samples inside [mint, maxt].
Status MergeChunks(std::vector<ChunkData> chunks, int64_t mint, int64_t maxt,
                   std::unique_ptr<SampleIterator>* out);

}  // namespace tsvault::storage
