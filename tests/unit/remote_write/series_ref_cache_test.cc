// SeriesRefCache on its own: key format, lookups, bounds, concurrency.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "proto/remote_write_v1.pb.h"
#include "remote_write/series_ref_cache.h"

namespace tsvault::remote_write {
namespace {

std::string Key(std::vector<std::pair<std::string, std::string>> labels) {
  std::string key;
  for (const auto& [name, value] : labels) AppendSeriesKeyLabel(name, value, &key);
  return key;
}

uint64_t Lookup(const SeriesRefCache& cache, const std::string& key) {
  return cache.Lookup(key, cache.Hash(key));
}

void Insert(SeriesRefCache* cache, const std::string& key, uint64_t ref) {
  cache->Insert(key, cache->Hash(key), ref);
}

// The labels of a 1.0 TimeSeries as the generated (canonical) encoder writes them.
std::string V1LabelFields(std::vector<std::pair<std::string, std::string>> labels) {
  prometheus::TimeSeries series;
  for (const auto& [name, value] : labels) {
    prometheus::Label* label = series.add_labels();
    label->set_name(name);
    label->set_value(value);
  }
  return series.SerializeAsString();
}

TEST(SeriesKeyTest, KeyIsTheVersion1LabelsEncoding) {
  EXPECT_EQ(Key({{"__name__", "up"}, {"job", "a"}}),
            std::string("\x0a\x0e\x0a\x08__name__\x12\x02up\x0a\x08\x0a\x03job\x12\x01" "a"));
  for (const auto& labels : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {},
           {{"", ""}},
           {{"a", ""}, {"", "b"}},
           {{"__name__", "x"}, {"long", std::string(300, 'v')}, {std::string(200, 'n'), "w"}},
       }) {
    EXPECT_EQ(Key(labels), V1LabelFields(labels));
    size_t size = 0;
    for (const auto& [name, value] : labels) size += SeriesKeyLabelSize(name, value);
    EXPECT_EQ(Key(labels).size(), size);
  }
  // Every string size class of the copy (0, 1-3, 4-7, 8-16, longer) and the
  // one-byte/multi-byte length boundary.
  for (size_t name_size : {0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 60, 123, 124, 130}) {
    for (size_t value_size : {0, 1, 3, 5, 8, 12, 16, 17, 40, 127, 128, 300}) {
      std::string name(name_size, 'n'), value(value_size, 'v');
      for (size_t i = 0; i < name.size(); ++i) name[i] = static_cast<char>('a' + i % 26);
      for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('A' + i % 26);
      EXPECT_EQ(Key({{name, value}, {"x", "y"}}), V1LabelFields({{name, value}, {"x", "y"}}))
          << name_size << " " << value_size;
    }
  }
  // Boundaries between name and value, and the order, are part of the key.
  EXPECT_NE(Key({{"ab", "c"}}), Key({{"a", "bc"}}));
  EXPECT_NE(Key({{"a", ""}, {"b", "c"}}), Key({{"a", "b"}, {"", "c"}}));
  EXPECT_NE(Key({{"a", "1"}, {"b", "2"}}), Key({{"b", "2"}, {"a", "1"}}));
}

TEST(SeriesRefCacheTest, InsertLookupReplace) {
  SeriesRefCache cache(1000, 1 << 20);
  ASSERT_TRUE(cache.enabled());
  const std::string a = Key({{"__name__", "up"}, {"job", "a"}});
  const std::string b = Key({{"__name__", "up"}, {"job", "b"}});
  EXPECT_EQ(Lookup(cache, a), 0u);
  Insert(&cache, a, 7);
  EXPECT_EQ(Lookup(cache, a), 7u);
  EXPECT_EQ(Lookup(cache, b), 0u);
  Insert(&cache, b, 8);
  Insert(&cache, a, 9);  // replaced, not added
  EXPECT_EQ(Lookup(cache, a), 9u);
  EXPECT_EQ(Lookup(cache, b), 8u);
  EXPECT_EQ(cache.size(), 2u);
  Insert(&cache, Key({{"x", "y"}}), 0);  // 0 is not a reference
  EXPECT_EQ(cache.size(), 2u);
  Insert(&cache, "", 3);  // the empty key is a key like any other
  EXPECT_EQ(Lookup(cache, ""), 3u);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(Lookup(cache, a), 0u);
}

TEST(SeriesRefCacheTest, ManyKeysSurviveTableGrowth) {
  SeriesRefCache cache(1'000'000, 1ull << 30);
  constexpr int kKeys = 50'000;
  for (int i = 0; i < kKeys; ++i) Insert(&cache, Key({{"__name__", "m"}, {"i", std::to_string(i)}}), i + 1);
  EXPECT_EQ(cache.size(), static_cast<uint64_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_EQ(Lookup(cache, Key({{"__name__", "m"}, {"i", std::to_string(i)}})), static_cast<uint64_t>(i + 1));
  }
  EXPECT_EQ(Lookup(cache, Key({{"__name__", "m"}, {"i", "-1"}})), 0u);
}

TEST(SeriesRefCacheTest, ZeroBoundDisables) {
  for (auto [entries, bytes] : {std::pair<uint64_t, uint64_t>{0, 1 << 20}, {1000, 0}}) {
    SeriesRefCache cache(entries, bytes);
    EXPECT_FALSE(cache.enabled());
    Insert(&cache, "k", 1);
    EXPECT_EQ(Lookup(cache, "k"), 0u);
    EXPECT_EQ(cache.size(), 0u);
  }
}

TEST(SeriesRefCacheTest, EntryBoundIsNeverExceeded) {
  for (uint64_t bound : {1u, 3u, 10u, 100u, 5000u}) {
    SeriesRefCache cache(bound, 1ull << 30);
    uint64_t max_seen = 0;
    for (int i = 0; i < 20'000; ++i) {
      const std::string key = Key({{"__name__", "m"}, {"i", std::to_string(i)}});
      Insert(&cache, key, i + 1);
      // The entry just inserted is always found.
      ASSERT_EQ(Lookup(cache, key), static_cast<uint64_t>(i + 1)) << bound << " " << i;
      if (i % 97 == 0) max_seen = std::max(max_seen, cache.size());
    }
    max_seen = std::max(max_seen, cache.size());
    EXPECT_LE(max_seen, bound);
    EXPECT_GT(max_seen, 0u);
  }
}

TEST(SeriesRefCacheTest, ByteBoundIsNeverExceeded) {
  constexpr uint64_t kBytes = 256 << 10;
  SeriesRefCache cache(1'000'000, kBytes);
  const std::string long_value(200, 'x');
  uint64_t max_bytes = 0;
  for (int i = 0; i < 20'000; ++i) {
    Insert(&cache, Key({{"__name__", "m"}, {"v", long_value}, {"i", std::to_string(i)}}), i + 1);
    max_bytes = std::max(max_bytes, cache.allocated_bytes());
  }
  EXPECT_LE(max_bytes, kBytes);
  EXPECT_GT(cache.size(), 100u);  // still useful
  // A key larger than a shard's share is simply not stored.
  const std::string huge = Key({{"__name__", std::string(kBytes, 'h')}});
  Insert(&cache, huge, 5);
  EXPECT_EQ(Lookup(cache, huge), 0u);
  EXPECT_LE(cache.allocated_bytes(), kBytes);
}

TEST(SeriesRefCacheTest, EntriesOlderThanTheMaximumAgeGoOnTheNextInsert) {
  // One shard (one entry bound), so every insert lands in the same shard.
  SeriesRefCache cache(1, 1 << 20, std::chrono::milliseconds(300));
  SeriesRefCache ageless(100000, 1 << 24);
  Insert(&cache, "ended", 1);
  EXPECT_EQ(Lookup(cache, "ended"), 1u);
  // Far below the bounds, an old entry stays until an insert comes.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Lookup(cache, "ended"), 1u);
  Insert(&cache, "ended", 2);  // an update does not empty the shard
  EXPECT_EQ(Lookup(cache, "ended"), 2u);

  SeriesRefCache aging(100000, 1 << 24, std::chrono::milliseconds(300));
  // Enough keys that every shard holds some.
  for (int i = 0; i < 500; ++i) Insert(&aging, "old" + std::to_string(i), i + 1);
  for (int i = 0; i < 500; ++i) Insert(&ageless, "old" + std::to_string(i), i + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (int i = 0; i < 500; ++i) Insert(&aging, "new" + std::to_string(i), i + 1);
  for (int i = 0; i < 500; ++i) Insert(&ageless, "new" + std::to_string(i), i + 1);
  int old_left = 0, old_kept = 0;
  for (int i = 0; i < 500; ++i) {
    old_left += Lookup(aging, "old" + std::to_string(i)) != 0;
    old_kept += Lookup(ageless, "old" + std::to_string(i)) != 0;
    // The entries inserted since are all there.
    ASSERT_EQ(Lookup(aging, "new" + std::to_string(i)), static_cast<uint64_t>(i + 1));
  }
  EXPECT_EQ(old_left, 0);
  EXPECT_EQ(old_kept, 500);
  EXPECT_EQ(aging.size(), 500u);
}

TEST(SeriesRefCacheTest, ConcurrentInsertAndLookupAgree) {
  SeriesRefCache cache(3000, 1ull << 30);  // small: shards are emptied while others read
  constexpr int kThreads = 4;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        // Keys shared by all threads; the reference is a function of the key.
        const int id = (i * 7 + t * 13) % 5000;
        const std::string key = Key({{"__name__", "m"}, {"id", std::to_string(id)}});
        const uint64_t ref = cache.Lookup(key, cache.Hash(key));
        if (ref != 0 && ref != static_cast<uint64_t>(id) + 1) ++wrong;
        if (ref == 0) cache.Insert(key, cache.Hash(key), static_cast<uint64_t>(id) + 1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(cache.size(), 3000u);
}

}  // namespace
}  // namespace tsvault::remote_write
