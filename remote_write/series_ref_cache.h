// The receiver's series-reference cache: maps a series' labels, as they
// appeared on the wire, to the storage reference DB::Append returned for that
// series (storage::WriteResult::series_refs). A request whose series are all
// known is then decoded without building a single label string and appended
// without hashing or comparing labels in the storage engine.
//
// Key: the "series key", a byte string of the series' labels in wire order,
// each label as varint(name length) name varint(value length) value. 1.0
// labels are taken as read from the Label messages, 2.0 labels_refs are
// resolved through the request's symbols table, so both protocols share
// entries. Two keys differ whenever the wire label lists differ (order
// included); different keys may map to the same reference.
//
// Bound: at most `max_entries` entries and about `max_bytes` bytes of memory
// (tables and key storage). The cache is split into shards by key hash; a
// shard that would exceed its share of either bound is emptied before the
// insert (a cheap, coarse eviction: its hot series are re-inserted on their
// next miss). See docs/remote-write.md for the memory per entry.
//
// Thread safety: every method may be called concurrently (one mutex per shard).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tsvault::remote_write {

// Appends one label to the series key being built in *key (see above).
void AppendSeriesKeyLabel(std::string_view name, std::string_view value, std::string* key);

class SeriesRefCache {
 public:
  // Bookkeeping bytes per entry besides the key bytes: the slot (16 bytes,
  // at a load factor between 3/8 and 3/4) and the stored record header.
  static constexpr size_t kRecordHeaderBytes = 12;

  // A cache holding at most `max_entries` entries and about `max_bytes` bytes.
  // Either being 0 disables it: Lookup always misses and Insert does nothing.
  SeriesRefCache(uint64_t max_entries, uint64_t max_bytes);
  ~SeriesRefCache();
  SeriesRefCache(const SeriesRefCache&) = delete;
  SeriesRefCache& operator=(const SeriesRefCache&) = delete;

  // False when constructed with a zero bound.
  bool enabled() const { return shard_count_ > 0; }

  // The hash of `key` that Lookup and Insert take (seeded per cache, so
  // colliding keys cannot be precomputed by a client).
  uint64_t Hash(std::string_view key) const;

  // The reference stored for `key` (whose Hash is `hash`), or 0 when absent.
  uint64_t Lookup(std::string_view key, uint64_t hash) const;

  // Stores `ref` (non-zero; 0 is ignored) for `key`, replacing an earlier
  // value. May empty the key's shard first to stay within the bounds; a key
  // too large for a shard's byte share is not stored.
  void Insert(std::string_view key, uint64_t hash, uint64_t ref);

  // Removes every entry (used when storage no longer knows a reference).
  void Clear();

  // Entries currently stored.
  uint64_t size() const;
  // Bytes currently allocated for tables and keys.
  uint64_t allocated_bytes() const;

 private:
  struct Shard;

  Shard& ShardFor(uint64_t hash) const;

  uint64_t seed_ = 0;
  size_t shard_count_ = 0;       // a power of two, or 0 when disabled
  int shard_shift_ = 0;          // hash >> shard_shift_ selects the shard
  uint64_t entries_per_shard_ = 0;
  uint64_t bytes_per_shard_ = 0;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace tsvault::remote_write
