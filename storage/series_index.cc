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
