#include "storage/prometheus_tsdb/index_writer.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "storage/prometheus_tsdb/crc32c.h"
#include "storage/prometheus_tsdb/encoding.h"
#include "storage/prometheus_tsdb/file_writer.h"

namespace tsvault::prometheus_tsdb {

namespace {

constexpr uint32_t kIndexMagic = 0xBAAAD700;
constexpr uint8_t kIndexFormatV2 = 2;

// The sections' start offsets, in the order of the table of contents.
struct TableOfContents {
  uint64_t symbols = 0;
  uint64_t series = 0;
  uint64_t label_indices = 0;
  uint64_t label_offset_table = 0;
  uint64_t postings = 0;
  uint64_t postings_offset_table = 0;
};

// Writes `content` framed as most sections are: u32 length, the content,
// u32 CRC32C of the content.
Status WriteFramed(FileWriter* file, const std::string& content) {
  if (content.size() > UINT32_MAX) return Status::ResourceExhausted("index section exceeds 4 GiB");
  std::string header;
  PutBigEndian32(&header, static_cast<uint32_t>(content.size()));
  std::string trailer;
  PutBigEndian32(&trailer, Crc32c(content));
  Status s = file->Write(header);
  if (s.ok()) s = file->Write(content);
  if (s.ok()) s = file->Write(trailer);
  return s;
}

// The sorted, unique label names and values of all series and each one's
// position (a v2 symbol reference).
class SymbolTable {
 public:
  explicit SymbolTable(const std::vector<IndexSeries>& series) {
    for (const IndexSeries& entry : series) {
      for (const Label& label : entry.labels) {
        symbols_.push_back(label.name);
        symbols_.push_back(label.value);
      }
    }
    std::sort(symbols_.begin(), symbols_.end());
    symbols_.erase(std::unique(symbols_.begin(), symbols_.end()), symbols_.end());
    references_.reserve(symbols_.size());
    for (size_t i = 0; i < symbols_.size(); ++i) references_.emplace(symbols_[i], static_cast<uint32_t>(i));
  }

  const std::vector<std::string_view>& symbols() const { return symbols_; }
  uint32_t Reference(std::string_view symbol) const { return references_.at(symbol); }

 private:
  std::vector<std::string_view> symbols_;  // views into the series' labels
  std::unordered_map<std::string_view, uint32_t> references_;
};

// Appends a series entry's content (without its length and CRC).
void EncodeSeries(const IndexSeries& entry, const SymbolTable& symbols, std::string* out) {
  PutUvarint(out, entry.labels.size());
  for (const Label& label : entry.labels) {
    PutUvarint(out, symbols.Reference(label.name));
    PutUvarint(out, symbols.Reference(label.value));
  }
  PutUvarint(out, entry.chunks.size());
  const ChunkMeta& first = entry.chunks.front();
  PutVarint(out, first.min_time_ms);
  PutUvarint(out, static_cast<uint64_t>(first.max_time_ms - first.min_time_ms));
  PutUvarint(out, first.ref);
  for (size_t i = 1; i < entry.chunks.size(); ++i) {
    const ChunkMeta& previous = entry.chunks[i - 1];
    const ChunkMeta& chunk = entry.chunks[i];
    PutUvarint(out, static_cast<uint64_t>(chunk.min_time_ms - previous.max_time_ms));
    PutUvarint(out, static_cast<uint64_t>(chunk.max_time_ms - chunk.min_time_ms));
    PutVarint(out, static_cast<int64_t>(chunk.ref - previous.ref));
  }
}

Status CheckSeries(const std::vector<IndexSeries>& series) {
  for (size_t i = 0; i < series.size(); ++i) {
    if (series[i].chunks.empty()) return Status::InvalidArgument("index: a series without chunks");
    if (i > 0 && CompareLabels(series[i - 1].labels, series[i].labels) >= 0) {
      return Status::InvalidArgument("index: series out of label order");
    }
    for (size_t c = 0; c < series[i].chunks.size(); ++c) {
      const ChunkMeta& chunk = series[i].chunks[c];
      if (chunk.max_time_ms < chunk.min_time_ms ||
          (c > 0 && chunk.min_time_ms <= series[i].chunks[c - 1].max_time_ms)) {
        return Status::InvalidArgument("index: chunks of a series overlap or are out of order");
      }
    }
  }
  return Status::OK();
}

// Writes a postings list (padded to 4 bytes first) and returns its offset.
Status WritePostingsList(FileWriter* file, const std::vector<uint32_t>& references, uint64_t* offset) {
  Status s = file->PadTo(4);
  if (!s.ok()) return s;
  *offset = file->position();
  std::string content;
  content.reserve(4 + 4 * references.size());
  PutBigEndian32(&content, static_cast<uint32_t>(references.size()));
  for (uint32_t reference : references) PutBigEndian32(&content, reference);
  return WriteFramed(file, content);
}

}  // namespace

Status WriteIndex(const std::string& path, const std::vector<IndexSeries>& series) {
  Status s = CheckSeries(series);
  if (!s.ok()) return s;
  FileWriter file;
  if (!(s = file.Open(path)).ok()) return s;
  TableOfContents toc;
  std::string buffer;
  PutBigEndian32(&buffer, kIndexMagic);
  buffer.push_back(static_cast<char>(kIndexFormatV2));
  if (!(s = file.Write(buffer)).ok()) return s;

  // Symbols.
  const SymbolTable symbols(series);
  toc.symbols = file.position();
  buffer.clear();
  PutBigEndian32(&buffer, static_cast<uint32_t>(symbols.symbols().size()));
  for (std::string_view symbol : symbols.symbols()) PutLengthPrefixed(&buffer, symbol);
  if (!(s = WriteFramed(&file, buffer)).ok()) return s;

  // Series, each 16-byte aligned; its reference is offset / 16. Postings
  // are gathered on the way, keyed by (name symbol, value symbol): symbol
  // order is string order, so the keys sort as Prometheus lists them.
  toc.series = file.position();
  std::vector<uint32_t> all_series;
  all_series.reserve(series.size());
  std::unordered_map<uint64_t, std::vector<uint32_t>> postings;
  std::string content;
  for (const IndexSeries& entry : series) {
    if (!(s = file.PadTo(16)).ok()) return s;
    if (file.position() / 16 > UINT32_MAX) {
      return Status::ResourceExhausted("index: series entries exceed 64 GiB; use a shorter --block-duration");
    }
    const uint32_t reference = static_cast<uint32_t>(file.position() / 16);
    all_series.push_back(reference);
    content.clear();
    EncodeSeries(entry, symbols, &content);
    buffer.clear();
    PutUvarint(&buffer, content.size());
    buffer.append(content);
    PutBigEndian32(&buffer, Crc32c(content));
    if (!(s = file.Write(buffer)).ok()) return s;
    for (const Label& label : entry.labels) {
      const uint64_t key = uint64_t{symbols.Reference(label.name)} << 32 | symbols.Reference(label.value);
      postings[key].push_back(reference);
    }
  }
  std::vector<uint64_t> keys;
  keys.reserve(postings.size());
  for (const auto& [key, unused] : postings) keys.push_back(key);
  std::sort(keys.begin(), keys.end());

  // Label indices (no longer read by Prometheus, still part of the format):
  // per label name, the symbol references of its values.
  toc.label_indices = file.position();
  std::vector<std::pair<uint32_t, uint64_t>> label_index_offsets;  // name symbol, offset
  for (size_t i = 0; i < keys.size();) {
    const uint32_t name = static_cast<uint32_t>(keys[i] >> 32);
    size_t end = i;
    while (end < keys.size() && (keys[end] >> 32) == name) ++end;
    if (!(s = file.PadTo(4)).ok()) return s;
    label_index_offsets.emplace_back(name, file.position());
    buffer.clear();
    PutBigEndian32(&buffer, 1);  // names per entry
    PutBigEndian32(&buffer, static_cast<uint32_t>(end - i));
    for (size_t k = i; k < end; ++k) PutBigEndian32(&buffer, static_cast<uint32_t>(keys[k]));
    if (!(s = WriteFramed(&file, buffer)).ok()) return s;
    i = end;
  }

  // Postings: all series under ("", ""), then every label pair in order.
  toc.postings = file.position();
  std::vector<uint64_t> postings_offsets(keys.size() + 1);
  if (!(s = WritePostingsList(&file, all_series, &postings_offsets[0])).ok()) return s;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!(s = WritePostingsList(&file, postings[keys[i]], &postings_offsets[i + 1])).ok()) return s;
  }

  // Label offset table.
  toc.label_offset_table = file.position();
  buffer.clear();
  PutBigEndian32(&buffer, static_cast<uint32_t>(label_index_offsets.size()));
  for (const auto& [name, offset] : label_index_offsets) {
    PutUvarint(&buffer, 1);
    PutLengthPrefixed(&buffer, symbols.symbols()[name]);
    PutUvarint(&buffer, offset);
  }
  if (!(s = WriteFramed(&file, buffer)).ok()) return s;

  // Postings offset table.
  toc.postings_offset_table = file.position();
  buffer.clear();
  PutBigEndian32(&buffer, static_cast<uint32_t>(keys.size() + 1));
  PutUvarint(&buffer, 2);
  PutLengthPrefixed(&buffer, "");
  PutLengthPrefixed(&buffer, "");
  PutUvarint(&buffer, postings_offsets[0]);
  for (size_t i = 0; i < keys.size(); ++i) {
    PutUvarint(&buffer, 2);
    PutLengthPrefixed(&buffer, symbols.symbols()[keys[i] >> 32]);
    PutLengthPrefixed(&buffer, symbols.symbols()[static_cast<uint32_t>(keys[i])]);
    PutUvarint(&buffer, postings_offsets[i + 1]);
  }
  if (!(s = WriteFramed(&file, buffer)).ok()) return s;

  // Table of contents.
  buffer.clear();
  for (uint64_t offset : {toc.symbols, toc.series, toc.label_indices, toc.label_offset_table, toc.postings,
                          toc.postings_offset_table}) {
    PutBigEndian64(&buffer, offset);
  }
  PutBigEndian32(&buffer, Crc32c(buffer));
  if (!(s = file.Write(buffer)).ok()) return s;
  return file.SyncAndClose();
}

}  // namespace tsvault::prometheus_tsdb
