#include "storage/keys.h"

#include "model/rollup.h"

namespace tsvault::storage {

std::string SeriesKey(uint64_t series_id) {
  std::string key;
  PutFixed64BE(&key, series_id);
  return key;
}

void EncodeLabels(const Labels& labels, std::string* out) {
  PutVarint64(out, labels.size());
  for (const Label& label : labels) {
    PutLengthPrefixed(out, label.name);
    PutLengthPrefixed(out, label.value);
  }
}

bool DecodeLabels(std::string_view data, Labels* labels) {
  ByteReader reader(data);
  uint64_t count;
  if (!reader.GetVarint64(&count) || count > reader.remaining()) return false;
  labels->clear();
  labels->reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view name, value;
    if (!reader.GetLengthPrefixed(&name) || !reader.GetLengthPrefixed(&value)) return false;
    labels->push_back(Label{std::string(name), std::string(value)});
  }
  return reader.empty();
}

std::string SeriesHashKey(uint64_t hash, uint64_t series_id) {
  std::string key;
  key.reserve(16);
  PutFixed64BE(&key, hash);
  PutFixed64BE(&key, series_id);
  return key;
}

std::string HeadSeriesKey(uint64_t series_id) { return SeriesKey(series_id); }

std::string PostingKey(std::string_view name, std::string_view value, uint64_t series_id) {
  std::string key;
  key.reserve(name.size() + value.size() + 12);
  PutLengthPrefixed(&key, name);
  PutLengthPrefixed(&key, value);
  PutFixed64BE(&key, series_id);
  return key;
}

bool DecodePostingKey(std::string_view key, std::string_view* name, std::string_view* value,
                      uint64_t* series_id) {
  ByteReader reader(key);
  return reader.GetLengthPrefixed(name) && reader.GetLengthPrefixed(value) &&
         reader.GetFixed64BE(series_id) && reader.empty();
}

std::string ChunkKey(uint64_t series_id, int64_t min_time, uint64_t chunk_sequence) {
  std::string key;
  key.reserve(24);
  PutFixed64BE(&key, series_id);
  PutFixed64BE(&key, TimestampToKeyBits(min_time));
  PutFixed64BE(&key, chunk_sequence);
  return key;
}

std::string ChunkSeekKey(uint64_t series_id, int64_t t) {
  std::string key;
  key.reserve(16);
  PutFixed64BE(&key, series_id);
  PutFixed64BE(&key, TimestampToKeyBits(t));
  return key;
}

bool DecodeChunkKey(std::string_view key, ChunkKeyParts* parts) {
  if (key.size() != 24) return false;
  parts->series_id = DecodeFixed64BE(key.data());
  parts->min_time = KeyBitsToTimestamp(DecodeFixed64BE(key.data() + 8));
  parts->chunk_sequence = DecodeFixed64BE(key.data() + 16);
  return true;
}

void EncodeChunkValue(int64_t min_time, int64_t max_time, std::string_view chunk, std::string* out) {
  PutVarint64(out, static_cast<uint64_t>(max_time - min_time));
  out->append(chunk.data(), chunk.size());
}

bool DecodeChunkValue(std::string_view value, int64_t min_time, int64_t* max_time,
                      std::string_view* chunk) {
  ByteReader reader(value);
  uint64_t span;
  if (!reader.GetVarint64(&span)) return false;
  *max_time = min_time + static_cast<int64_t>(span);
  *chunk = reader.Rest();
  return true;
}

std::string ExemplarKey(uint64_t series_id, int64_t timestamp_ms) {
  std::string key;
  PutFixed64BE(&key, series_id);
  PutFixed64BE(&key, TimestampToKeyBits(timestamp_ms));
  return key;
}

std::string WalKey(uint64_t log_sequence) {
  std::string key;
  PutFixed64BE(&key, log_sequence);
  return key;
}

int64_t RollupSpanMs(int64_t resolution_ms) {
  switch (resolution_ms) {
    case model::kResolution5m: return model::kResolution1d;        // 288 windows
    case model::kResolution1h: return 10 * model::kResolution1d;   // 240 windows
    default: return 120 * model::kResolution1d;                    // 120 windows of 1d
  }
}

int64_t RollupSpanStart(int64_t end, int64_t resolution_ms) {
  // The span (start, start + span] holding `end`.
  return model::WindowEnd(end, RollupSpanMs(resolution_ms)) - RollupSpanMs(resolution_ms);
}

std::string RollupChunkKey(uint64_t series_id, int64_t span_start) {
  std::string key;
  key.reserve(16);
  PutFixed64BE(&key, series_id);
  PutFixed64BE(&key, TimestampToKeyBits(span_start));
  return key;
}

std::string RollupDirtyKey(int resolution_code, uint64_t series_id, int64_t span_start) {
  std::string key;
  key.reserve(17);
  key.push_back(static_cast<char>(resolution_code));
  PutFixed64BE(&key, series_id);
  PutFixed64BE(&key, TimestampToKeyBits(span_start));
  return key;
}

bool DecodeRollupDirtyKey(std::string_view key, int* resolution_code, uint64_t* series_id, int64_t* span_start) {
  if (key.size() != 17) return false;
  *resolution_code = static_cast<uint8_t>(key[0]);
  *series_id = DecodeFixed64BE(key.data() + 1);
  *span_start = KeyBitsToTimestamp(DecodeFixed64BE(key.data() + 9));
  return true;
}

std::string RollupWatermarkKey(int resolution_code) {
  switch (resolution_code) {
    case 1: return "rollup_watermark_5m";
    case 2: return "rollup_watermark_1h";
    default: return "rollup_watermark_1d";
  }
}

std::string RetentionCutoffKey(int level) {
  switch (level) {
    case 0: return "retention_cutoff_raw";
    case 1: return "retention_cutoff_5m";
    case 2: return "retention_cutoff_1h";
    default: return "retention_cutoff_1d";
  }
}

}  // namespace tsvault::storage
