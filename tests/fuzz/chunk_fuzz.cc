// Fuzzes the chunk decoders: stored chunks are read back from disk, so any
// bytes must give samples or Corruption, never a crash, a hang or an
// allocation larger than the input justifies. Covers XOR float chunks,
// native histogram chunks and rollup chunks.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "storage/chunkenc/chunk.h"
#include "storage/chunkenc/rollup_chunk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tsvault;
  const std::string_view chunk(reinterpret_cast<const char*>(data), size);
  std::vector<model::Sample> floats;
  std::vector<model::Histogram> histograms;
  (void)storage::DecodeChunk(chunk, &floats, &histograms);
  int64_t resolution = 0;
  std::vector<model::FloatWindow> windows;
  (void)storage::DecodeRollupChunk(chunk, &resolution, &windows);
  return 0;
}
