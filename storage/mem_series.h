// One series in the head: its labels, its open chunk, chunks cut but not yet
// persisted, and out-of-order samples waiting for the next checkpoint
// (internal). Not thread-safe: DBImpl::head_mutex_ guards every MemSeries.
// REQUIRES: head_mutex_ held shared for const methods, exclusively for the
// others; id(), hash(), encoded_labels() and labels() read only immutable
// fields and need no lock.
#pragma once

#include <cstdint>
#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/labels.h"
#include "storage/chunkenc/chunk.h"
#include "storage/types.h"

namespace tsvault::storage {

// Samples per chunk before the head cuts a new one. Chunks are also cut at
// window boundaries (kChunkWindowMs) and when the sample kind changes.
inline constexpr uint16_t kTargetSamplesPerChunk = 240;

// The outcome of offering one sample to a series.
enum class AppendOutcome {
  kAppended,   // new sample
  kDuplicate,  // same timestamp and identical value already held: stored once
  kConflict,   // same timestamp, different value: rejected (first write wins)
};

// A chunk's bytes with the identity it is persisted under.
struct ChunkData {
  uint64_t sequence = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  std::string bytes;
};

// Allocates chunk sequence numbers (unique, increasing, persisted at checkpoints).
// Not thread-safe; DBImpl's instance is guarded by head_mutex_.
class ChunkSequencer {
 public:
  explicit ChunkSequencer(uint64_t next) : next_(next) {}
  uint64_t Next() { return next_++; }
  uint64_t peek() const { return next_; }

 private:
  uint64_t next_;
};

class MemSeries {
 public:
  // `encoded_labels` is the canonical label set in the `series` column
  // family's value format (keys.h EncodeLabels): one compact allocation
  // instead of a vector of strings.
  MemSeries(uint64_t id, std::string encoded_labels, uint64_t hash)
      : id_(id), hash_(hash), encoded_labels_(std::move(encoded_labels)) {}

  uint64_t id() const { return id_; }
  uint64_t hash() const { return hash_; }
  const std::string& encoded_labels() const { return encoded_labels_; }
  // Decodes the label set (allocates; not for the ingest hot path).
  Labels labels() const;

  // True once the series' own records (series + postings) are in RocksDB.
  bool persisted() const { return persisted_; }
  void set_persisted(bool persisted) { persisted_ = persisted; }
  // Tells apart the MemSeries objects one id had over time (a series
  // evicted and loaded again is a new object): set once by DBImpl.
  uint64_t incarnation() const { return incarnation_; }
  void set_incarnation(uint64_t incarnation) { incarnation_ = incarnation; }
  // True once its head_series key (keys.h HeadSeriesKey) is in RocksDB.
  bool in_head_set() const { return in_head_set_; }
  void set_in_head_set(bool in_head_set) { in_head_set_ = in_head_set; }
  // The latest sample time known to be stored for the series, memory and
  // disk (INT64_MIN when not known yet); kept by eviction checks so a
  // series loaded from disk is looked up on disk once.
  int64_t known_last_time() const { return std::max(known_last_time_, last_timestamp_); }
  void note_last_time(int64_t t) { known_last_time_ = std::max(known_last_time_, t); }
  // Whether known_last_time() covers what is on disk (a new series, or one
  // whose stored chunks were looked at).
  bool disk_time_known() const { return disk_time_known_; }
  void note_disk_time_known() { disk_time_known_ = true; }

  AppendOutcome AppendFloat(const Sample& sample, ChunkSequencer* sequencer);
  AppendOutcome AppendHistogram(const Histogram& histogram, ChunkSequencer* sequencer);

  // Time range of the samples held in memory (min > max when none).
  int64_t min_time() const { return min_time_; }
  int64_t max_time() const { return max_time_; }
  uint64_t samples_in_memory() const;
  bool has_open_chunk() const { return float_chunk_ != nullptr || histogram_chunk_ != nullptr; }
  int64_t last_timestamp() const { return last_timestamp_; }
  bool has_unpersisted_data() const;

  // Copies of every chunk held in memory that may overlap [mint, maxt]:
  // the open chunk, cut chunks and the out-of-order samples (encoded).
  void SnapshotChunks(int64_t mint, int64_t maxt, std::vector<ChunkData>* out) const;

  // Chunks to write at a checkpoint: cut chunks, the open chunk if it
  // changed, out-of-order samples encoded as chunks (new sequences).
  // REQUIRES: head_mutex_ held exclusively from here until CheckpointDone().
  void CollectForCheckpoint(ChunkSequencer* sequencer, std::vector<ChunkData>* out) const;
  // After the checkpoint's write succeeded: drop what was written. When
  // `close_open_chunk` the open chunk is released too (the series went
  // quiet; the next sample starts a new chunk).
  void CheckpointDone(bool close_open_chunk);

 private:
  struct OutOfOrder {
    std::vector<Sample> floats;          // sorted by timestamp
    std::vector<Histogram> histograms;   // sorted by timestamp
  };

  bool OpenChunkAccepts(int64_t t, bool histogram) const;
  void CutOpenChunk();
  void StartChunk(int64_t t, bool histogram, ChunkSequencer* sequencer);
  // Looks for a sample at `t` held in memory. Returns true when found and
  // fills the value (float) or histogram.
  bool FindFloat(int64_t t, double* value) const;
  bool FindHistogram(int64_t t, Histogram* histogram) const;
  void NoteTime(int64_t t);
  // Encodes sorted out-of-order samples as chunks (split at windows and at
  // the per-chunk limit), with sequences from `next_sequence`.
  void EncodeOutOfOrder(const std::function<uint64_t()>& next_sequence,
                        std::vector<ChunkData>* out) const;

  // Immutable after construction; no lock.
  const uint64_t id_;
  const uint64_t hash_;
  const std::string encoded_labels_;
  // Everything below is guarded by DBImpl::head_mutex_.
  bool persisted_ = false;
  bool in_head_set_ = false;
  uint64_t incarnation_ = 0;
  int64_t known_last_time_ = std::numeric_limits<int64_t>::min();
  bool disk_time_known_ = false;

  // The open (in-order) chunk: at most one of the two appenders is set.
  std::unique_ptr<XorChunkAppender> float_chunk_;
  std::unique_ptr<HistogramChunkAppender> histogram_chunk_;
  uint64_t open_sequence_ = 0;
  int64_t open_window_ = 0;
  bool open_dirty_ = false;
  int64_t last_timestamp_ = std::numeric_limits<int64_t>::min();

  std::vector<ChunkData> cut_chunks_;     // cut, waiting for a checkpoint
  std::unique_ptr<OutOfOrder> out_of_order_;

  int64_t min_time_ = std::numeric_limits<int64_t>::max();
  int64_t max_time_ = std::numeric_limits<int64_t>::min();
};

}  // namespace tsvault::storage
