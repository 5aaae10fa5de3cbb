#include "remote_write/series_ref_cache.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <random>
#include <vector>

namespace tsvault::remote_write {

namespace {

constexpr size_t kMaxShards = 64;
constexpr size_t kMinSlots = 64;
constexpr size_t kMaxBlockBytes = 64 << 10;
constexpr size_t kMinBlockBytes = 256;

// The constant of the multiply-mix hash below (odd, high-entropy 64 bits).
constexpr uint64_t kMixA = 0xa0761d6478bd642fULL;

inline uint64_t Load64(const char* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

inline uint64_t Load32(const char* p) {
  uint32_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

// 64x64 -> 128-bit multiply, folded: the core of the hash.
inline uint64_t Mix(uint64_t a, uint64_t b) {
  __extension__ using Wide = unsigned __int128;
  const Wide product = static_cast<Wide>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// A fast seeded hash of arbitrary bytes: 16 bytes per multiply, the length
// and the last (possibly overlapping) 16 bytes mixed in at the end.
uint64_t HashBytes(const char* data, size_t size, uint64_t seed) {
  uint64_t state = seed;
  uint64_t a = 0, b = 0;
  if (size <= 16) {
    if (size >= 4) {
      const size_t middle = (size >> 3) << 2;  // 0 or 4
      a = (Load32(data) << 32) | Load32(data + middle);
      b = (Load32(data + size - 4) << 32) | Load32(data + size - 4 - middle);
    } else if (size > 0) {
      a = (static_cast<uint64_t>(static_cast<uint8_t>(data[0])) << 16) |
          (static_cast<uint64_t>(static_cast<uint8_t>(data[size >> 1])) << 8) |
          static_cast<uint8_t>(data[size - 1]);
    }
  } else {
    const char* p = data;
    size_t remaining = size;
    while (remaining > 16) {
      state = Mix(Load64(p) ^ kMixA, Load64(p + 8) ^ state);
      p += 16;
      remaining -= 16;
    }
    a = Load64(p + remaining - 16);
    b = Load64(p + remaining - 8);
  }
  return Mix(kMixA ^ size, Mix(a ^ kMixA, b ^ state));
}

uint64_t RandomSeed() {
  try {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  } catch (const std::exception&) {
    return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
}

// Record layout in a shard's key storage: [ref: 8][key size: 4][key bytes].
inline uint64_t RecordRef(const char* record) { return Load64(record); }
inline uint32_t RecordKeySize(const char* record) { return static_cast<uint32_t>(Load32(record + 8)); }
inline const char* RecordKey(const char* record) { return record + SeriesRefCache::kRecordHeaderBytes; }

}  // namespace

void AppendSeriesKeyLabel(std::string_view name, std::string_view value, std::string* key) {
  const size_t start = key->size();
  key->resize(start + SeriesKeyLabelSize(name, value));
  WriteSeriesKeyLabel(name, value, key->data() + start);
}

// One slot of a shard's open-addressing table; record == nullptr: empty.
struct Slot {
  uint64_t hash;
  char* record;
};

// Every member function below touches the shard's state.
// REQUIRES: mutex held (taken by the SeriesRefCache methods).
struct SeriesRefCache::Shard {
  // Own cache line: shards are locked by different threads at once.
  // Guards slots, entries, blocks, block_position, block_remaining and
  // block_bytes, and the records they point to (Insert rewrites a record's
  // ref in place).
  alignas(64) mutable std::mutex mutex;
  // Guarded by mutex.
  std::vector<Slot> slots;  // empty, or a power of two with load <= 3/4
  uint64_t entries = 0;
  std::vector<std::unique_ptr<char[]>> blocks;  // key storage
  char* block_position = nullptr;
  size_t block_remaining = 0;
  uint64_t block_bytes = 0;  // total size of `blocks`
  std::chrono::steady_clock::time_point first_insert;  // of the oldest entry

  uint64_t AllocatedBytes() const { return slots.capacity() * sizeof(Slot) + block_bytes; }

  // The slot holding `key`, or the empty slot where it belongs. Requires a
  // non-empty table.
  Slot* Find(std::string_view key, uint64_t hash) {
    const size_t mask = slots.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots[i];
      if (slot.record == nullptr) return &slot;
      if (slot.hash == hash && RecordKeySize(slot.record) == key.size() &&
          std::memcmp(RecordKey(slot.record), key.data(), key.size()) == 0) {
        return &slot;
      }
    }
  }

  void Clear() {
    std::vector<Slot>().swap(slots);
    blocks.clear();
    block_position = nullptr;
    block_remaining = 0;
    block_bytes = 0;
    entries = 0;
  }

  // Doubles the table (or creates it), re-placing every entry.
  void Grow() {
    std::vector<Slot> old;
    old.swap(slots);
    slots.assign(std::max(kMinSlots, old.size() * 2), Slot{0, nullptr});
    const size_t mask = slots.size() - 1;
    for (const Slot& slot : old) {
      if (slot.record == nullptr) continue;
      size_t i = slot.hash & mask;
      while (slots[i].record != nullptr) i = (i + 1) & mask;
      slots[i] = slot;
    }
  }

  // Copies a record into key storage; returns where.
  char* StoreRecord(std::string_view key, uint64_t ref, size_t block_size) {
    const size_t record_size = kRecordHeaderBytes + key.size();
    if (record_size > block_remaining) {
      const size_t size = std::max(block_size, record_size);
      blocks.push_back(std::make_unique<char[]>(size));
      block_bytes += size;
      block_position = blocks.back().get();
      block_remaining = size;
    }
    char* record = block_position;
    const uint32_t key_size = static_cast<uint32_t>(key.size());
    std::memcpy(record, &ref, sizeof(ref));
    std::memcpy(record + 8, &key_size, sizeof(key_size));
    std::memcpy(record + kRecordHeaderBytes, key.data(), key.size());
    block_position += record_size;
    block_remaining -= record_size;
    return record;
  }
};

SeriesRefCache::SeriesRefCache(uint64_t max_entries, uint64_t max_bytes, std::chrono::milliseconds max_age)
    : seed_(RandomSeed()), max_age_(max_age) {
  if (max_entries == 0 || max_bytes == 0) return;
  shard_count_ = 1;
  while (shard_count_ * 2 <= kMaxShards && shard_count_ * 2 <= max_entries) shard_count_ *= 2;
  int bits = 0;
  while ((size_t{1} << bits) < shard_count_) ++bits;
  shard_shift_ = 64 - bits;
  entries_per_shard_ = max_entries / shard_count_;
  bytes_per_shard_ = max_bytes / shard_count_;
  shards_ = std::make_unique<Shard[]>(shard_count_);
}

SeriesRefCache::~SeriesRefCache() = default;

SeriesRefCache::Shard& SeriesRefCache::ShardFor(uint64_t hash) const {
  // Top bits pick the shard, low bits the slot: independent.
  return shards_[shard_count_ == 1 ? 0 : static_cast<size_t>(hash >> shard_shift_)];
}

uint64_t SeriesRefCache::Hash(std::string_view key) const { return HashBytes(key.data(), key.size(), seed_); }

uint64_t SeriesRefCache::Lookup(std::string_view key, uint64_t hash) const {
  if (!enabled()) return 0;
  Shard& shard = ShardFor(hash);
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.slots.empty()) return 0;
  const Slot* slot = shard.Find(key, hash);
  return slot->record == nullptr ? 0 : RecordRef(slot->record);
}

void SeriesRefCache::Insert(std::string_view key, uint64_t hash, uint64_t ref) {
  if (!enabled() || ref == 0 || key.size() > UINT32_MAX) return;
  const size_t block_size =
      std::clamp<size_t>(static_cast<size_t>(bytes_per_shard_ / 8), kMinBlockBytes, kMaxBlockBytes);
  const size_t record_size = kRecordHeaderBytes + key.size();
  Shard& shard = ShardFor(hash);
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (!shard.slots.empty()) {
    Slot* slot = shard.Find(key, hash);
    if (slot->record != nullptr) {
      std::memcpy(slot->record, &ref, sizeof(ref));
      return;
    }
  }
  // Memory after this insert, at worst: the table grown, a new block.
  auto bytes_needed = [&] {
    const bool grow = (shard.entries + 1) * 4 > shard.slots.size() * 3;
    const uint64_t table = (grow ? std::max(kMinSlots, shard.slots.size() * 2) : shard.slots.size()) * sizeof(Slot);
    const uint64_t blocks =
        shard.block_bytes + (record_size > shard.block_remaining ? std::max(block_size, record_size) : 0);
    return table + blocks;
  };
  const auto now = std::chrono::steady_clock::now();
  if (shard.entries + 1 > entries_per_shard_ || bytes_needed() > bytes_per_shard_ ||
      (max_age_.count() > 0 && shard.entries > 0 && now - shard.first_insert > max_age_)) {
    shard.Clear();
    if (bytes_needed() > bytes_per_shard_) return;  // this key alone is too large
  }
  if (shard.entries == 0) shard.first_insert = now;
  try {
    if ((shard.entries + 1) * 4 > shard.slots.size() * 3) shard.Grow();
    char* record = shard.StoreRecord(key, ref, block_size);
    Slot* slot = shard.Find(key, hash);
    slot->hash = hash;
    slot->record = record;
    ++shard.entries;
  } catch (const std::bad_alloc&) {
    shard.Clear();  // out of memory: a cache is the first thing to give up
  }
}

void SeriesRefCache::Clear() {
  for (size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mutex);
    shards_[i].Clear();
  }
}

uint64_t SeriesRefCache::size() const {
  uint64_t total = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mutex);
    total += shards_[i].entries;
  }
  return total;
}

uint64_t SeriesRefCache::allocated_bytes() const {
  uint64_t total = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mutex);
    total += shards_[i].AllocatedBytes();
  }
  return total;
}

}  // namespace tsvault::remote_write
