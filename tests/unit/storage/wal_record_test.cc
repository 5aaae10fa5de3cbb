#include "storage/wal_record.h"

#include <gtest/gtest.h>

#include <random>

namespace tsvault::storage {
namespace {

TEST(WalRecordTest, RoundTripFloatsAndHistograms) {
  WalRecordBuilder builder;
  std::vector<Sample> a = {{-5, 1.5}, {1000, -2}, {999999999999, 3}};
  builder.AddFloats(7, a.data(), a.size());
  Histogram h;
  h.timestamp_ms = 42;
  h.is_float = true;
  h.count_float = 3.5;
  h.positive_spans = {{1, 2}};
  h.positive_counts = {1.5, 2};
  builder.AddHistograms(9, &h, 1);
  std::vector<std::pair<uint64_t, Sample>> floats;
  std::vector<std::pair<uint64_t, Histogram>> histograms;
  Status s = DecodeWalRecord(
      builder.data(),
      [&](uint64_t id, std::span<const Sample> run) {
        for (const Sample& x : run) floats.emplace_back(id, x);
      },
      [&](uint64_t id, const Histogram& x) { histograms.emplace_back(id, x); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(floats.size(), 3u);
  EXPECT_EQ(floats[2].first, 7u);
  EXPECT_EQ(floats[2].second.timestamp_ms, 999999999999);
  EXPECT_EQ(floats[0].second.timestamp_ms, -5);
  ASSERT_EQ(histograms.size(), 1u);
  EXPECT_EQ(histograms[0].first, 9u);
  EXPECT_EQ(histograms[0].second, h);
}

TEST(WalRecordTest, DamagedRecordsReportCorruption) {
  WalRecordBuilder builder;
  std::vector<Sample> a = {{1, 1}, {2, 2}};
  builder.AddFloats(1, a.data(), a.size());
  const std::string good = builder.data();
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string bad = good.substr(0, rng() % good.size());
    if (!bad.empty() && rng() % 2) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    size_t calls = 0;
    Status s = DecodeWalRecord(bad, [&](uint64_t, std::span<const Sample> run) { calls += run.size(); },
                               [&](uint64_t, const Histogram&) { ++calls; });
    if (bad.size() < good.size() && !s.ok()) {
      EXPECT_TRUE(s.IsCorruption());
    }
    EXPECT_LE(calls, 1000000u);
  }
}

}  // namespace
}  // namespace tsvault::storage
