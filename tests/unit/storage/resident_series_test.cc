// Resident series (db_series.cc): a series whose every window is sealed and
// that holds nothing in memory leaves the head at a checkpoint; reads,
// label queries, deletion and retention still find it through the
// persisted index; its next sample brings it back under the same id; a
// restart loads only the resident set; directories from before the
// persisted lookup index are migrated.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>

#include "storage/column_families.h"
#include "storage/db.h"
#include "storage/keys.h"
#include "storage/persisted_index.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_labels.h"

namespace tsvault::storage {
namespace {

constexpr int64_t kDay = model::kResolution1d;
constexpr int64_t kStart = 1'700'000'000'000 / kDay * kDay;
constexpr int64_t kInterval = 60'000;

LabelMatcher Matcher(MatchType type, const char* name, const char* value) {
  LabelMatcher m;
  EXPECT_TRUE(LabelMatcher::Create(type, name, value, &m).ok());
  return m;
}

// The data directory opened straight on RocksDB, every column family.
class RawRocks {
 public:
  RawRocks(const std::string& data_dir, bool read_only) {
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const ColumnFamilySpec& spec : kColumnFamilies) {
      descriptors.emplace_back(spec.name, rocksdb::ColumnFamilyOptions());
    }
    const std::string path = data_dir + "/rocksdb";
    status_ = read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descriptors, &handles_, &db_)
                        : rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles_, &db_);
  }
  ~RawRocks() {
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    delete db_;
  }
  bool ok() const { return status_.ok(); }
  rocksdb::DB* db() { return db_; }
  rocksdb::ColumnFamilyHandle* cf(ColumnFamilyIndex index) { return handles_[index]; }

 private:
  rocksdb::Status status_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

class ResidentSeriesTest : public ::testing::Test {
 protected:
  void Open() {
    db_.reset();
    Options options;
    options.data_dir = dir_.path();
    options.wal_sync = WalSyncMode::kNone;
    options.background_checkpoints = false;
    ASSERT_TRUE(DB::Open(options, &db_).ok());
  }

  // Samples every minute over [from, to).
  uint64_t Write(const Labels& labels, int64_t from, int64_t to, uint64_t ref = 0) {
    std::vector<Sample> samples;
    for (int64_t t = from; t < to; t += kInterval) samples.push_back({t, static_cast<double>(t / kInterval % 7)});
    WriteInput input;
    input.series.push_back(SeriesWrite{labels, std::move(samples), {}, {}});
    input.series.back().series_ref = ref;
    WriteResult result;
    Status s = db_->Append(input, &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return result.series_refs.empty() ? 0 : result.series_refs[0];
  }

  // Two job="a" series that end on day 2 and one job="b" series that runs
  // to day 10; rollups sealed to day 5, so a checkpoint evicts the first two.
  void WriteAndEvict() {
    old1_ = Write(testing::L({{"__name__", "up"}, {"job", "a"}, {"instance", "1"}}), kStart, kStart + 2 * kDay);
    old2_ = Write(testing::L({{"__name__", "up"}, {"job", "a"}, {"instance", "2"}}), kStart, kStart + 2 * kDay);
    live_ = Write(testing::L({{"__name__", "up"}, {"job", "b"}, {"instance", "3"}}), kStart, kStart + 10 * kDay);
    ASSERT_TRUE(db_->Checkpoint().ok());
    before_ = Samples({Matcher(MatchType::kEqual, "__name__", "up")}, kStart - kDay, kStart + 11 * kDay);
    DownsampleStats stats;
    ASSERT_TRUE(db_->Downsample(kStart + 5 * kDay, &stats).ok());
    ASSERT_TRUE(db_->Checkpoint().ok());
    ASSERT_EQ(db_->Stats().resident_series, 1u);
    ASSERT_EQ(db_->Stats().series_total, 3u);
  }

  // label set -> raw samples in [mint, maxt].
  using Points = std::vector<std::pair<int64_t, double>>;
  std::map<std::string, Points> Samples(const std::vector<LabelMatcher>& matchers, int64_t mint,
                                                     int64_t maxt) {
    std::unique_ptr<SeriesSet> set;
    EXPECT_TRUE(db_->Select(SelectHints(mint, maxt), matchers, &set).ok());
    std::map<std::string, Points> out;
    while (set->Next()) {
      auto& samples = out[LabelsToString(set->labels())];
      auto it = set->Samples();
      while (it->Next()) samples.emplace_back(it->timestamp(), it->value());
    }
    EXPECT_TRUE(set->status().ok());
    return out;
  }

  std::vector<std::string> Values(const std::string& name, int64_t mint, int64_t maxt,
                                  std::vector<LabelMatcher> matchers = {}) {
    std::vector<std::string> out;
    EXPECT_TRUE(db_->LabelValues(name, matchers, mint, maxt, &out).ok());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<DB> db_;
  uint64_t old1_ = 0, old2_ = 0, live_ = 0;
  std::map<std::string, Points> before_;
};

TEST_F(ResidentSeriesTest, EvictedSeriesAreStillReadFromTheIndexOnDisk) {
  Open();
  WriteAndEvict();
  const int64_t kAll = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Samples({Matcher(MatchType::kEqual, "__name__", "up")}, kStart - kDay, kStart + 11 * kDay), before_);
  EXPECT_EQ(Samples({Matcher(MatchType::kEqual, "job", "a")}, kStart, kStart + kDay).size(), 2u);
  EXPECT_EQ(Samples({Matcher(MatchType::kRegexMatch, "instance", "1|3")}, kStart, kStart + kDay).size(), 2u);
  EXPECT_EQ(Samples({Matcher(MatchType::kEqual, "__name__", "up"), Matcher(MatchType::kNotEqual, "job", "b")},
                    kStart, kStart + kDay)
                .size(),
            2u);
  // A range after their last sample does not list them.
  EXPECT_EQ(Samples({Matcher(MatchType::kEqual, "__name__", "up")}, kStart + 6 * kDay, kStart + 7 * kDay).size(), 1u);

  std::vector<Labels> series;
  ASSERT_TRUE(db_->Series({Matcher(MatchType::kEqual, "__name__", "up")}, -kAll, kAll, &series).ok());
  EXPECT_EQ(series.size(), 3u);
  EXPECT_EQ(Values("job", -kAll, kAll), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Values("instance", kStart, kStart + kDay), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(Values("instance", -kAll, kAll, {Matcher(MatchType::kEqual, "job", "a")}),
            (std::vector<std::string>{"1", "2"}));
  std::vector<std::string> names;
  ASSERT_TRUE(db_->LabelNames({}, -kAll, kAll, &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"__name__", "instance", "job"}));
}

TEST_F(ResidentSeriesTest, TheNextSampleBringsASeriesBackUnderItsId) {
  Open();
  WriteAndEvict();
  // By labels and by reference; a new series gets a new id.
  EXPECT_EQ(Write(testing::L({{"__name__", "up"}, {"job", "a"}, {"instance", "1"}}), kStart + 11 * kDay,
                  kStart + 11 * kDay + kInterval),
            old1_);
  EXPECT_EQ(Write({}, kStart + 11 * kDay, kStart + 11 * kDay + kInterval, old2_), old2_);
  const uint64_t fresh =
      Write(testing::L({{"__name__", "up"}, {"job", "c"}}), kStart + 11 * kDay, kStart + 11 * kDay + kInterval);
  EXPECT_GT(fresh, live_);
  EXPECT_EQ(db_->Stats().resident_series, 4u);
  EXPECT_EQ(db_->Stats().series_total, 4u);
  auto after = Samples({Matcher(MatchType::kEqual, "job", "a")}, kStart, kStart + 12 * kDay);
  ASSERT_EQ(after.size(), 2u);
  for (const auto& [labels, samples] : after) EXPECT_EQ(samples.size(), 2 * kDay / kInterval + 1) << labels;

}

TEST_F(ResidentSeriesTest, ALateSampleBringsASeriesBackAndItsRollupsAreRedone) {
  Open();
  WriteAndEvict();
  const Labels labels = testing::L({{"__name__", "up"}, {"job", "a"}, {"instance", "2"}});
  EXPECT_EQ(Write(labels, kStart + kDay + 30, kStart + kDay + 31), old2_);
  EXPECT_EQ(db_->Stats().resident_series, 2u);
  DownsampleStats stats;
  ASSERT_TRUE(db_->Downsample(kStart + 5 * kDay, &stats).ok());
  EXPECT_GT(stats.stale_spans_redone, 0u);
  // Sealed again and nothing in memory after a checkpoint: evicted again.
  ASSERT_TRUE(db_->Checkpoint().ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_EQ(db_->Stats().resident_series, 1u);
  EXPECT_EQ(Samples({Matcher(MatchType::kEqual, "instance", "2")}, kStart, kStart + 3 * kDay).begin()->second.size(),
            2 * kDay / kInterval + 1);
}

TEST_F(ResidentSeriesTest, ARestartLoadsOnlyTheResidentSet) {
  Open();
  WriteAndEvict();
  Open();
  EXPECT_EQ(db_->Stats().resident_series, 1u);
  EXPECT_EQ(db_->Stats().series_total, 3u);
  EXPECT_EQ(Samples({Matcher(MatchType::kEqual, "__name__", "up")}, kStart - kDay, kStart + 11 * kDay), before_);
  EXPECT_EQ(Write(testing::L({{"__name__", "up"}, {"job", "a"}, {"instance", "2"}}), kStart + 11 * kDay,
                  kStart + 11 * kDay + kInterval),
            old2_);
  // Back in the head set: the next restart loads it.
  Open();
  EXPECT_EQ(db_->Stats().resident_series, 2u);
  EXPECT_EQ(Write(testing::L({{"__name__", "up"}, {"job", "z"}}), kStart + 12 * kDay, kStart + 12 * kDay + 1),
            live_ + 1);
}

TEST_F(ResidentSeriesTest, DeletionReachesSeriesOutsideTheHead) {
  Open();
  WriteAndEvict();
  DeleteStats stats;
  ASSERT_TRUE(db_->Delete({Matcher(MatchType::kEqual, "instance", "1")}, std::numeric_limits<int64_t>::min(),
                          std::numeric_limits<int64_t>::max(), &stats)
                  .ok());
  EXPECT_EQ(stats.series_removed, 1u);
  // A range cut of an evicted series.
  ASSERT_TRUE(db_->Delete({Matcher(MatchType::kEqual, "instance", "2")}, kStart, kStart + kDay, &stats).ok());
  EXPECT_EQ(stats.series_matched, 1u);
  EXPECT_EQ(db_->Stats().series_total, 2u);
  for (int restart = 0; restart < 2; ++restart) {
    auto left = Samples({Matcher(MatchType::kEqual, "job", "a")}, kStart - kDay, kStart + 11 * kDay);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left.begin()->second.front().first, kStart + kDay + kInterval);
    EXPECT_EQ(db_->Stats().series_total, 2u);
    Open();
  }
  // The same labels again: a new series, never an old id.
  EXPECT_GT(Write(testing::L({{"__name__", "up"}, {"job", "a"}, {"instance", "1"}}), kStart + 11 * kDay,
                  kStart + 11 * kDay + 1),
            live_);
}

TEST_F(ResidentSeriesTest, PersistedIndexSelectsWithPrometheusSemantics) {
  Open();
  WriteAndEvict();
  db_.reset();
  // Straight on RocksDB: every stored series, resident or not.
  RawRocks raw(dir_.path(), /*read_only=*/true);
  ASSERT_TRUE(raw.ok());
  PersistedIndex index(raw.db(), raw.cf(kPostings), raw.cf(kSeries));
  SeriesIds ids;
  auto select = [&](std::vector<LabelMatcher> matchers) {
    EXPECT_TRUE(index.Select(matchers, &ids).ok());
    return ids;
  };
  EXPECT_EQ(select({Matcher(MatchType::kEqual, "job", "a")}), (SeriesIds{old1_, old2_}));
  EXPECT_EQ(select({Matcher(MatchType::kRegexMatch, "instance", "[13]")}), (SeriesIds{old1_, live_}));
  EXPECT_EQ(select({Matcher(MatchType::kNotEqual, "job", "a")}), (SeriesIds{live_}));
  EXPECT_EQ(select({Matcher(MatchType::kEqual, "missing", "")}), (SeriesIds{old1_, old2_, live_}));
  EXPECT_EQ(select({Matcher(MatchType::kRegexNoMatch, "instance", "2|3")}), (SeriesIds{old1_}));
  EXPECT_EQ(select({Matcher(MatchType::kEqual, "job", "nope")}), SeriesIds{});
  std::vector<std::string> strings;
  ASSERT_TRUE(index.LabelNames(&strings).ok());
  EXPECT_EQ(strings, (std::vector<std::string>{"__name__", "instance", "job"}));
  ASSERT_TRUE(index.LabelValues("instance", &strings).ok());
  EXPECT_EQ(strings, (std::vector<std::string>{"1", "2", "3"}));
}

TEST_F(ResidentSeriesTest, ADirectoryWithoutTheLookupIndexIsMigrated) {
  Open();
  Write(testing::L({{"__name__", "up"}, {"job", "a"}}), kStart, kStart + kDay);
  Write(testing::L({{"__name__", "up"}, {"job", "b"}}), kStart, kStart + kDay);
  db_.reset();
  {
    // Back to the layout before series_hashes and head_series.
    RawRocks raw(dir_.path(), /*read_only=*/false);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw.db()->Delete(rocksdb::WriteOptions(), raw.cf(kDefault), std::string(kIndexLayoutKey)).ok());
    ASSERT_TRUE(raw.db()->Delete(rocksdb::WriteOptions(), raw.cf(kDefault), std::string(kSeriesIdsKey)).ok());
    for (ColumnFamilyIndex family : {kSeriesHashes, kHeadSeries}) {
      ASSERT_TRUE(raw.db()->DeleteRange(rocksdb::WriteOptions(), raw.cf(family), std::string(1, '\0'),
                                        std::string(17, '\xff'))
                      .ok());
    }
  }
  Open();
  EXPECT_EQ(db_->Stats().series_total, 2u);
  EXPECT_EQ(db_->Stats().resident_series, 2u);
  DownsampleStats stats;
  ASSERT_TRUE(db_->Downsample(kStart + 5 * kDay, &stats).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_EQ(db_->Stats().resident_series, 0u);
  // Found by labels through the migrated index, not created again.
  Write(testing::L({{"__name__", "up"}, {"job", "a"}}), kStart + 6 * kDay, kStart + 6 * kDay + 1);
  EXPECT_EQ(db_->Stats().series_total, 2u);
  EXPECT_EQ(Samples({Matcher(MatchType::kEqual, "__name__", "up")}, kStart, kStart + 7 * kDay).size(), 2u);
}

}  // namespace
}  // namespace tsvault::storage

namespace tsvault::storage {
namespace {

// A set split into parts (for parallel readers) reads, part after part,
// what it reads whole: the series outside the head are checked for data in
// the range by whichever part reaches them.
TEST_F(ResidentSeriesTest, ASplitSetReadsWhatTheWholeSetReads) {
  Open();
  WriteAndEvict();
  const std::vector<LabelMatcher> up = {Matcher(MatchType::kEqual, "__name__", "up")};
  // All three series have data in the first range; none has in the
  // second, before any sample, where all three are still candidates.
  for (const auto& [mint, maxt, expected_series] :
       {std::tuple{kStart - kDay, kStart + 11 * kDay, 3u}, std::tuple{kStart - 2 * kDay, kStart - kDay, 0u}}) {
    const std::map<std::string, Points> whole = Samples(up, mint, maxt);
    EXPECT_EQ(whole.size(), expected_series);
    std::unique_ptr<SeriesSet> set;
    ASSERT_TRUE(db_->Select(SelectHints(mint, maxt), up, &set).ok());
    // Two series per part at least: three series make one part, no split.
    EXPECT_TRUE(set->Split(8, 2).empty());
    std::vector<std::unique_ptr<SeriesSet>> parts = set->Split(8, 1);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_FALSE(set->Next());
    std::map<std::string, Points> joined;
    std::vector<std::string> order;
    for (auto& part : parts) {
      while (part->Next()) {
        order.push_back(LabelsToString(part->labels()));
        auto& samples = joined[order.back()];
        auto it = part->Samples();
        while (it->Next()) samples.emplace_back(it->timestamp(), it->value());
      }
      EXPECT_TRUE(part->status().ok());
    }
    EXPECT_EQ(joined, whole);
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  }
}

}  // namespace
}  // namespace tsvault::storage
