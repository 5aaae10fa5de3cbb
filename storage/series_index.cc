#include "storage/series_index.h"

#include "storage/mem_series.h"

namespace tsvault::storage {

namespace {
constexpr size_t kMinCapacity = 16;

// The table is kept at most 3/4 full so linear probe runs stay short.
bool OverLoaded(size_t count, size_t capacity) { return count * 4 > capacity * 3; }
}  // namespace

MemSeries* SeriesIndex::Find(uint64_t hash, std::string_view encoded_labels) const {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = static_cast<size_t>(hash) & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.series == nullptr) return nullptr;  // end of the probe run
    if (slot.hash == hash && slot.series->encoded_labels() == encoded_labels) return slot.series;
  }
}

void SeriesIndex::Insert(MemSeries* series) {
  if (slots_.empty() || OverLoaded(size_ + 1, slots_.size())) {
    Rehash(slots_.empty() ? kMinCapacity : slots_.size() * 2);
  }
  Place(series->hash(), series);
  ++size_;
}

void SeriesIndex::Erase(const MemSeries* series) {
  if (slots_.empty()) return;
  const size_t mask = slots_.size() - 1;
  size_t hole = static_cast<size_t>(series->hash()) & mask;
  for (;; hole = (hole + 1) & mask) {
    if (slots_[hole].series == nullptr) return;  // not indexed
    if (slots_[hole].series == series) break;
  }
  // Backward-shift deletion (Knuth, Algorithm R): move later entries of the
  // probe run into the hole when their home slot does not lie cyclically in
  // (hole, next], so that every entry stays reachable from its home slot.
  for (size_t next = (hole + 1) & mask;; next = (next + 1) & mask) {
    const Slot& candidate = slots_[next];
    if (candidate.series == nullptr) break;
    const size_t home = static_cast<size_t>(candidate.hash) & mask;
    const bool home_in_between = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (home_in_between) continue;
    slots_[hole] = candidate;
    hole = next;
  }
  slots_[hole] = Slot{};
  --size_;
}

void SeriesIndex::Rehash(size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{});
  for (const Slot& slot : old) {
    if (slot.series != nullptr) Place(slot.hash, slot.series);
  }
}

void SeriesIndex::Place(uint64_t hash, MemSeries* series) {
  // The table always has a free slot (load <= 3/4), so this ends.
  const size_t mask = slots_.size() - 1;
  size_t i = static_cast<size_t>(hash) & mask;
  while (slots_[i].series != nullptr) i = (i + 1) & mask;
  slots_[i] = Slot{hash, series};
}

}  // namespace tsvault::storage
