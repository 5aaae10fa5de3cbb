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
};

// X(enumerator, name, profile), in handle order; "default" must come first.
#define TSVAULT_COLUMN_FAMILIES(X)                        \
  X(kDefault, "default", ColumnFamilyProfile::kDefault)   \
  X(kSeries, "series", ColumnFamilyProfile::kIndex)       \
  X(kPostings, "postings", ColumnFamilyProfile::kIndex)   \
  X(kChunks, "chunks", ColumnFamilyProfile::kChunks)      \
  X(kExemplars, "exemplars", ColumnFamilyProfile::kIndex) \
  X(kMetadata, "metadata", ColumnFamilyProfile::kIndex)   \
  X(kWal, "wal", ColumnFamilyProfile::kWal)                           \
  X(kRollups5m, "chunks_5m", ColumnFamilyProfile::kChunks)           \
  X(kRollups1h, "chunks_1h", ColumnFamilyProfile::kChunks)           \
  X(kRollups1d, "chunks_1d", ColumnFamilyProfile::kChunks)           \
  X(kRollupDirty, "rollup_dirty", ColumnFamilyProfile::kIndex)

// Index of a column family's handle in DBImpl's handle vector.
enum ColumnFamilyIndex : size_t {
#define TSVAULT_COLUMN_FAMILY_ENUMERATOR(enumerator, name, profile) enumerator,
  TSVAULT_COLUMN_FAMILIES(TSVAULT_COLUMN_FAMILY_ENUMERATOR)
#undef TSVAULT_COLUMN_FAMILY_ENUMERATOR
  kColumnFamilyCount
};

// One row of the table.
struct ColumnFamilySpec {
  ColumnFamilyIndex index;
  const char* name;
  ColumnFamilyProfile profile;
};

// Every column family, in handle order.
inline constexpr std::array<ColumnFamilySpec, kColumnFamilyCount> kColumnFamilies = {{
#define TSVAULT_COLUMN_FAMILY_SPEC(enumerator, name, profile) {enumerator, name, profile},
    TSVAULT_COLUMN_FAMILIES(TSVAULT_COLUMN_FAMILY_SPEC)
#undef TSVAULT_COLUMN_FAMILY_SPEC
}};

}  // namespace tsvault::storage
