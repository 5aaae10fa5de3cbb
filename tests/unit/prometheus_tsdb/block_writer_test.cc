// BlockWriter: blocks read back by a reader written from Prometheus' format
// documents (block_reader.h), fixed bytes of the small files, and refusals.
#include "storage/prometheus_tsdb/block_writer.h"

#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "block_reader.h"
#include "storage/prometheus_tsdb/ulid.h"

namespace tsvault::prometheus_tsdb {
namespace {

namespace fs = std::filesystem;

class BlockWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() / ("block_writer_test_" + std::to_string(::getpid()) + "_" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory_)) names.push_back(entry.path().filename().string());
    return names;
  }

  fs::path directory_;
};

std::vector<model::Sample> Samples(int64_t start, int count, int64_t step, double base) {
  std::vector<model::Sample> out;
  for (int i = 0; i < count; ++i) out.push_back({start + i * step, base + i});
  return out;
}

TEST_F(BlockWriterTest, TwoSeriesBlockReadsBack) {
  std::unique_ptr<BlockWriter> writer;
  ASSERT_TRUE(BlockWriter::Create(directory_.string(), 0, 7'200'000, &writer).ok());
  const Labels a = {{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}};
  const Labels b = {{"__name__", "up"}, {"instance", "b:9100"}, {"job", "node"}};
  ASSERT_TRUE(writer->AddSeries(a, Samples(0, 250, 15'000, 1)).ok());
  ASSERT_TRUE(writer->AddSeries(b, Samples(1000, 3, 15'000, 7)).ok());
  std::string ulid;
  BlockStats stats;
  ASSERT_TRUE(writer->Finish(&ulid, &stats).ok());
  EXPECT_TRUE(IsUlid(ulid)) << ulid;
  EXPECT_EQ(stats.series, 2u);
  EXPECT_EQ(stats.samples, 253u);
  EXPECT_EQ(stats.chunks, 4u);  // 120 + 120 + 10, and 3
  EXPECT_EQ(Entries(), std::vector<std::string>{ulid});

  const std::string block = (directory_ / ulid).string();
  std::vector<testing::ReadSeries> series;
  ASSERT_EQ(testing::ReadBlock(block, &series), "");
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].labels, a);
  EXPECT_EQ(series[1].labels, b);
  ASSERT_EQ(series[0].chunks.size(), 3u);
  EXPECT_EQ(series[0].chunks[0].samples.size(), 120u);
  EXPECT_EQ(series[0].chunks[2].samples.size(), 10u);
  EXPECT_EQ(series[0].chunks[2].max_time_ms, 249 * 15'000);
  EXPECT_EQ(series[0].chunks[0].ref, 8u);  // right after the segment header
  EXPECT_EQ(series[1].chunks[0].samples[2].value, 9.0);

  const nlohmann::json meta = nlohmann::json::parse(testing::ReadWholeFile(block + "/meta.json"));
  EXPECT_EQ(meta["ulid"], ulid);
  EXPECT_EQ(meta["minTime"], 0);
  EXPECT_EQ(meta["maxTime"], 7'200'000);
  EXPECT_EQ(meta["stats"]["numSamples"], 253);
  EXPECT_EQ(meta["stats"]["numSeries"], 2);
  EXPECT_EQ(meta["stats"]["numChunks"], 4);
  EXPECT_EQ(meta["compaction"]["level"], 1);
  EXPECT_EQ(meta["compaction"]["sources"], nlohmann::json::array({ulid}));
  EXPECT_EQ(meta["version"], 1);
  EXPECT_EQ(testing::ReadWholeFile(block + "/tombstones"), std::string("\x01\x30\xba\x30\x01\0\0\0\0", 9));
  EXPECT_EQ(testing::ReadWholeFile(block + "/chunks/000001").substr(0, 8), std::string("\x85\xbd\x40\xdd\x01\0\0\0", 8));
}

TEST_F(BlockWriterTest, RandomBlocksReadBackExactly) {
  std::mt19937_64 random(11);
  for (int round = 0; round < 5; ++round) {
    std::vector<std::pair<Labels, std::vector<model::Sample>>> expected;
    for (int i = 0; i < 400; ++i) {
      Labels labels = {{"__name__", "metric_" + std::to_string(random() % 7)},
                       {"instance", "host-" + std::to_string(random() % 50)},
                       {"zone", random() % 2 ? "eu" : "us\xc3\xa9"}};
      if (random() % 3 == 0) labels.insert(labels.begin() + 1, {"device", "sd" + std::to_string(random() % 4)});
      std::vector<model::Sample> samples;
      int64_t t = static_cast<int64_t>(random() % 1000);
      const int count = 1 + static_cast<int>(random() % 500);
      for (int k = 0; k < count && t < 7'200'000; ++k) {
        samples.push_back({t, std::bit_cast<double>(random() % 3 ? uint64_t{0x4059000000000000} + k : random())});
        t += 1 + static_cast<int64_t>(random() % 30'000);
      }
      expected.emplace_back(labels, samples);
    }
    std::sort(expected.begin(), expected.end(),
              [](const auto& x, const auto& y) { return CompareLabels(x.first, y.first) < 0; });
    expected.erase(std::unique(expected.begin(), expected.end(),
                               [](const auto& x, const auto& y) { return x.first == y.first; }),
                   expected.end());
    std::unique_ptr<BlockWriter> writer;
    ASSERT_TRUE(BlockWriter::Create(directory_.string(), 0, 7'200'000, &writer).ok());
    for (const auto& [labels, samples] : expected) ASSERT_TRUE(writer->AddSeries(labels, samples).ok());
    std::string ulid;
    BlockStats stats;
    ASSERT_TRUE(writer->Finish(&ulid, &stats).ok());
    std::vector<testing::ReadSeries> series;
    ASSERT_EQ(testing::ReadBlock((directory_ / ulid).string(), &series), "");
    ASSERT_EQ(series.size(), expected.size());
    for (size_t i = 0; i < series.size(); ++i) {
      EXPECT_EQ(series[i].labels, expected[i].first);
      std::vector<model::Sample> samples;
      for (const auto& chunk : series[i].chunks) samples.insert(samples.end(), chunk.samples.begin(), chunk.samples.end());
      ASSERT_EQ(samples.size(), expected[i].second.size());
      for (size_t k = 0; k < samples.size(); ++k) {
        EXPECT_EQ(samples[k].timestamp_ms, expected[i].second[k].timestamp_ms);
        EXPECT_EQ(std::bit_cast<uint64_t>(samples[k].value), std::bit_cast<uint64_t>(expected[i].second[k].value));
      }
    }
  }
}

TEST_F(BlockWriterTest, RefusesOutOfOrderSeriesAndSamplesOutsideTheRange) {
  std::unique_ptr<BlockWriter> writer;
  ASSERT_TRUE(BlockWriter::Create(directory_.string(), 1000, 2000, &writer).ok());
  EXPECT_TRUE(writer->AddSeries({{"__name__", "b"}}, {{1000, 1}}).ok());
  EXPECT_FALSE(writer->AddSeries({{"__name__", "a"}}, {{1000, 1}}).ok());
  EXPECT_FALSE(writer->AddSeries({{"__name__", "b"}}, {{1001, 1}}).ok());
  EXPECT_FALSE(writer->AddSeries({{"__name__", "c"}}, {{2000, 1}}).ok());  // maxTime is exclusive
  EXPECT_FALSE(writer->AddSeries({{"__name__", "d"}}, {{999, 1}}).ok());
  EXPECT_FALSE(writer->AddSeries({{"__name__", "e"}}, {{1500, 1}, {1500, 2}}).ok());
  EXPECT_FALSE(writer->AddSeries({}, {{1500, 1}}).ok());
  std::unique_ptr<BlockWriter> empty_range;
  EXPECT_FALSE(BlockWriter::Create(directory_.string(), 5, 5, &empty_range).ok());
}

TEST_F(BlockWriterTest, UnfinishedAndEmptyBlocksLeaveNothing) {
  {
    std::unique_ptr<BlockWriter> writer;
    ASSERT_TRUE(BlockWriter::Create(directory_.string(), 0, 1000, &writer).ok());
    ASSERT_TRUE(writer->AddSeries({{"__name__", "x"}}, {{1, 1}}).ok());
    ASSERT_EQ(Entries().size(), 1u);
    EXPECT_NE(Entries()[0].find(".tmp-for-creation"), std::string::npos);
  }
  EXPECT_TRUE(Entries().empty());
  std::unique_ptr<BlockWriter> writer;
  ASSERT_TRUE(BlockWriter::Create(directory_.string(), 0, 1000, &writer).ok());
  ASSERT_TRUE(writer->AddSeries({{"__name__", "x"}}, {}).ok());
  std::string ulid = "unset";
  BlockStats stats;
  ASSERT_TRUE(writer->Finish(&ulid, &stats).ok());
  EXPECT_EQ(ulid, "");
  writer.reset();
  EXPECT_TRUE(Entries().empty());
}

TEST(UlidTest, ShapeAndTimePrefix) {
  const std::string a = NewUlid(1'700'000'000'000), b = NewUlid(1'700'000'000'000);
  EXPECT_TRUE(IsUlid(a)) << a;
  EXPECT_NE(a, b);
  EXPECT_EQ(a.substr(0, 10), b.substr(0, 10));  // 48 time bits = the first 10 characters
  EXPECT_EQ(NewUlid(0).substr(0, 10), "0000000000");
  EXPECT_EQ(NewUlid((uint64_t{1} << 48) - 1).substr(0, 10), "7ZZZZZZZZZ");
  EXPECT_LT(NewUlid(1).substr(0, 10), NewUlid(2).substr(0, 10));
  EXPECT_FALSE(IsUlid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
  EXPECT_FALSE(IsUlid("01ARZ3NDEKTSV4RRFFQ69G5FAI"));  // I is not Crockford
  EXPECT_FALSE(IsUlid("01ARZ3NDEKTSV4RRFFQ69G5FA"));
}

}  // namespace
}  // namespace tsvault::prometheus_tsdb
