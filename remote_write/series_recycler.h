// Per-thread reuse of the buffers of decoded requests: the SeriesWrite
// objects (with their sample vectors) and the series vector of one request
// are kept, cleared, for the next request the same thread handles, so the
// steady state of ingestion allocates no per-series memory for them.
#pragma once

#include <cstddef>
#include <vector>

#include "remote_write/decoder.h"
#include "storage/types.h"

namespace tsvault::remote_write {

class SeriesRecycler {
 public:
  // At most this many cleared series are kept, and only those whose sample
  // buffer holds at most kMaxKeptSamples (about 6 MiB per thread at most).
  static constexpr size_t kMaxSpareSeries = 16384;
  static constexpr size_t kMaxKeptSamples = 16;
  static constexpr size_t kMaxKeptSeriesCapacity = 65536;

  // The calling thread's recycler.
  static SeriesRecycler& ForThisThread();

  // Gives `decoded` (freshly constructed) the kept buffers: its
  // input.series vector and its spare_series.
  void Lend(IngestBatch* decoded);

  // Takes back, cleared, the series and spare series of a request that is
  // done; `decoded` keeps everything else.
  void Return(IngestBatch* decoded);

 private:
  std::vector<storage::SeriesWrite> spare_;
  std::vector<storage::SeriesWrite> series_buffer_;  // empty, capacity kept
};

}  // namespace tsvault::remote_write
