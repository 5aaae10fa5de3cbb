// Rollup chunks: runs of consecutive rollup windows of one series at one
// resolution (model/rollup.h), byte-aligned and XOR-coded against the
// previous window. Encoding 3 holds float windows; encoding 4 adds a
// histogram record to the windows that hold native histograms. Layout:
// docs/chunk-format.md, "Float rollup chunk" and "Histogram rollup chunk".
// Every field round-trips bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/rollup.h"

namespace tsvault::storage {

// Most windows one rollup chunk holds.
inline constexpr size_t kMaxWindowsPerRollupChunk = 65535;

// Encodes `windows` (1..kMaxWindowsPerRollupChunk, ends strictly increasing
// multiples of `resolution_ms`, which must be 5m, 1h or 1d) into *out.
// Writes encoding 4 when some window has `histograms`, else encoding 3 (in
// which windows with unknown histograms keep their flag). InvalidArgument
// when the input breaks these rules or a window is not self-consistent (a
// first sample outside its window, a window without samples that does not
// end stale or hold histograms).
Status EncodeRollupChunk(int64_t resolution_ms, const std::vector<model::FloatWindow>& windows, std::string* out);

// Decodes a rollup chunk of either encoding; input is untrusted. Corruption for anything that
// EncodeRollupChunk cannot have produced (truncation, trailing bytes,
// reserved bits, windows out of order, times outside their window).
Status DecodeRollupChunk(std::string_view chunk, int64_t* resolution_ms, std::vector<model::FloatWindow>* windows);

}  // namespace tsvault::storage
