// The histogram record of a rollup window in a histogram rollup chunk
// (encoding 4; docs/chunk-format.md, "Histogram rollup chunk"). Internal to
// rollup_chunk.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "model/rollup.h"
#include "storage/chunkenc/bit_stream.h"

namespace tsvault::storage::rollup_coding {

// Appends the record of `window` (nullptr: unknown histograms, written as
// h_count 0) for a window (end_ms - resolution_ms, end_ms]. Its first
// histogram is coded against `previous_last`, the last histogram of the
// chunk's previous described window (nullptr for none). Returns an error
// message, or "" when the window is consistent and written.
std::string PutHistogramWindow(const model::HistogramWindow* window, const model::FloatHistogram* previous_last,
                               int64_t end_ms, int64_t resolution_ms, std::string* out);

// Reads a record written by PutHistogramWindow for the same window and
// `previous_last`; the input is untrusted. Sets *window to null for unknown
// histograms. Returns an error message, or "" on success.
std::string GetHistogramWindow(chunk_coding::ByteReader* reader, const model::FloatHistogram* previous_last,
                               int64_t end_ms, int64_t resolution_ms,
                               std::shared_ptr<const model::HistogramWindow>* window);

}  // namespace tsvault::storage::rollup_coding
