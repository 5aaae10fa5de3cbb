#include "storage/sample_merge.h"

#include <algorithm>

namespace tsvault::storage {

namespace {

struct Entry {
  int64_t timestamp;
  double value;
  int32_t histogram_index;  // -1 for a float sample
  uint32_t chunk_rank;      // position of the chunk in sequence order
};

class VectorSampleIterator final : public SampleIterator {
 public:
  VectorSampleIterator(std::vector<Entry> entries, std::vector<Histogram> histograms)
      : entries_(std::move(entries)), histograms_(std::move(histograms)) {}

  bool Next() override {
    // position_ starts at kBeforeFirst; unsigned wrap-around makes it 0.
    if (position_ == kBeforeFirst || position_ < entries_.size()) ++position_;
    return position_ < entries_.size();
  }
  bool Seek(int64_t t) override {
    if (position_ == kBeforeFirst) position_ = 0;
    if (position_ >= entries_.size()) return false;
    if (entries_[position_].timestamp >= t) return true;
    auto it = std::lower_bound(entries_.begin() + position_, entries_.end(), t,
                               [](const Entry& e, int64_t ts) { return e.timestamp < ts; });
    position_ = static_cast<size_t>(it - entries_.begin());
    return position_ < entries_.size();
  }
  int64_t timestamp() const override { return entries_[position_].timestamp; }
  bool is_histogram() const override { return entries_[position_].histogram_index >= 0; }
  double value() const override { return entries_[position_].value; }
  const Histogram& histogram() const override {
    return histograms_[entries_[position_].histogram_index];
  }

 private:
  static constexpr size_t kBeforeFirst = static_cast<size_t>(-1);
  std::vector<Entry> entries_;
  std::vector<Histogram> histograms_;
  size_t position_ = kBeforeFirst;  // Next() wraps it to 0
};

}  // namespace

Status MergeChunks(std::vector<ChunkData> chunks, int64_t mint, int64_t maxt,
                   std::unique_ptr<SampleIterator>* out) {
  // Rank chunks by sequence (write order) for conflict resolution, but
  // concatenate them in time order so the common case needs no sort.
  std::vector<uint32_t> rank(chunks.size());
  {
    std::vector<size_t> by_sequence(chunks.size());
    for (size_t i = 0; i < chunks.size(); ++i) by_sequence[i] = i;
    std::sort(by_sequence.begin(), by_sequence.end(),
              [&](size_t a, size_t b) { return chunks[a].sequence < chunks[b].sequence; });
    for (size_t r = 0; r < by_sequence.size(); ++r) rank[by_sequence[r]] = static_cast<uint32_t>(r);
  }
  std::vector<size_t> by_time(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) by_time[i] = i;
  std::sort(by_time.begin(), by_time.end(), [&](size_t a, size_t b) {
    if (chunks[a].min_time != chunks[b].min_time) return chunks[a].min_time < chunks[b].min_time;
    return chunks[a].sequence < chunks[b].sequence;
  });

  // Room for every sample the headers announce (no more than the chunk's
  // bits could hold, so a malformed header cannot ask for much).
  size_t announced = 0;
  for (const ChunkData& chunk : chunks) {
    announced += std::min<size_t>(ChunkIterator(chunk.bytes).num_samples(), chunk.bytes.size() * 8);
  }
  std::vector<Entry> entries;
  entries.reserve(announced);
  std::vector<Histogram> histograms;
  bool ordered = true;
  for (size_t index : by_time) {
    ChunkIterator it(chunks[index].bytes);
    while (it.Next()) {
      const int64_t t = it.timestamp();
      if (t < mint) continue;
      if (t > maxt) break;
      if (!entries.empty() && t <= entries.back().timestamp) ordered = false;
      if (it.is_histogram()) {
        entries.push_back(Entry{t, 0, static_cast<int32_t>(histograms.size()), rank[index]});
        histograms.push_back(it.histogram());
      } else {
        entries.push_back(Entry{t, it.value(), -1, rank[index]});
      }
    }
    if (!it.status().ok()) return it.status();
  }
  if (!ordered) {
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
      return a.chunk_rank < b.chunk_rank;
    });
    auto last = std::unique(entries.begin(), entries.end(),
                            [](const Entry& a, const Entry& b) { return a.timestamp == b.timestamp; });
    entries.erase(last, entries.end());
  }
  *out = std::make_unique<VectorSampleIterator>(std::move(entries), std::move(histograms));
  return Status::OK();
}

Status VisitMergedSamples(std::vector<ChunkData> chunks, int64_t mint, int64_t maxt, SampleVisitor* visitor) {
  std::sort(chunks.begin(), chunks.end(), [](const ChunkData& a, const ChunkData& b) {
    if (a.min_time != b.min_time) return a.min_time < b.min_time;
    return a.sequence < b.sequence;
  });
  bool disjoint = true;
  for (size_t i = 1; i < chunks.size() && disjoint; ++i) disjoint = chunks[i - 1].max_time < chunks[i].min_time;
  if (!disjoint) {
    std::unique_ptr<SampleIterator> samples;
    Status s = MergeChunks(std::move(chunks), mint, maxt, &samples);
    if (!s.ok()) return s;
    while (samples->Next()) {
      if (samples->is_histogram()) {
        visitor->Histogram(samples->timestamp(), samples->histogram());
      } else {
        visitor->Float(samples->timestamp(), samples->value());
      }
    }
    return Status::OK();
  }
  for (const ChunkData& chunk : chunks) {
    if (chunk.max_time < mint) continue;
    if (chunk.min_time > maxt) break;
    ChunkIterator it(chunk.bytes);
    while (it.Next()) {
      const int64_t t = it.timestamp();
      if (t < mint) continue;
      if (t > maxt) break;
      if (it.is_histogram()) {
        visitor->Histogram(t, it.histogram());
      } else {
        visitor->Float(t, it.value());
      }
    }
    if (!it.status().ok()) return it.status();
  }
  return Status::OK();
}

}  // namespace tsvault::storage
