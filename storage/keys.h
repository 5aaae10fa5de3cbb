// Key layouts of the column families (internal; see docs/storage-format.md).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "common/labels.h"
#include "storage/coding.h"

namespace tsvault::storage {

// Keys of the default column family.
inline constexpr std::string_view kFormatVersionKey = "format_version";
inline constexpr std::string_view kChunkSequenceKey = "chunk_sequence";
inline constexpr uint64_t kFormatVersion = 1;

// Every chunk lies inside one aligned window of this many milliseconds, so a
// reader looking for data at time t only needs chunks whose min_time is at or
// after AlignToWindow(t).
inline constexpr int64_t kChunkWindowMs = 2 * 3600 * 1000;

inline int64_t AlignToWindow(int64_t t) {
  int64_t r = t % kChunkWindowMs;
  if (r < 0) {
    // The window start of a time in the first window below 0 that is not
    // representable (within kChunkWindowMs of INT64_MIN) is INT64_MIN.
    if (t < std::numeric_limits<int64_t>::min() + kChunkWindowMs) return std::numeric_limits<int64_t>::min();
    r += kChunkWindowMs;
  }
  return t - r;
}

// Where a reader must start looking for chunks that may hold data at or
// after `t` (safe for the extreme "no lower bound" times).
inline int64_t WindowSeekStart(int64_t t) {
  if (t <= std::numeric_limits<int64_t>::min() / 2) return std::numeric_limits<int64_t>::min();
  return AlignToWindow(t);
}

// series: series_id (8, BE) -> encoded labels.
std::string SeriesKey(uint64_t series_id);
void EncodeLabels(const Labels& labels, std::string* out);
bool DecodeLabels(std::string_view data, Labels* labels);

// series_hashes: HashLabels(labels) (8, BE) series_id (8, BE) -> "". Finds
// the id of a series that is not resident by its label set (several ids
// share a prefix only when label hashes collide).
std::string SeriesHashKey(uint64_t hash, uint64_t series_id);

// head_series: series_id (8, BE) -> "". The series resident in the head:
// loaded at start-up; every other series has no sample after
// kEvictedUntilKey.
std::string HeadSeriesKey(uint64_t series_id);

// default: "index_layout" -> u64 BE 2 once series_hashes and head_series
// are complete (directories created before them are migrated at open).
inline constexpr std::string_view kIndexLayoutKey = "index_layout";
inline constexpr uint64_t kIndexLayout = 2;
// default: "evicted_until" -> sign-flipped (8, BE): no series outside
// head_series has a sample after it; absent: no series was ever evicted.
inline constexpr std::string_view kEvictedUntilKey = "evicted_until";
// default: "series_ids" -> next_series_id (8, BE) removed_series (8, BE):
// ids below the first were handed out (never again), and that many of them
// were removed since (written by checkpoints and series removals).
inline constexpr std::string_view kSeriesIdsKey = "series_ids";

// postings: varint(len name) name varint(len value) value series_id (8, BE) -> "".
std::string PostingKey(std::string_view name, std::string_view value, uint64_t series_id);
bool DecodePostingKey(std::string_view key, std::string_view* name, std::string_view* value,
                      uint64_t* series_id);

// chunks: series_id (8, BE) min_time (8, BE, sign-flipped) chunk_sequence (8, BE)
//   -> varint(max_time - min_time) chunk bytes.
std::string ChunkKey(uint64_t series_id, int64_t min_time, uint64_t chunk_sequence);
// A key prefix for seeking to the first chunk of `series_id` with min_time >= t.
std::string ChunkSeekKey(uint64_t series_id, int64_t t);
struct ChunkKeyParts {
  uint64_t series_id;
  int64_t min_time;
  uint64_t chunk_sequence;
};
bool DecodeChunkKey(std::string_view key, ChunkKeyParts* parts);
void EncodeChunkValue(int64_t min_time, int64_t max_time, std::string_view chunk, std::string* out);
bool DecodeChunkValue(std::string_view value, int64_t min_time, int64_t* max_time,
                      std::string_view* chunk);

// exemplars: series_id (8, BE) timestamp (8, BE, sign-flipped) -> encoded exemplar.
std::string ExemplarKey(uint64_t series_id, int64_t timestamp_ms);

// wal: log_sequence (8, BE) -> log record (storage/wal_record.h).
std::string WalKey(uint64_t log_sequence);
// default: "wal_checkpointed" -> u64be: every WAL record before it is in the
// chunk store (recovery replays from it; older records are kept only for
// log consumers).
inline constexpr std::string_view kWalCheckpointedKey = "wal_checkpointed";
// default: "log_consumer/<name>" -> u64be position of a write log consumer.
inline constexpr std::string_view kLogConsumerPrefix = "log_consumer/";

// Rollups (docs/storage-format.md, "Rollups"). The windows of one series at
// one resolution are stored in spans: one rollup chunk per (series, span),
// holding the span's windows (ends in (span_start, span_start + span]).
// The span of each resolution.
int64_t RollupSpanMs(int64_t resolution_ms);
// The start (exclusive) of the span holding the window that ends at `end`.
int64_t RollupSpanStart(int64_t end, int64_t resolution_ms);
// chunks_5m, chunks_1h, chunks_1d: series_id (8, BE) span_start (8, BE,
// sign-flipped) -> rollup chunk (encoding 3).
std::string RollupChunkKey(uint64_t series_id, int64_t span_start);
// rollup_dirty: resolution code (1 byte: 1 = 5m, 2 = 1h, 3 = 1d) series_id
// (8, BE) span_start (8, BE, sign-flipped) -> mark sequence (8, BE) and the
// wall-clock ms of the write (8, BE). A span whose stored windows late
// samples made stale.
std::string RollupDirtyKey(int resolution_code, uint64_t series_id, int64_t span_start);
bool DecodeRollupDirtyKey(std::string_view key, int* resolution_code, uint64_t* series_id, int64_t* span_start);
// default: "rollup_watermark_<5m|1h|1d>" -> sign-flipped (8, BE): every
// window of that resolution ending at or before it is stored (or dirty).
std::string RollupWatermarkKey(int resolution_code);

// default: "retention_cutoff_<raw|5m|1h|1d>" (level 0..3) -> sign-flipped
// (8, BE): DB::RetentionCutoff of that level; absent: INT64_MIN.
std::string RetentionCutoffKey(int level);

}  // namespace tsvault::storage
