// A test-only reader of Prometheus blocks, written from Prometheus' format
// documents (tsdb/docs/format/{index,chunks,tombstones}.md) and not from our
// writer: walks the TOC, checks every CRC, reads the symbols, the all-series
// postings, each series entry and its chunks, and cross-checks the label
// postings and the offset tables. Returns a description of the first
// problem, or "".
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "model/value.h"
#include "storage/prometheus_tsdb/crc32c.h"
#include "storage/prometheus_tsdb/xor_chunk.h"

namespace tsvault::prometheus_tsdb::testing {

struct ReadChunk {
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  uint64_t ref = 0;
  std::vector<model::Sample> samples;
};

struct ReadSeries {
  Labels labels;
  std::vector<ReadChunk> chunks;
};

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Sequential big-endian / varint decoding with bounds checks.
class Decoder {
 public:
  Decoder(std::string_view data, size_t position) : data_(data), position_(position) {}
  bool ok() const { return ok_; }
  size_t position() const { return position_; }
  uint32_t U32() {
    if (!Need(4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(data_[position_++]);
    return v;
  }
  uint64_t U64() {
    const uint64_t high = U32();
    return high << 32 | U32();
  }
  uint8_t U8() { return Need(1) ? static_cast<uint8_t>(data_[position_++]) : 0; }
  uint64_t Uvarint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const uint8_t b = U8();
      v |= uint64_t{b & 0x7Fu} << shift;
      if (b < 0x80) return v;
    }
    ok_ = false;
    return 0;
  }
  int64_t Varint() {
    const uint64_t u = Uvarint();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  std::string_view Bytes(size_t n) {
    if (!Need(n)) return {};
    std::string_view out = data_.substr(position_, n);
    position_ += n;
    return out;
  }
  std::string_view LengthPrefixed() { return Bytes(Uvarint()); }

 private:
  bool Need(size_t n) {
    if (!ok_ || position_ + n > data_.size()) ok_ = false;
    return ok_;
  }
  std::string_view data_;
  size_t position_;
  bool ok_ = true;
};

// Checks a `len | content | crc` section at `offset`; sets *content.
inline std::string ReadFramed(std::string_view file, uint64_t offset, std::string_view* content) {
  Decoder d(file, offset);
  const uint32_t length = d.U32();
  *content = d.Bytes(length);
  const uint32_t crc = d.U32();
  if (!d.ok()) return "section at " + std::to_string(offset) + " truncated";
  if (crc != Crc32c(*content)) return "bad CRC of the section at " + std::to_string(offset);
  return "";
}

// Reads a chunk by reference from the block's segment files.
inline std::string ReadChunkData(const std::vector<std::string>& segments, uint64_t ref, std::vector<model::Sample>* out) {
  const size_t segment = ref >> 32;
  const size_t offset = ref & 0xFFFFFFFF;
  if (segment >= segments.size()) return "chunk ref into a missing segment";
  const std::string& file = segments[segment];
  Decoder d(file, offset);
  const uint64_t length = d.Uvarint();
  const size_t checked_from = d.position();
  const uint8_t encoding = d.U8();
  const std::string_view data = d.Bytes(length);
  const std::string_view checked = std::string_view(file).substr(checked_from, 1 + length);
  const uint32_t crc = d.U32();
  if (!d.ok()) return "chunk truncated";
  if (encoding != 1) return "chunk encoding " + std::to_string(encoding) + " is not XOR";
  if (crc != Crc32c(checked)) return "bad chunk CRC";
  Status s = DecodeXorChunk(data, out);
  return s.ok() ? "" : s.ToString();
}

inline std::string ReadBlock(const std::string& directory, std::vector<ReadSeries>* out) {
  out->clear();
  // Chunk segments.
  std::vector<std::string> segments;
  for (int i = 1;; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "/%06d", i);
    std::ifstream probe(directory + "/chunks" + name);
    if (!probe) break;
    segments.push_back(ReadWholeFile(directory + "/chunks" + name));
    Decoder d(segments.back(), 0);
    if (d.U32() != 0x85BD40DD || d.U8() != 1) return "bad chunk segment header";
  }
  const std::string index = ReadWholeFile(directory + "/index");
  if (index.size() < 5 + 52) return "index too short";
  Decoder header(index, 0);
  if (header.U32() != 0xBAAAD700 || header.U8() != 2) return "bad index header";
  const std::string_view toc_bytes = std::string_view(index).substr(index.size() - 52, 48);
  Decoder toc(index, index.size() - 52);
  uint64_t offsets[6];
  for (uint64_t& o : offsets) o = toc.U64();
  if (toc.U32() != Crc32c(toc_bytes)) return "bad TOC CRC";
  const uint64_t symbols_at = offsets[0], series_at = offsets[1], label_offsets_at = offsets[3],
                 postings_table_at = offsets[5];
  (void)series_at;

  std::string_view content;
  std::string error = ReadFramed(index, symbols_at, &content);
  if (!error.empty()) return "symbols: " + error;
  std::vector<std::string_view> symbols;
  Decoder sd(content, 0);
  const uint32_t symbol_count = sd.U32();
  for (uint32_t i = 0; i < symbol_count; ++i) symbols.push_back(sd.LengthPrefixed());
  if (!sd.ok() || sd.position() != content.size()) return "symbols malformed";
  if (!std::is_sorted(symbols.begin(), symbols.end()) ||
      std::adjacent_find(symbols.begin(), symbols.end()) != symbols.end()) {
    return "symbols not sorted and unique";
  }

  // Postings offset table: (name, value) -> offset of the postings list.
  if (!(error = ReadFramed(index, postings_table_at, &content)).empty()) return "postings table: " + error;
  std::map<std::pair<std::string, std::string>, std::vector<uint32_t>> postings;
  std::vector<std::pair<std::string, std::string>> order;
  Decoder pd(content, 0);
  const uint32_t lists = pd.U32();
  for (uint32_t i = 0; i < lists; ++i) {
    if (pd.Uvarint() != 2) return "postings table entry without 2 keys";
    std::string name(pd.LengthPrefixed()), value(pd.LengthPrefixed());
    const uint64_t at = pd.Uvarint();
    std::string_view list;
    if (at % 4 != 0) return "postings list not 4-byte aligned";
    if (!(error = ReadFramed(index, at, &list)).empty()) return "postings list: " + error;
    Decoder ld(list, 0);
    const uint32_t n = ld.U32();
    std::vector<uint32_t> refs;
    for (uint32_t k = 0; k < n; ++k) refs.push_back(ld.U32());
    if (!ld.ok() || ld.position() != list.size()) return "postings list malformed";
    order.emplace_back(name, value);
    postings[{name, value}] = refs;
  }
  if (!pd.ok() || pd.position() != content.size()) return "postings table malformed";
  if (order.empty() || order[0] != std::pair<std::string, std::string>{"", ""}) return "no all-series postings first";
  if (!std::is_sorted(order.begin() + 1, order.end())) return "postings table not sorted";

  // Label offset table: every name has a label index listing its values.
  if (!(error = ReadFramed(index, label_offsets_at, &content)).empty()) return "label offset table: " + error;
  Decoder lo(content, 0);
  const uint32_t names = lo.U32();
  std::map<std::string, std::vector<std::string>> label_values;
  for (uint32_t i = 0; i < names; ++i) {
    if (lo.Uvarint() != 1) return "label offset entry without 1 key";
    const std::string name(lo.LengthPrefixed());
    std::string_view label_index;
    if (!(error = ReadFramed(index, lo.Uvarint(), &label_index)).empty()) return "label index: " + error;
    Decoder li(label_index, 0);
    if (li.U32() != 1) return "label index with more than one name";
    const uint32_t values = li.U32();
    for (uint32_t k = 0; k < values; ++k) {
      const uint32_t ref = li.U32();
      if (ref >= symbols.size()) return "label index value out of the symbol table";
      label_values[name].emplace_back(symbols[ref]);
    }
  }
  for (const auto& [key, refs] : postings) {
    if (key.first.empty()) continue;
    const auto& values = label_values[key.first];
    if (std::find(values.begin(), values.end(), key.second) == values.end()) return "label index misses a value";
  }

  // Series, through the all-series postings.
  std::map<std::pair<std::string, std::string>, std::vector<uint32_t>> seen;
  for (uint32_t ref : postings[{"", ""}]) {
    Decoder d(index, uint64_t{ref} * 16);
    const uint64_t length = d.Uvarint();
    const std::string_view entry = d.Bytes(length);
    const uint32_t crc = d.U32();
    if (!d.ok()) return "series entry truncated";
    if (crc != Crc32c(entry)) return "bad series CRC";
    Decoder e(entry, 0);
    ReadSeries series;
    const uint64_t label_count = e.Uvarint();
    for (uint64_t i = 0; i < label_count; ++i) {
      const uint64_t name = e.Uvarint(), value = e.Uvarint();
      if (name >= symbols.size() || value >= symbols.size()) return "label ref out of the symbol table";
      series.labels.push_back(Label{std::string(symbols[name]), std::string(symbols[value])});
      seen[{std::string(symbols[name]), std::string(symbols[value])}].push_back(ref);
    }
    const uint64_t chunk_count = e.Uvarint();
    int64_t previous_max = 0;
    uint64_t previous_ref = 0;
    for (uint64_t i = 0; i < chunk_count; ++i) {
      ReadChunk chunk;
      if (i == 0) {
        chunk.min_time_ms = e.Varint();
        chunk.max_time_ms = chunk.min_time_ms + static_cast<int64_t>(e.Uvarint());
        chunk.ref = e.Uvarint();
      } else {
        chunk.min_time_ms = previous_max + static_cast<int64_t>(e.Uvarint());
        chunk.max_time_ms = chunk.min_time_ms + static_cast<int64_t>(e.Uvarint());
        chunk.ref = previous_ref + static_cast<uint64_t>(e.Varint());
      }
      previous_max = chunk.max_time_ms;
      previous_ref = chunk.ref;
      if (!(error = ReadChunkData(segments, chunk.ref, &chunk.samples)).empty()) return error;
      if (chunk.samples.empty() || chunk.samples.front().timestamp_ms != chunk.min_time_ms ||
          chunk.samples.back().timestamp_ms != chunk.max_time_ms) {
        return "chunk meta times differ from the chunk's samples";
      }
      series.chunks.push_back(std::move(chunk));
    }
    if (!e.ok() || e.position() != entry.size()) return "series entry malformed";
    if (!out->empty() && CompareLabels(out->back().labels, series.labels) >= 0) return "series out of order";
    out->push_back(std::move(series));
  }
  for (const auto& [key, refs] : postings) {
    if (!key.first.empty() && seen[key] != refs) return "postings of " + key.first + "=" + key.second + " differ";
  }
  if (seen.size() + 1 != postings.size()) return "a label pair has no postings list";
  return "";
}

}  // namespace tsvault::prometheus_tsdb::testing
