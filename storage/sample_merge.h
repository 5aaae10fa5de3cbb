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

// Receives the samples of VisitMergedSamples in timestamp order.
class SampleVisitor {
 public:
  virtual ~SampleVisitor() = default;
  virtual void Float(int64_t t, double value) = 0;
  // `histogram` is valid only during the call.
  virtual void Histogram(int64_t t, const storage::Histogram& histogram) = 0;
};

// The samples MergeChunks would yield, handed to `visitor` one by one. When
// the chunks do not overlap in time (the usual case) they are decoded as a
// stream, without materializing and copying every sample.
Status VisitMergedSamples(std::vector<ChunkData> chunks, int64_t mint, int64_t maxt, SampleVisitor* visitor);

}  // namespace tsvault::storage
