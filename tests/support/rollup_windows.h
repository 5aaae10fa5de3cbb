// Checks rollup windows read through storage::SeriesSet::Windows against
// windows built from the raw samples of the same selection.
#pragma once

#include <cstdint>
#include <string>

#include "model/float_histogram.h"
#include "storage/db.h"

namespace tsvault::testing {

// True when two histograms have the same structure and values: bit for bit
// when `exact`, else within 1e-12 relative.
bool HistogramsClose(const model::FloatHistogram& a, const model::FloatHistogram& e, bool exact);

// For every series with data in [start_ms, end_ms] and every resolution
// (5m, 1h, 1d): the windows Windows() returns must equal those a
// model::FloatWindowBuilder makes from the raw samples. 5m windows must match
// bit for bit; coarser ones, merged from finer windows, may differ in the
// sum and the reset compensations (float and histogram) by 1e-12 relative. `start_ms` must be a
// multiple of 1d. Returns the first difference, or "" when all match.
// *windows_compared counts the windows checked.
std::string CompareWindowsWithRaw(storage::DB* db, int64_t start_ms, int64_t end_ms, uint64_t* windows_compared);

}  // namespace tsvault::testing
