// SeriesIndex: finding series by label set, growth, hash collisions, and a
// randomized comparison against a std::map.
#include "storage/series_index.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>

#include "storage/keys.h"
#include "storage/mem_series.h"

namespace tsvault::storage {
namespace {

std::string Encode(const Labels& labels) {
  std::string encoded;
  EncodeLabels(labels, &encoded);
  return encoded;
}

// Owns the series the index points at.
class SeriesIndexTest : public ::testing::Test {
 protected:
  MemSeries* NewSeries(uint64_t id, const Labels& labels) {
    return NewSeriesWithHash(id, labels, HashLabels(labels));
  }
  MemSeries* NewSeriesWithHash(uint64_t id, const Labels& labels, uint64_t hash) {
    owned_.push_back(std::make_unique<MemSeries>(id, Encode(labels), hash));
    return owned_.back().get();
  }

  SeriesIndex index_;
  std::vector<std::unique_ptr<MemSeries>> owned_;
};

TEST_F(SeriesIndexTest, EmptyIndexFindsNothing) {
  const Labels labels{{"__name__", "up"}};
  EXPECT_EQ(index_.Find(HashLabels(labels), Encode(labels)), nullptr);
  EXPECT_EQ(index_.size(), 0u);
}

TEST_F(SeriesIndexTest, FindsInsertedSeriesByLabels) {
  const Labels up{{"__name__", "up"}, {"job", "a"}};
  const Labels down{{"__name__", "down"}, {"job", "a"}};
  MemSeries* up_series = NewSeries(1, up);
  index_.Insert(up_series);
  EXPECT_EQ(index_.Find(HashLabels(up), Encode(up)), up_series);
  EXPECT_EQ(index_.Find(HashLabels(down), Encode(down)), nullptr);
  // The right labels under a wrong hash are not found.
  EXPECT_EQ(index_.Find(HashLabels(up) ^ 1, Encode(up)), nullptr);
  MemSeries* down_series = NewSeries(2, down);
  index_.Insert(down_series);
  EXPECT_EQ(index_.Find(HashLabels(down), Encode(down)), down_series);
  EXPECT_EQ(index_.Find(HashLabels(up), Encode(up)), up_series);
  EXPECT_EQ(index_.size(), 2u);
}

TEST_F(SeriesIndexTest, CollidingHashesAreToldApartByLabels) {
  // Every series under the same hash: one long probe run.
  constexpr uint64_t kHash = 0x1234;
  std::vector<Labels> label_sets;
  for (int i = 0; i < 50; ++i) {
    label_sets.push_back(Labels{{"__name__", "m"}, {"i", std::to_string(i)}});
    index_.Insert(NewSeriesWithHash(static_cast<uint64_t>(i) + 1, label_sets.back(), kHash));
  }
  for (int i = 0; i < 50; ++i) {
    MemSeries* found = index_.Find(kHash, Encode(label_sets[i]));
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->id(), static_cast<uint64_t>(i) + 1);
  }
  const Labels other{{"__name__", "m"}, {"i", "50"}};
  EXPECT_EQ(index_.Find(kHash, Encode(other)), nullptr);
}

TEST_F(SeriesIndexTest, HashesSharingLowBitsProbePastEachOther) {
  // Hashes equal in their low bits land on the same home slot whatever the
  // table size; they differ only above bit 40.
  std::vector<Labels> label_sets;
  for (uint64_t i = 0; i < 200; ++i) {
    label_sets.push_back(Labels{{"k", std::to_string(i)}});
    index_.Insert(NewSeriesWithHash(i + 1, label_sets.back(), (i << 40) | 7));
  }
  for (uint64_t i = 0; i < 200; ++i) {
    MemSeries* found = index_.Find((i << 40) | 7, Encode(label_sets[i]));
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->id(), i + 1);
  }
}

TEST_F(SeriesIndexTest, MatchesMapOnRandomLabelSets) {
  std::mt19937_64 rng(99);
  std::map<std::string, MemSeries*> expected;  // encoded labels -> series
  uint64_t next_id = 1;
  for (int step = 0; step < 20'000; ++step) {
    // Small value alphabet: lookups hit existing series about half the time.
    std::string metric = "m";
    metric += std::to_string(rng() % 20);
    Labels labels{{"__name__", metric}, {"instance", std::to_string(rng() % 50)}};
    if (rng() % 3 == 0) labels.push_back(Label{"zone", std::to_string(rng() % 3)});
    const std::string encoded = Encode(labels);
    const uint64_t hash = HashLabels(labels);
    MemSeries* found = index_.Find(hash, encoded);
    auto it = expected.find(encoded);
    if (it == expected.end()) {
      ASSERT_EQ(found, nullptr) << "step " << step;
      MemSeries* series = NewSeries(next_id++, labels);
      index_.Insert(series);
      expected.emplace(encoded, series);
    } else {
      ASSERT_EQ(found, it->second) << "step " << step;
    }
    ASSERT_EQ(index_.size(), expected.size());
  }
  // Every series is still found after all the growth.
  for (const auto& [encoded, series] : expected) {
    ASSERT_EQ(index_.Find(series->hash(), encoded), series);
  }
  EXPECT_GT(expected.size(), 1000u);
}

TEST_F(SeriesIndexTest, EraseKeepsTheRestOfAProbeRunReachable) {
  // All under hashes sharing their home slot, plus neighbours that wrap:
  // erasing from the middle of a run must shift later entries back.
  std::vector<MemSeries*> series;
  std::vector<Labels> label_sets;
  for (uint64_t i = 0; i < 12; ++i) {
    label_sets.push_back(Labels{{"k", std::to_string(i)}});
    const uint64_t hash = i < 8 ? 14 : 15;  // home slots 14 and 15 of 16: runs wrap to 0
    series.push_back(NewSeriesWithHash(i + 1, label_sets.back(), hash));
    index_.Insert(series.back());
  }
  for (uint64_t erase : {3u, 0u, 9u, 7u}) {
    index_.Erase(series[erase]);
    EXPECT_EQ(index_.Find(series[erase]->hash(), Encode(label_sets[erase])), nullptr);
  }
  EXPECT_EQ(index_.size(), 8u);
  for (uint64_t i = 0; i < 12; ++i) {
    if (i == 3 || i == 0 || i == 9 || i == 7) continue;
    EXPECT_EQ(index_.Find(series[i]->hash(), Encode(label_sets[i])), series[i]) << i;
  }
  index_.Erase(series[3]);  // not indexed any more: ignored
  EXPECT_EQ(index_.size(), 8u);
}

TEST_F(SeriesIndexTest, RandomInsertsAndErasesMatchMap) {
  std::mt19937_64 rng(7);
  std::map<std::string, MemSeries*> expected;
  uint64_t next_id = 1;
  for (int step = 0; step < 20'000; ++step) {
    Labels labels{{"__name__", "m"}, {"i", std::to_string(rng() % 300)}};
    const std::string encoded = Encode(labels);
    // A small hash space forces long, overlapping probe runs.
    const uint64_t hash = HashLabels(labels) % 64;
    auto it = expected.find(encoded);
    if (it == expected.end()) {
      MemSeries* series = NewSeriesWithHash(next_id++, labels, hash);
      index_.Insert(series);
      expected.emplace(encoded, series);
    } else if (rng() % 2 == 0) {
      index_.Erase(it->second);
      expected.erase(it);
    }
    ASSERT_EQ(index_.size(), expected.size()) << "step " << step;
    if (step % 500 == 0) {
      for (const auto& [key, series] : expected) ASSERT_EQ(index_.Find(series->hash(), key), series);
    }
  }
  for (const auto& [key, series] : expected) ASSERT_EQ(index_.Find(series->hash(), key), series);
}

}  // namespace
}  // namespace tsvault::storage
