#include "storage/wal_record.h"

#include "storage/chunkenc/chunk.h"
#include "storage/coding.h"

namespace tsvault::storage {

void WalRecordBuilder::AddFloats(uint64_t series_id, const Sample* samples, size_t count) {
  if (count == 0) return;
  data_.push_back(static_cast<char>(WalEntryKind::kFloatSamples));
  PutVarint64(&data_, series_id);
  PutVarint64(&data_, count);
  int64_t previous = 0;
  for (size_t i = 0; i < count; ++i) {
    // Modulo 2^64 (well defined for any pair of int64 timestamps); the
    // reader adds it back the same way.
    PutVarsint64(&data_, static_cast<int64_t>(static_cast<uint64_t>(samples[i].timestamp_ms) -
                                              static_cast<uint64_t>(previous)));
    previous = samples[i].timestamp_ms;
    PutDouble(&data_, samples[i].value);
  }
}

void WalRecordBuilder::AddHistograms(uint64_t series_id, const Histogram* histograms,
                                     size_t count) {
  if (count == 0) return;
  data_.push_back(static_cast<char>(WalEntryKind::kHistogramSamples));
  PutVarint64(&data_, series_id);
  PutVarint64(&data_, count);
  for (size_t i = 0; i < count; ++i) {
    // Each histogram is stored as a one-sample histogram chunk.
    HistogramChunkAppender appender;
    appender.Append(histograms[i]);
    PutLengthPrefixed(&data_, appender.bytes());
  }
}

Status DecodeWalRecord(std::string_view record,
                       const std::function<void(uint64_t, const Sample&)>& on_float,
                       const std::function<void(uint64_t, const Histogram&)>& on_histogram) {
  ByteReader reader(record);
  while (!reader.empty()) {
    uint8_t kind;
    uint64_t series_id, count;
    if (!reader.GetByte(&kind) || !reader.GetVarint64(&series_id) || !reader.GetVarint64(&count)) {
      return Status::Corruption("truncated WAL record entry header");
    }
    if (kind == static_cast<uint8_t>(WalEntryKind::kFloatSamples)) {
      int64_t previous = 0;
      for (uint64_t i = 0; i < count; ++i) {
        int64_t delta;
        Sample sample;
        if (!reader.GetVarsint64(&delta) || !reader.GetDouble(&sample.value)) {
          return Status::Corruption("truncated WAL float sample");
        }
        sample.timestamp_ms = static_cast<int64_t>(static_cast<uint64_t>(previous) + static_cast<uint64_t>(delta));
        previous = sample.timestamp_ms;
        on_float(series_id, sample);
      }
    } else if (kind == static_cast<uint8_t>(WalEntryKind::kHistogramSamples)) {
      for (uint64_t i = 0; i < count; ++i) {
        std::string_view chunk;
        if (!reader.GetLengthPrefixed(&chunk)) return Status::Corruption("truncated WAL histogram");
        ChunkIterator it(chunk);
        if (!it.Next() || !it.is_histogram()) {
          return Status::Corruption("bad WAL histogram: " + it.status().ToString());
        }
        on_histogram(series_id, it.histogram());
      }
    } else {
      return Status::Corruption("unknown WAL entry kind " + std::to_string(kind));
    }
  }
  return Status::OK();
}

}  // namespace tsvault::storage
