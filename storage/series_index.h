// The head's lookup from a label set to its series (internal): an
// open-addressing hash table keyed by the label set's hash (HashLabels),
// where the encoded labels (keys.h EncodeLabels) tell apart label sets whose
// hashes collide. Used on the append path for every series written without
// a reference. It does not own the series. Not thread-safe: DBImpl's
// head_mutex_ guards it.
// REQUIRES: head_mutex_ held shared for const methods, exclusively for the
// others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tsvault::storage {

class MemSeries;

class SeriesIndex {
 public:
  SeriesIndex() = default;
  SeriesIndex(const SeriesIndex&) = delete;
  SeriesIndex& operator=(const SeriesIndex&) = delete;

  // The indexed series whose encoded labels equal `encoded_labels`, or null.
  // `hash` must be HashLabels() of the same label set (what
  // MemSeries::hash() holds); a wrong hash finds nothing.
  MemSeries* Find(uint64_t hash, std::string_view encoded_labels) const;

  // Indexes `series` (not null) under series->hash(). The caller makes sure
  // no series with the same labels is indexed yet (Find first); the series
  // must stay alive, at the same address, while the index is used.
  void Insert(MemSeries* series);

  // Removes `series` (indexed earlier under series->hash()) from the index;
  // a series that is not indexed is ignored. Other series keep being found
  // (probe runs are repaired by shifting entries back, no tombstones).
  void Erase(const MemSeries* series);

  // Number of series indexed.
  size_t size() const { return size_; }

 private:
  // One table slot; empty when `series` is null. The hash is kept next to
  // the pointer so a probe touches a series only when the hashes agree.
  struct Slot {
    uint64_t hash = 0;
    MemSeries* series = nullptr;
  };

  // Rebuilds the table with `capacity` slots (a power of two).
  void Rehash(size_t capacity);
  // Puts `series` in the first free slot of its probe sequence.
  void Place(uint64_t hash, MemSeries* series);

  std::vector<Slot> slots_;  // size is zero or a power of two
  size_t size_ = 0;
};

}  // namespace tsvault::storage
