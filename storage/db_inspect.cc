// DB::Inspect: what each resolution holds, from chunk keys and headers.
#include <rocksdb/db.h>

#include <algorithm>

#include "storage/chunkenc/chunk.h"
#include "storage/coding.h"
#include "storage/db_impl.h"
#include "storage/keys.h"

namespace tsvault::storage {

namespace {

uint64_t FamilyBytes(rocksdb::DB* rocks, rocksdb::ColumnFamilyHandle* handle) {
  uint64_t sst = 0, memtable = 0;
  rocks->GetIntProperty(handle, "rocksdb.total-sst-files-size", &sst);
  rocks->GetIntProperty(handle, "rocksdb.cur-size-all-mem-tables", &memtable);
  return sst + memtable;
}

}  // namespace

Status DBImpl::Inspect(std::vector<ResolutionSummary>* out) {
  out->clear();
  // Raw: every persisted chunk's key (series, min time), its value's time
  // span and the sample count in its header.
  {
    ResolutionSummary raw;
    raw.bytes = FamilyBytes(rocks_, cf(kChunks));
    raw.retention_cutoff_ms = retention_cutoff_[0].load(std::memory_order_acquire);
    std::unique_ptr<rocksdb::Iterator> it = NewChunkIterator();
    uint64_t last_series = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ChunkKeyParts parts;
      if (!DecodeChunkKey(std::string_view(it->key().data(), it->key().size()), &parts)) {
        return Status::Corruption("bad chunk key");
      }
      if (parts.min_time < raw.retention_cutoff_ms) continue;  // dropped, not compacted away yet
      int64_t max_time;
      std::string_view chunk;
      if (!DecodeChunkValue(std::string_view(it->value().data(), it->value().size()), parts.min_time, &max_time,
                            &chunk) ||
          chunk.size() < kChunkHeaderBytes) {
        return Status::Corruption("bad chunk value for series " + std::to_string(parts.series_id));
      }
      if (parts.series_id != last_series) ++raw.series;
      last_series = parts.series_id;
      ++raw.chunks;
      raw.points += (static_cast<uint64_t>(static_cast<uint8_t>(chunk[1])) << 8) | static_cast<uint8_t>(chunk[2]);
      raw.min_time_ms = std::min(raw.min_time_ms, parts.min_time);
      raw.max_time_ms = std::max(raw.max_time_ms, max_time);
    }
    Status s = FromRocks(it->status());
    if (!s.ok()) return s;
    out->push_back(raw);
  }
  // Rollups: one chunk per (series, span); the window count is in the
  // header and the first window's end is the first field. The last window's
  // end would need a full decode: the span's end (at most the watermark)
  // stands in for it.
  const int64_t resolutions[3] = {model::kResolution5m, model::kResolution1h, model::kResolution1d};
  for (int index = 0; index < 3; ++index) {
    ResolutionSummary rollup;
    rollup.resolution_ms = resolutions[index];
    rollup.sealed_until_ms = rollup_sealed_[index].load(std::memory_order_acquire);
    rollup.retention_cutoff_ms = retention_cutoff_[index + 1].load(std::memory_order_acquire);
    const ColumnFamilyIndex family = RollupFamily(index);
    rollup.bytes = FamilyBytes(rocks_, cf(family));
    std::unique_ptr<rocksdb::Iterator> it(rocks_->NewIterator(rocksdb::ReadOptions(), cf(family)));
    uint64_t last_series = 0;
    const int64_t span = RollupSpanMs(resolutions[index]);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 16 || it->value().size() < 4) return Status::Corruption("bad rollup chunk key or value");
      const uint64_t series_id = DecodeFixed64BE(it->key().data());
      const int64_t span_start = KeyBitsToTimestamp(DecodeFixed64BE(it->key().data() + 8));
      if (span_start < rollup.retention_cutoff_ms) continue;  // dropped, not compacted away yet
      if (series_id != last_series) ++rollup.series;
      last_series = series_id;
      ++rollup.chunks;
      rollup.points += (static_cast<uint64_t>(static_cast<uint8_t>(it->value()[2])) << 8) |
                       static_cast<uint8_t>(it->value()[3]);
      // The first window's end is the chunk's first field: <varint> end / res.
      uint64_t raw_index = 0;
      int shift = 0;
      for (size_t i = 4; i < it->value().size() && shift < 64; ++i, shift += 7) {
        const uint8_t byte = static_cast<uint8_t>(it->value()[i]);
        raw_index |= static_cast<uint64_t>(byte & 0x7f) << shift;
        if (byte < 0x80) break;
      }
      const int64_t first_end = static_cast<int64_t>((raw_index >> 1) ^ (~(raw_index & 1) + 1)) * resolutions[index];
      rollup.min_time_ms = std::min(rollup.min_time_ms, first_end > span_start ? first_end : span_start + resolutions[index]);
      rollup.max_time_ms = std::max(rollup.max_time_ms, std::min(span_start + span, rollup.sealed_until_ms));
    }
    Status s = FromRocks(it->status());
    if (!s.ok()) return s;
    out->push_back(rollup);
  }
  return Status::OK();
}

}  // namespace tsvault::storage
