// The receiver's series-reference cache: maps a series' labels, as they
// appeared on the wire, to the storage reference DB::Append returned for that
// series (storage::WriteResult::series_refs). A request whose series are all
// known is then decoded without building a single label string and appended
// without hashing or comparing labels in the storage engine.
//
// Key: the "series key", the series' labels encoded as the `labels` field of
// a Remote Write 1.0 TimeSeries: for each label in wire order, byte 0x0A,
// varint(message length), then the Label message (0x0A varint(name length)
// name, 0x12 varint(value length) value, each part omitted when empty). For
// 1.0 that is the bytes of the labels fields exactly as received (no copy,
// no parsing); 2.0 labels_refs are resolved through the request's symbols
// table into the same form, so both protocols share entries with senders
// that encode canonically (all known ones). Equal keys always mean equal
// decoded labels; different keys (other order, an extra empty-valued label,
// a non-canonical encoding) may map to the same reference.
//
// Bound: at most `max_entries` entries and about `max_bytes` bytes of memory
// (tables and key storage). The cache is split into shards by key hash; a
// shard that would exceed its share of either bound is emptied before the
// insert (a cheap, coarse eviction: its hot series are re-inserted on their
// next miss). With a `max_age`, a shard whose oldest entry is older than it
// is emptied the same way on its next insert, so the entries of series
// that ended (churned pods, old campaigns) go within about that time
// instead of staying until the bounds are reached. See docs/remote-write.md
// for the memory per entry.
//
// Thread safety: every method may be called concurrently. Each shard has its
// own mutex (Shard::mutex, series_ref_cache.cc) guarding that shard's table
// and key storage; no method holds two shard locks at once. Clear(), size()
// and allocated_bytes() lock the shards one after another, so they are not
// a single atomic snapshot across shards.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace tsvault::remote_write {

namespace series_key_internal {

inline size_t VarintSize(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

inline char* PutVarint(char* out, uint64_t value) {
  while (value >= 0x80) {
    *out++ = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<char>(value);
  return out;
}

// memcpy for the short strings labels mostly are, without a library call.
inline char* CopyBytes(char* out, const char* in, size_t size) {
  if (size >= 8 && size <= 16) {
    uint64_t head, tail;
    std::memcpy(&head, in, 8);
    std::memcpy(&tail, in + size - 8, 8);
    std::memcpy(out, &head, 8);
    std::memcpy(out + size - 8, &tail, 8);
  } else if (size >= 4 && size < 8) {
    uint32_t head, tail;
    std::memcpy(&head, in, 4);
    std::memcpy(&tail, in + size - 4, 4);
    std::memcpy(out, &head, 4);
    std::memcpy(out + size - 4, &tail, 4);
  } else if (size > 0 && size < 4) {  // first, middle and last byte cover 1-3 bytes
    out[0] = in[0];
    out[size / 2] = in[size / 2];
    out[size - 1] = in[size - 1];
  } else if (size > 16) {
    std::memcpy(out, in, size);
  }
  return out + size;
}

// A length-delimited field with a one-byte key, omitted when empty (proto3).
inline size_t StringFieldSize(std::string_view text) {
  return text.empty() ? 0 : 1 + VarintSize(text.size()) + text.size();
}

inline char* PutStringField(char* out, char key, std::string_view text) {
  if (text.empty()) return out;
  *out++ = key;
  out = PutVarint(out, text.size());
  return CopyBytes(out, text.data(), text.size());
}

}  // namespace series_key_internal

// Bytes one label takes in a series key (see above).
inline size_t SeriesKeyLabelSize(std::string_view name, std::string_view value) {
  using namespace series_key_internal;
  const size_t message = StringFieldSize(name) + StringFieldSize(value);
  return 1 + VarintSize(message) + message;
}

// Writes one label of a series key at `out` (SeriesKeyLabelSize bytes);
// returns the end.
inline char* WriteSeriesKeyLabel(std::string_view name, std::string_view value, char* out) {
  using namespace series_key_internal;
  // Fast path: both parts present and the whole label under 128 bytes, so
  // every length is a one-byte varint.
  const size_t name_size = name.size(), value_size = value.size();
  if (name_size - 1 < 127 && value_size - 1 < 127 && name_size + value_size + 4 < 128) {
    out[0] = 0x0A;
    out[1] = static_cast<char>(name_size + value_size + 4);
    out[2] = 0x0A;
    out[3] = static_cast<char>(name_size);
    out = CopyBytes(out + 4, name.data(), name_size);
    out[0] = 0x12;
    out[1] = static_cast<char>(value_size);
    return CopyBytes(out + 2, value.data(), value_size);
  }
  *out++ = 0x0A;  // TimeSeries.labels: field 1, length-delimited
  out = PutVarint(out, StringFieldSize(name) + StringFieldSize(value));
  out = PutStringField(out, 0x0A, name);    // Label.name: field 1
  return PutStringField(out, 0x12, value);  // Label.value: field 2
}

// Appends one label to the series key being built in *key.
void AppendSeriesKeyLabel(std::string_view name, std::string_view value, std::string* key);

class SeriesRefCache {
 public:
  // Bytes stored with each key: the reference (8) and the key size (4). An
  // entry also takes a 16-byte table slot, at a load factor between 3/8 and
  // 3/4.
  static constexpr size_t kRecordHeaderBytes = 12;

  // A cache holding at most `max_entries` entries and about `max_bytes` bytes,
  // each shard emptied once its oldest entry is older than `max_age` (0:
  // never). Either bound being 0 disables it: Lookup always misses and
  // Insert does nothing.
  SeriesRefCache(uint64_t max_entries, uint64_t max_bytes,
                 std::chrono::milliseconds max_age = std::chrono::milliseconds(0));
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

  // Needs no lock (reads immutable fields only). The caller locks the
  // returned shard's mutex before touching it.
  Shard& ShardFor(uint64_t hash) const;

  // Set by the constructor; immutable after construction, no lock.
  uint64_t seed_ = 0;
  size_t shard_count_ = 0;       // a power of two, or 0 when disabled
  int shard_shift_ = 0;          // hash >> shard_shift_ selects the shard
  uint64_t entries_per_shard_ = 0;
  uint64_t bytes_per_shard_ = 0;
  std::chrono::milliseconds max_age_{0};
  std::unique_ptr<Shard[]> shards_;  // the array is immutable; each shard locks itself
};

}  // namespace tsvault::remote_write
