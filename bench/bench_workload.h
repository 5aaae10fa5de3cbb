// Shared by the storage benchmarks: the seed workload at a scale, and one
// scrape of it appended to a DB the way a sender would, in requests of
// `batch` series.
#pragma once

#include "storage/db.h"
#include "workload/seed_workload.h"

namespace tsvault::bench {

// The seed workload's options at `scale` (1.0: the recorded seed size),
// everything else default.
inline workload::WorkloadOptions SeedWorkloadOptions(double scale) {
  workload::WorkloadOptions options;
  options.scale = scale;
  return options;
}

// Advances `workload` to `timestamp_ms` and appends every series' sample.
// Returns the samples written, or a non-OK status.
inline Status AppendWorkloadStep(storage::DB* db, workload::SeedWorkload* workload,
                                 int64_t timestamp_ms, uint64_t* samples_written,
                                 size_t batch = 2000) {
  workload->Step(timestamp_ms);
  for (size_t begin = 0; begin < workload->num_series(); begin += batch) {
    storage::WriteInput input;
    workload->AppendSamples(begin, begin + batch, &input);
    storage::WriteResult result;
    Status s = db->Append(input, &result);
    if (!s.ok()) return s;
    *samples_written += result.samples_written;
  }
  return Status::OK();
}

}  // namespace tsvault::bench
