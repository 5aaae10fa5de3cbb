// The column families of the database, described once (internal; see
// docs/storage-format.md). Adding one - e.g. a downsampled resolution's
// chunks - is one line of TSVAULT_COLUMN_FAMILIES: its handle index, name and
// option profile follow from it everywhere (open, stats, compaction).
#pragma once

#include <array>
#include <cstddef>

namespace tsvault::storage {

// How a column family is tuned (db_open.cc builds the RocksDB options).
enum class ColumnFamilyProfile {
  kDefault,  // RocksDB defaults: a handful of database-wide records
  kIndex,    // small keys looked up by prefix: bloom filters, LZ4, ZSTD at the bottom
  kChunks,   // compressed chunks: no compression but at the bottom, large memtable
  kWal,      // short-lived log records: large memtable, deleted before most flushes
  kHashIndex,  // keys looked up by an 8-byte prefix: prefix bloom filters
};

// Which retention cutoff (DB::ApplyRetention) drops a column family's
// records: the keys of those families hold a sign-flipped time at bytes
// 8..15 (after the series id), which a compaction filter compares with it.
enum class RetentionClass {
  kKeep,  // never dropped by retention
  kRaw,   // raw samples and exemplars: time < raw cutoff
  k5m,    // rollup spans: span_start < the resolution's cutoff
  k1h,
  k1d,
};

// X(enumerator, name, profile, retention), in handle order; "default" must
// come first.
#define TSVAULT_COLUMN_FAMILIES(X)                                                  \
  X(kDefault, "default", ColumnFamilyProfile::kDefault, RetentionClass::kKeep)      \
  X(kSeries, "series", ColumnFamilyProfile::kIndex, RetentionClass::kKeep)          \
  X(kPostings, "postings", ColumnFamilyProfile::kIndex, RetentionClass::kKeep)      \
  X(kChunks, "chunks", ColumnFamilyProfile::kChunks, RetentionClass::kRaw)          \
  X(kExemplars, "exemplars", ColumnFamilyProfile::kIndex, RetentionClass::kRaw)     \
  X(kMetadata, "metadata", ColumnFamilyProfile::kIndex, RetentionClass::kKeep)      \
  X(kWal, "wal", ColumnFamilyProfile::kWal, RetentionClass::kKeep)                  \
  X(kRollups5m, "chunks_5m", ColumnFamilyProfile::kChunks, RetentionClass::k5m)     \
  X(kRollups1h, "chunks_1h", ColumnFamilyProfile::kChunks, RetentionClass::k1h)     \
  X(kRollups1d, "chunks_1d", ColumnFamilyProfile::kChunks, RetentionClass::k1d)     \
  X(kRollupDirty, "rollup_dirty", ColumnFamilyProfile::kIndex, RetentionClass::kKeep)    \
  X(kSeriesHashes, "series_hashes", ColumnFamilyProfile::kHashIndex, RetentionClass::kKeep) \
  X(kHeadSeries, "head_series", ColumnFamilyProfile::kIndex, RetentionClass::kKeep)

// Index of a column family's handle in DBImpl's handle vector.
enum ColumnFamilyIndex : size_t {
#define TSVAULT_COLUMN_FAMILY_ENUMERATOR(enumerator, name, profile, retention) enumerator,
  TSVAULT_COLUMN_FAMILIES(TSVAULT_COLUMN_FAMILY_ENUMERATOR)
#undef TSVAULT_COLUMN_FAMILY_ENUMERATOR
  kColumnFamilyCount
};

// One row of the table.
struct ColumnFamilySpec {
  ColumnFamilyIndex index;
  const char* name;
  ColumnFamilyProfile profile;
  RetentionClass retention;
};

// Every column family, in handle order.
inline constexpr std::array<ColumnFamilySpec, kColumnFamilyCount> kColumnFamilies = {{
#define TSVAULT_COLUMN_FAMILY_SPEC(enumerator, name, profile, retention) {enumerator, name, profile, retention},
    TSVAULT_COLUMN_FAMILIES(TSVAULT_COLUMN_FAMILY_SPEC)
#undef TSVAULT_COLUMN_FAMILY_SPEC
}};

}  // namespace tsvault::storage
