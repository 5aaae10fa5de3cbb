// ChunkIterator's header parsing and dispatch, and DecodeChunk. The
// per-encoding decoders live in xor_chunk_iterator.cc and
// histogram_chunk_iterator.cc.
#include <algorithm>

#include "storage/chunkenc/chunk.h"

namespace tsvault::storage {

using chunk_coding::BitReader;
using chunk_coding::ByteReader;

namespace {

// Makes room for `more` elements, growing geometrically so that decoding
// many chunks into one vector stays linear.
template <typename T>
void ReserveMore(std::vector<T>* v, size_t more) {
  const size_t needed = v->size() + more;
  if (needed > v->capacity()) v->reserve(std::max(needed, 2 * v->capacity()));
}

}  // namespace

ChunkIterator::ChunkIterator(std::string_view chunk) {
  if (chunk.size() < kChunkHeaderBytes) {
    Fail("chunk shorter than its header");
    return;
  }
  const auto* data = reinterpret_cast<const uint8_t*>(chunk.data());
  total_ = static_cast<uint16_t>((data[1] << 8) | data[2]);
  const std::string_view stream = chunk.substr(kChunkHeaderBytes);
  switch (data[0]) {
    case static_cast<uint8_t>(ChunkEncoding::kXor):
      encoding_ = ChunkEncoding::kXor;
      bits_ = BitReader(data + kChunkHeaderBytes, stream.size());
      break;
    case static_cast<uint8_t>(ChunkEncoding::kHistogram):
      encoding_ = ChunkEncoding::kHistogram;
      bytes_ = ByteReader(stream);
      break;
    default:
      total_ = 0;
      Fail("unknown chunk encoding");
      return;
  }
}

bool ChunkIterator::Fail(std::string_view message) {
  done_ = true;
  status_ = Status::Corruption(message);
  return false;
}

Status DecodeChunk(std::string_view chunk, std::vector<model::Sample>* floats,
                   std::vector<model::Histogram>* histograms) {
  ChunkIterator it(chunk);
  if (!it.status().ok()) return it.status();
  if (it.is_histogram()) {
    if (histograms == nullptr) return Status::InvalidArgument("histogram chunk without output");
    // A histogram sample takes at least 5 bytes; do not trust the header beyond that.
    const size_t plausible = (chunk.size() - kChunkHeaderBytes) / 5;
    ReserveMore(histograms, std::min<size_t>(it.num_samples(), plausible));
    while (it.Next()) histograms->push_back(it.histogram());
  } else {
    if (floats == nullptr) return Status::InvalidArgument("float chunk without output");
    // A float sample takes at least 2 bits; do not trust the header beyond that.
    const size_t plausible = (chunk.size() - kChunkHeaderBytes) * 4;
    ReserveMore(floats, std::min<size_t>(it.num_samples(), plausible));
    while (it.Next()) floats->push_back(model::Sample{it.timestamp(), it.value()});
  }
  return it.status();
}

}  // namespace tsvault::storage
