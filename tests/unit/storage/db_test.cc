// Storage engine behaviour: append, select, out-of-order merge, conflicts,
// checkpoints, WAL replay and reopen.
#include "storage/db.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "storage/column_families.h"
#include "storage/keys.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_labels.h"

namespace tsvault::storage {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

using testing::L;

LabelMatcher M(MatchType type, const char* name, const char* value) {
  LabelMatcher m;
  EXPECT_TRUE(LabelMatcher::Create(type, name, value, &m).ok());
  return m;
}

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

class DBTest : public ::testing::Test {
 protected:
  void Open(WalSyncMode mode = WalSyncMode::kBatch) {
    Options options;
    options.data_dir = dir_.path();
    options.wal_sync = mode;
    options.background_checkpoints = false;
    options.checkpoint_on_close = !crash_on_close_;
    ASSERT_TRUE(DB::Open(options, &db_).ok());
  }
  void Reopen() {
    db_.reset();
    Open();
  }
  WriteResult Write(const Labels& labels, std::vector<Sample> samples) {
    WriteInput input;
    input.series.push_back(SeriesWrite{labels, std::move(samples), {}, {}});
    WriteResult result;
    Status s = db_->Append(input, &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return result;
  }
  std::vector<std::pair<Labels, std::vector<Sample>>> Read(std::vector<LabelMatcher> matchers,
                                                            int64_t mint = kMin, int64_t maxt = kMax) {
    std::unique_ptr<SeriesSet> set;
    Status s = db_->Select({mint, maxt}, matchers, &set);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<std::pair<Labels, std::vector<Sample>>> out;
    while (set->Next()) {
      std::vector<Sample> samples;
      auto it = set->Samples();
      while (it->Next()) samples.push_back(Sample{it->timestamp(), it->value()});
      out.emplace_back(set->labels(), std::move(samples));
    }
    EXPECT_TRUE(set->status().ok());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<DB> db_;
  bool crash_on_close_ = false;
};

TEST_F(DBTest, AppendAndSelect) {
  Open();
  Labels a = L({{"__name__", "up"}, {"job", "node"}, {"instance", "a"}});
  Labels b = L({{"__name__", "up"}, {"job", "node"}, {"instance", "b"}});
  Write(a, {{1000, 1}, {2000, 2}});
  Write(b, {{1000, 5}});
  auto result = Read({M(MatchType::kEqual, "__name__", "up")});
  ASSERT_EQ(result.size(), 2u);
  EXPECT_EQ(result[0].first, a);  // sorted by labels: instance a < b
  ASSERT_EQ(result[0].second.size(), 2u);
  EXPECT_EQ(result[0].second[1].timestamp_ms, 2000);
  EXPECT_EQ(result[0].second[1].value, 2);
  EXPECT_EQ(result[1].first, b);
}

TEST_F(DBTest, MatcherSemantics) {
  Open();
  Write(L({{"__name__", "http_requests_total"}, {"app", "web"}, {"status", "200"}}), {{1, 1}});
  Write(L({{"__name__", "http_requests_total"}, {"app", "admin-panel"}, {"status", "500"}}), {{1, 1}});
  Write(L({{"__name__", "http_requests_total"}, {"status", "404"}}), {{1, 1}});
  auto name = M(MatchType::kEqual, "__name__", "http_requests_total");
  EXPECT_EQ(Read({name, M(MatchType::kRegexMatch, "app", "web|admin.*")}).size(), 2u);
  EXPECT_EQ(Read({name, M(MatchType::kRegexMatch, "app", "dmin")}).size(), 0u);  // anchored
  EXPECT_EQ(Read({name, M(MatchType::kNotEqual, "app", "web")}).size(), 2u);     // absent app counts
  EXPECT_EQ(Read({name, M(MatchType::kEqual, "app", "")}).size(), 1u);           // label absent
  EXPECT_EQ(Read({name, M(MatchType::kNotEqual, "app", "")}).size(), 2u);
  EXPECT_EQ(Read({name, M(MatchType::kRegexNoMatch, "status", "[45]..")}).size(), 1u);
  EXPECT_EQ(Read({M(MatchType::kRegexMatch, "status", ".+")}).size(), 3u);
  std::unique_ptr<SeriesSet> set;
  EXPECT_TRUE(db_->Select({kMin, kMax}, {M(MatchType::kRegexMatch, "app", ".*")}, &set).IsInvalidArgument());
}

TEST_F(DBTest, SpecialFloatsSurviveBitExact) {
  Open();
  double stale;
  uint64_t stale_bits = kStaleNaNBits;
  std::memcpy(&stale, &stale_bits, 8);
  std::vector<double> values = {stale, std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(), -0.0,
                                std::numeric_limits<double>::quiet_NaN(), 5e-324};
  std::vector<Sample> samples;
  for (size_t i = 0; i < values.size(); ++i) samples.push_back({int64_t(i) * 15000, values[i]});
  Labels labels = L({{"__name__", "node_load1"}});
  Write(labels, samples);
  for (int round = 0; round < 2; ++round) {
    auto result = Read({M(MatchType::kEqual, "__name__", "node_load1")});
    ASSERT_EQ(result.size(), 1u);
    ASSERT_EQ(result[0].second.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_EQ(Bits(result[0].second[i].value), Bits(values[i])) << "round " << round << " i " << i;
    }
    Reopen();
  }
}

TEST_F(DBTest, OutOfOrderSamplesAreMergedAtReadTime) {
  Open();
  Labels labels = L({{"__name__", "bullmq_queue_size"}, {"queue", "email"}});
  Write(labels, {{10000, 10}, {20000, 20}, {30000, 30}});
  Write(labels, {{15000, 15}, {5000, 5}});  // late samples
  ASSERT_TRUE(db_->Checkpoint().ok());
  Write(labels, {{25000, 25}, {1000, 1}});  // more late samples after a checkpoint
  auto check = [&] {
    auto result = Read({M(MatchType::kEqual, "queue", "email")});
    ASSERT_EQ(result.size(), 1u);
    std::vector<int64_t> ts;
    for (auto& s : result[0].second) {
      ts.push_back(s.timestamp_ms);
      EXPECT_EQ(s.value, s.timestamp_ms / 1000);
    }
    EXPECT_EQ(ts, (std::vector<int64_t>{1000, 5000, 10000, 15000, 20000, 25000, 30000}));
  };
  check();
  Reopen();
  check();
}

TEST_F(DBTest, DuplicatesStoredOnceConflictsRejected) {
  Open();
  Labels labels = L({{"__name__", "app_errors_total"}, {"app", "web"}});
  Write(labels, {{1000, 1}, {2000, 2}, {3000, 3}});
  WriteResult dup = Write(labels, {{2000, 2}, {3000, 3}});  // exact duplicates
  EXPECT_EQ(dup.samples_rejected, 0u);
  EXPECT_TRUE(dup.errors.empty());
  WriteResult conflict = Write(labels, {{2000, 99}, {3000, 98}, {4000, 4}});
  EXPECT_EQ(conflict.samples_rejected, 2u);
  EXPECT_EQ(conflict.samples_written, 1u);
  ASSERT_FALSE(conflict.errors.empty());
  EXPECT_NE(conflict.errors[0].find("duplicate sample for timestamp"), std::string::npos);
  auto result = Read({M(MatchType::kEqual, "app", "web")});
  ASSERT_EQ(result[0].second.size(), 4u);
  EXPECT_EQ(result[0].second[1].value, 2);  // first write wins
  EXPECT_EQ(result[0].second[2].value, 3);
}

TEST_F(DBTest, ConflictWithPersistedDataKeepsFirstWrite) {
  Open();
  Labels labels = L({{"__name__", "pg_up"}});
  Write(labels, {{1000, 1}, {2000, 1}});
  Reopen();  // head emptied: the earlier samples are only on disk now
  Write(labels, {{2000, 0}, {3000, 1}});
  auto result = Read({M(MatchType::kEqual, "__name__", "pg_up")});
  ASSERT_EQ(result[0].second.size(), 3u);
  EXPECT_EQ(result[0].second[1].value, 1);
}

TEST_F(DBTest, ChunksAreCutAndTimeRangesFilter) {
  Open();
  Labels labels = L({{"__name__", "node_cpu_seconds_total"}, {"cpu", "0"}, {"mode", "idle"}});
  std::vector<Sample> samples;
  // 10 hours at 15 s: crosses windows and the per-chunk sample limit.
  for (int64_t i = 0; i < 2400; ++i) samples.push_back({i * 15000, double(i)});
  Write(labels, samples);
  ASSERT_TRUE(db_->Checkpoint().ok());
  auto matcher = M(MatchType::kEqual, "mode", "idle");
  auto result = Read({matcher}, 3600000, 7200000);
  ASSERT_EQ(result.size(), 1u);
  ASSERT_EQ(result[0].second.size(), 241u);
  EXPECT_EQ(result[0].second.front().timestamp_ms, 3600000);
  EXPECT_EQ(result[0].second.back().timestamp_ms, 7200000);
  EXPECT_EQ(Read({matcher}, 36000000 + 1, kMax).size(), 0u);  // after the last sample
  std::vector<Labels> series;
  ASSERT_TRUE(db_->Series({matcher}, -100000, -1, &series).ok());
  EXPECT_TRUE(series.empty());
  Reopen();
  result = Read({matcher});
  ASSERT_EQ(result[0].second.size(), 2400u);
  for (int64_t i = 0; i < 2400; ++i) ASSERT_EQ(result[0].second[i].value, double(i));
}

TEST_F(DBTest, WalReplayRestoresUncheckpointedSamples) {
  crash_on_close_ = true;  // this DB will be closed without its final checkpoint
  Open();
  crash_on_close_ = false;
  Labels labels = L({{"__name__", "probe_success"}, {"instance", "https://example.org"}});
  Write(labels, {{1000, 1}, {2000, 0}});
  ASSERT_TRUE(db_->Checkpoint().ok());
  Write(labels, {{3000, 1}, {500, 7}});  // only in the WAL (one in order, one late)
  Reopen();
  DBStats stats = db_->Stats();
  EXPECT_EQ(stats.restart_replayed_records, 1u);
  EXPECT_EQ(stats.series_total, 1u);
  auto result = Read({M(MatchType::kEqual, "__name__", "probe_success")});
  ASSERT_EQ(result.size(), 1u);
  std::vector<int64_t> ts;
  for (auto& s : result[0].second) ts.push_back(s.timestamp_ms);
  EXPECT_EQ(ts, (std::vector<int64_t>{500, 1000, 2000, 3000}));
  // A second crash right after recovery loses nothing either.
  crash_on_close_ = true;
  Reopen();
  crash_on_close_ = false;
  Reopen();
  EXPECT_EQ(Read({M(MatchType::kEqual, "__name__", "probe_success")})[0].second.size(), 4u);
}

TEST_F(DBTest, AFailedOpenKeepsTheWalItCouldNotReplay) {
  crash_on_close_ = true;
  Open();
  Write(L({{"__name__", "up"}}), {{1000, 1}});
  db_.reset();  // the sample is only in the WAL
  {
    // A record no decoder accepts, after the good one.
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const ColumnFamilySpec& spec : kColumnFamilies) descriptors.emplace_back(spec.name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_.path() + "/rocksdb", descriptors, &handles, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[kWal], WalKey(1u << 30), "\xff garbage").ok());
    for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
    delete raw;
  }
  Options options;
  options.data_dir = dir_.path();
  options.background_checkpoints = false;
  std::unique_ptr<DB> db;
  EXPECT_TRUE(DB::Open(options, &db).IsCorruption());
  // The failed open did not checkpoint and truncate the WAL on its way out:
  // the second open meets the same record instead of silently dropping it.
  EXPECT_TRUE(DB::Open(options, &db).IsCorruption());
}

TEST_F(DBTest, ReadOnlyOpenSeesTheDataBesideAWriterAndRefusesWrites) {
  Open();
  Write(L({{"__name__", "up"}}), {{1000, 1}, {2000, 0}});
  ASSERT_TRUE(db_->Checkpoint().ok());
  Write(L({{"__name__", "up"}}), {{3000, 1}});  // only in the WAL
  Options options;
  options.data_dir = dir_.path();
  options.read_only = true;
  std::unique_ptr<DB> reader;
  Status s = DB::Open(options, &reader);  // the writer still holds the directory
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<SeriesSet> set;
  ASSERT_TRUE(reader->Select({kMin, kMax}, {M(MatchType::kEqual, "__name__", "up")}, &set).ok());
  ASSERT_TRUE(set->Next());
  size_t samples = 0;
  for (auto it = set->Samples(); it->Next();) ++samples;
  EXPECT_EQ(samples, 3u);
  set.reset();  // series sets go before their DB
  WriteResult result;
  WriteInput input;
  input.series.push_back(SeriesWrite{L({{"__name__", "up"}}), {{4000, 1}}, {}, {}});
  EXPECT_TRUE(reader->Append(input, &result).IsUnsupported());
  EXPECT_TRUE(reader->Checkpoint().IsUnsupported());
  DownsampleStats stats;
  EXPECT_TRUE(reader->Downsample(10'000'000, &stats).IsUnsupported());
  reader.reset();
  options.data_dir = dir_.path() + "/absent";
  EXPECT_TRUE(DB::Open(options, &reader).IsNotFound());
}

TEST_F(DBTest, LabelNamesAndValues) {
  Open();
  Write(L({{"__name__", "redis_up"}, {"instance", "r1"}}), {{1000, 1}});
  Write(L({{"__name__", "pg_up"}, {"instance", "p1"}, {"datname", "app"}}), {{5000, 1}});
  std::vector<std::string> names;
  ASSERT_TRUE(db_->LabelNames({}, kMin, kMax, &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"__name__", "datname", "instance"}));
  ASSERT_TRUE(db_->LabelNames({M(MatchType::kEqual, "__name__", "redis_up")}, kMin, kMax, &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"__name__", "instance"}));
  std::vector<std::string> values;
  ASSERT_TRUE(db_->LabelValues("__name__", {}, kMin, kMax, &values).ok());
  EXPECT_EQ(values, (std::vector<std::string>{"pg_up", "redis_up"}));
  ASSERT_TRUE(db_->LabelValues("instance", {}, 4000, 6000, &values).ok());
  EXPECT_EQ(values, (std::vector<std::string>{"p1"}));
}

TEST_F(DBTest, MetadataAndExemplars) {
  Open();
  WriteInput input;
  Labels labels = L({{"__name__", "http_request_duration_seconds_bucket"}, {"le", "0.5"}});
  Exemplar exemplar{L({{"trace_id", "abc"}}), 0.42, 1500};
  input.series.push_back(SeriesWrite{labels, {{1000, 3}}, {}, {exemplar}});
  input.metadata.push_back(MetricMetadata{"http_request_duration_seconds", MetricType::kHistogram,
                                          "Request latency.", "seconds"});
  WriteResult result;
  ASSERT_TRUE(db_->Append(input, &result).ok());
  EXPECT_EQ(result.exemplars_written, 1u);
  Reopen();
  std::vector<MetricMetadata> metadata;
  ASSERT_TRUE(db_->Metadata("", &metadata).ok());
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_EQ(metadata[0].type, MetricType::kHistogram);
  EXPECT_EQ(metadata[0].help, "Request latency.");
  EXPECT_EQ(metadata[0].unit, "seconds");
  std::vector<std::pair<Labels, std::vector<Exemplar>>> exemplars;
  ASSERT_TRUE(db_->Exemplars({M(MatchType::kEqual, "le", "0.5")}, 0, 2000, &exemplars).ok());
  ASSERT_EQ(exemplars.size(), 1u);
  ASSERT_EQ(exemplars[0].second.size(), 1u);
  EXPECT_EQ(exemplars[0].second[0].labels, exemplar.labels);
  EXPECT_EQ(exemplars[0].second[0].value, 0.42);
  EXPECT_EQ(exemplars[0].second[0].timestamp_ms, 1500);
}

TEST_F(DBTest, NativeHistogramsRoundTrip) {
  Open();
  Histogram h;
  h.timestamp_ms = 1000;
  h.count_int = 10;
  h.sum = 12.5;
  h.schema = 3;
  h.zero_threshold = 1e-128;
  h.zero_count_int = 1;
  h.positive_spans = {{0, 2}, {3, 1}};
  h.positive_deltas = {2, 1, -1};
  h.reset_hint = ResetHint::kNo;
  Histogram h2 = h;
  h2.timestamp_ms = 2000;
  h2.count_int = 12;
  WriteInput input;
  Labels labels = L({{"__name__", "http_request_duration_seconds"}, {"app", "web"}});
  input.series.push_back(SeriesWrite{labels, {}, {h, h2}, {}});
  WriteResult result;
  ASSERT_TRUE(db_->Append(input, &result).ok());
  EXPECT_EQ(result.histograms_written, 2u);
  for (int round = 0; round < 2; ++round) {
    {
      std::unique_ptr<SeriesSet> set;
      ASSERT_TRUE(db_->Select({kMin, kMax}, {M(MatchType::kEqual, "app", "web")}, &set).ok());
      ASSERT_TRUE(set->Next());
      auto it = set->Samples();
      ASSERT_TRUE(it->Next());
      ASSERT_TRUE(it->is_histogram());
      EXPECT_EQ(it->histogram(), h);
      ASSERT_TRUE(it->Next());
      EXPECT_EQ(it->histogram(), h2);
      EXPECT_FALSE(it->Next());
    }
    Reopen();
  }
}

TEST_F(DBTest, ConcurrentWritersAndReaders) {
  Open(WalSyncMode::kBatch);
  constexpr int kThreads = 4, kBatches = 50, kSeries = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        WriteInput input;
        for (int s = 0; s < kSeries; ++s) {
          input.series.push_back(SeriesWrite{
              L({{"__name__", "http_requests_total"}, {"thread", std::to_string(t).c_str()},
                 {"route", std::to_string(s).c_str()}}),
              {{int64_t(b) * 1000, double(b)}}, {}, {}});
        }
        WriteResult result;
        ASSERT_TRUE(db_->Append(input, &result).ok());
        if (b % 10 == 0) Read({M(MatchType::kEqual, "__name__", "http_requests_total")});
      }
    });
  }
  std::thread checkpointer([&] {
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(db_->Checkpoint().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  for (auto& thread : threads) thread.join();
  checkpointer.join();
  auto check = [&] {
    auto result = Read({M(MatchType::kEqual, "__name__", "http_requests_total")});
    ASSERT_EQ(result.size(), size_t(kThreads * kSeries));
    for (auto& [labels, samples] : result) ASSERT_EQ(samples.size(), size_t(kBatches));
  };
  check();
  Reopen();
  check();
}

}  // namespace
}  // namespace tsvault::storage

namespace tsvault::storage {
namespace {

TEST_F(DBTest, SeriesReferencesSkipLabelLookup) {
  Open();
  Labels labels = L({{"__name__", "redis_connected_clients"}, {"instance", "r1"}});
  WriteResult first = Write(labels, {{1000, 40}});
  ASSERT_EQ(first.series_refs.size(), 1u);
  ASSERT_NE(first.series_refs[0], 0u);
  WriteInput input;
  input.series.push_back(SeriesWrite{{}, {{2000, 41}}, {}, {}, first.series_refs[0]});
  WriteResult second;
  ASSERT_TRUE(db_->Append(input, &second).ok());
  EXPECT_EQ(second.series_refs, first.series_refs);
  auto result = Read({M(MatchType::kEqual, "instance", "r1")});
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(result[0].second.size(), 2u);
  // An unknown reference fails the whole call and stores nothing.
  WriteInput bad;
  bad.series.push_back(SeriesWrite{labels, {{3000, 1}}, {}, {}, 0});
  bad.series.push_back(SeriesWrite{{}, {{3000, 1}}, {}, {}, 999});
  WriteResult ignored;
  EXPECT_TRUE(db_->Append(bad, &ignored).IsInvalidArgument());
  EXPECT_EQ(Read({M(MatchType::kEqual, "instance", "r1")})[0].second.size(), 2u);
}

}  // namespace
}  // namespace tsvault::storage
