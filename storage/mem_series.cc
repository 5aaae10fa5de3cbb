#include "storage/mem_series.h"

#include <algorithm>
#include <cstring>

#include "storage/keys.h"

namespace tsvault::storage {

namespace {
bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

// Sequence used for out-of-order samples still in memory: newer than any
// persisted chunk, so on a timestamp clash the persisted (earlier) write wins.
constexpr uint64_t kInMemoryOutOfOrderSequence = ~0ull;
}  // namespace

Labels MemSeries::labels() const {
  Labels labels;
  DecodeLabels(encoded_labels_, &labels);  // encoded by us: cannot fail
  return labels;
}

void MemSeries::NoteTime(int64_t t) {
  min_time_ = std::min(min_time_, t);
  max_time_ = std::max(max_time_, t);
}

bool MemSeries::OpenChunkAccepts(int64_t t, bool histogram) const {
  if (histogram) {
    return histogram_chunk_ && histogram_chunk_->num_samples() < kTargetSamplesPerChunk &&
           AlignToWindow(t) == open_window_;
  }
  return float_chunk_ && float_chunk_->num_samples() < kTargetSamplesPerChunk &&
         AlignToWindow(t) == open_window_;
}

void MemSeries::CutOpenChunk() {
  if (float_chunk_) {
    cut_chunks_.push_back(ChunkData{open_sequence_, float_chunk_->min_time(),
                                    float_chunk_->max_time(), float_chunk_->bytes()});
    float_chunk_.reset();
  } else if (histogram_chunk_) {
    cut_chunks_.push_back(ChunkData{open_sequence_, histogram_chunk_->min_time(),
                                    histogram_chunk_->max_time(), histogram_chunk_->bytes()});
    histogram_chunk_.reset();
  }
  open_dirty_ = false;
}

void MemSeries::StartChunk(int64_t t, bool histogram, ChunkSequencer* sequencer) {
  CutOpenChunk();
  if (histogram) {
    histogram_chunk_ = std::make_unique<HistogramChunkAppender>();
  } else {
    float_chunk_ = std::make_unique<XorChunkAppender>();
  }
  open_sequence_ = sequencer->Next();
  open_window_ = AlignToWindow(t);
}

bool MemSeries::FindFloat(int64_t t, double* value) const {
  auto search = [&](std::string_view bytes) {
    ChunkIterator it(bytes);
    while (it.Next()) {
      if (it.timestamp() == t && !it.is_histogram()) {
        *value = it.value();
        return true;
      }
      if (it.timestamp() > t) break;
    }
    return false;
  };
  if (float_chunk_ && t >= float_chunk_->min_time() && t <= float_chunk_->max_time() &&
      search(float_chunk_->bytes())) {
    return true;
  }
  for (const ChunkData& chunk : cut_chunks_) {
    if (t >= chunk.min_time && t <= chunk.max_time && search(chunk.bytes)) return true;
  }
  if (out_of_order_) {
    const auto& floats = out_of_order_->floats;
    auto it = std::lower_bound(floats.begin(), floats.end(), t,
                               [](const Sample& s, int64_t ts) { return s.timestamp_ms < ts; });
    if (it != floats.end() && it->timestamp_ms == t) {
      *value = it->value;
      return true;
    }
  }
  return false;
}

bool MemSeries::FindHistogram(int64_t t, Histogram* histogram) const {
  auto search = [&](std::string_view bytes) {
    ChunkIterator it(bytes);
    while (it.Next()) {
      if (it.timestamp() == t && it.is_histogram()) {
        *histogram = it.histogram();
        return true;
      }
      if (it.timestamp() > t) break;
    }
    return false;
  };
  if (histogram_chunk_ && t >= histogram_chunk_->min_time() &&
      t <= histogram_chunk_->max_time() && search(histogram_chunk_->bytes())) {
    return true;
  }
  for (const ChunkData& chunk : cut_chunks_) {
    if (t >= chunk.min_time && t <= chunk.max_time && search(chunk.bytes)) return true;
  }
  if (out_of_order_) {
    const auto& histograms = out_of_order_->histograms;
    auto it = std::lower_bound(
        histograms.begin(), histograms.end(), t,
        [](const Histogram& h, int64_t ts) { return h.timestamp_ms < ts; });
    if (it != histograms.end() && it->timestamp_ms == t) {
      *histogram = *it;
      return true;
    }
  }
  return false;
}

AppendOutcome MemSeries::AppendFloat(const Sample& sample, ChunkSequencer* sequencer) {
  const int64_t t = sample.timestamp_ms;
  if (t > last_timestamp_) {
    if (!OpenChunkAccepts(t, /*histogram=*/false)) StartChunk(t, /*histogram=*/false, sequencer);
    float_chunk_->Append(t, sample.value);
    open_dirty_ = true;
    last_timestamp_ = t;
    NoteTime(t);
    return AppendOutcome::kAppended;
  }
  double existing;
  if (FindFloat(t, &existing)) {
    return SameBits(existing, sample.value) ? AppendOutcome::kDuplicate : AppendOutcome::kConflict;
  }
  Histogram existing_histogram;
  if (FindHistogram(t, &existing_histogram)) return AppendOutcome::kConflict;
  if (!out_of_order_) out_of_order_ = std::make_unique<OutOfOrder>();
  auto& floats = out_of_order_->floats;
  auto it = std::lower_bound(floats.begin(), floats.end(), t,
                             [](const Sample& s, int64_t ts) { return s.timestamp_ms < ts; });
  floats.insert(it, sample);
  NoteTime(t);
  return AppendOutcome::kAppended;
}

AppendOutcome MemSeries::AppendHistogram(const Histogram& histogram, ChunkSequencer* sequencer) {
  const int64_t t = histogram.timestamp_ms;
  if (t > last_timestamp_) {
    if (!OpenChunkAccepts(t, /*histogram=*/true)) StartChunk(t, /*histogram=*/true, sequencer);
    histogram_chunk_->Append(histogram);
    open_dirty_ = true;
    last_timestamp_ = t;
    NoteTime(t);
    return AppendOutcome::kAppended;
  }
  Histogram existing;
  if (FindHistogram(t, &existing)) {
    // Compare bit-exactly through the encoding: NaN sums must compare equal.
    HistogramChunkAppender a, b;
    a.Append(existing);
    b.Append(histogram);
    return a.bytes() == b.bytes() ? AppendOutcome::kDuplicate : AppendOutcome::kConflict;
  }
  double existing_float;
  if (FindFloat(t, &existing_float)) return AppendOutcome::kConflict;
  if (!out_of_order_) out_of_order_ = std::make_unique<OutOfOrder>();
  auto& histograms = out_of_order_->histograms;
  auto it = std::lower_bound(histograms.begin(), histograms.end(), t,
                             [](const Histogram& h, int64_t ts) { return h.timestamp_ms < ts; });
  histograms.insert(it, histogram);
  NoteTime(t);
  return AppendOutcome::kAppended;
}

uint64_t MemSeries::samples_in_memory() const {
  uint64_t n = 0;
  if (float_chunk_) n += float_chunk_->num_samples();
  if (histogram_chunk_) n += histogram_chunk_->num_samples();
  for (const ChunkData& chunk : cut_chunks_) {
    if (chunk.bytes.size() >= kChunkHeaderBytes) {
      n += (static_cast<uint8_t>(chunk.bytes[1]) << 8) | static_cast<uint8_t>(chunk.bytes[2]);
    }
  }
  if (out_of_order_) n += out_of_order_->floats.size() + out_of_order_->histograms.size();
  return n;
}

bool MemSeries::has_unpersisted_data() const {
  return open_dirty_ || !cut_chunks_.empty() || out_of_order_ != nullptr || !persisted_;
}

void MemSeries::EncodeOutOfOrder(const std::function<uint64_t()>& next_sequence,
                                 std::vector<ChunkData>* out) const {
  if (!out_of_order_) return;
  const auto& floats = out_of_order_->floats;
  for (size_t i = 0; i < floats.size();) {
    XorChunkAppender appender;
    const int64_t window = AlignToWindow(floats[i].timestamp_ms);
    while (i < floats.size() && AlignToWindow(floats[i].timestamp_ms) == window &&
           appender.num_samples() < kTargetSamplesPerChunk) {
      appender.Append(floats[i].timestamp_ms, floats[i].value);
      ++i;
    }
    out->push_back(ChunkData{next_sequence(), appender.min_time(), appender.max_time(),
                             appender.bytes()});
  }
  const auto& histograms = out_of_order_->histograms;
  for (size_t i = 0; i < histograms.size();) {
    HistogramChunkAppender appender;
    const int64_t window = AlignToWindow(histograms[i].timestamp_ms);
    while (i < histograms.size() && AlignToWindow(histograms[i].timestamp_ms) == window &&
           appender.num_samples() < kTargetSamplesPerChunk) {
      appender.Append(histograms[i]);
      ++i;
    }
    out->push_back(ChunkData{next_sequence(), appender.min_time(), appender.max_time(),
                             appender.bytes()});
  }
}

void MemSeries::SnapshotChunks(int64_t mint, int64_t maxt, std::vector<ChunkData>* out) const {
  auto overlaps = [&](int64_t lo, int64_t hi) { return lo <= maxt && hi >= mint; };
  for (const ChunkData& chunk : cut_chunks_) {
    if (overlaps(chunk.min_time, chunk.max_time)) out->push_back(chunk);
  }
  if (float_chunk_ && overlaps(float_chunk_->min_time(), float_chunk_->max_time())) {
    out->push_back(ChunkData{open_sequence_, float_chunk_->min_time(), float_chunk_->max_time(),
                             float_chunk_->bytes()});
  }
  if (histogram_chunk_ && overlaps(histogram_chunk_->min_time(), histogram_chunk_->max_time())) {
    out->push_back(ChunkData{open_sequence_, histogram_chunk_->min_time(),
                             histogram_chunk_->max_time(), histogram_chunk_->bytes()});
  }
  EncodeOutOfOrder([] { return kInMemoryOutOfOrderSequence; }, out);
}

void MemSeries::CollectForCheckpoint(ChunkSequencer* sequencer, std::vector<ChunkData>* out) const {
  out->insert(out->end(), cut_chunks_.begin(), cut_chunks_.end());
  if (open_dirty_) {
    if (float_chunk_) {
      out->push_back(ChunkData{open_sequence_, float_chunk_->min_time(),
                               float_chunk_->max_time(), float_chunk_->bytes()});
    } else if (histogram_chunk_) {
      out->push_back(ChunkData{open_sequence_, histogram_chunk_->min_time(),
                               histogram_chunk_->max_time(), histogram_chunk_->bytes()});
    }
  }
  EncodeOutOfOrder([sequencer] { return sequencer->Next(); }, out);
}

void MemSeries::CheckpointDone(bool close_open_chunk) {
  cut_chunks_.clear();
  cut_chunks_.shrink_to_fit();
  out_of_order_.reset();
  open_dirty_ = false;
  if (close_open_chunk) {
    float_chunk_.reset();
    histogram_chunk_.reset();
    // Samples at or before the last one now go through the out-of-order
    // path, which finds conflicts only among data still in memory.
  }
  // Memory now holds only the open chunk.
  if (float_chunk_) {
    min_time_ = float_chunk_->min_time();
    max_time_ = float_chunk_->max_time();
  } else if (histogram_chunk_) {
    min_time_ = histogram_chunk_->min_time();
    max_time_ = histogram_chunk_->max_time();
  } else {
    min_time_ = std::numeric_limits<int64_t>::max();
    max_time_ = std::numeric_limits<int64_t>::min();
  }
}

}  // namespace tsvault::storage
