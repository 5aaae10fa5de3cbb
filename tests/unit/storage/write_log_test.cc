// The write log kept for consumers (db_log.cc, docs/design/forwarding.md):
// records survive checkpoints and restarts until every consumer read past
// them, recovery replays only what the chunk store lacks, the bound gives
// up the oldest records (counted) or refuses writes, and a reader never
// skips a record whose append is still being written.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "storage/db.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_labels.h"

namespace tsvault::storage {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

class WriteLogTest : public ::testing::Test {
 protected:
  Options MakeOptions(std::vector<std::string> consumers) {
    Options options;
    options.data_dir = dir_.path();
    options.wal_sync = WalSyncMode::kNone;
    options.background_checkpoints = false;
    options.checkpoint_on_close = false;  // leave the WAL as a crash would
    options.log_consumers = std::move(consumers);
    return options;
  }
  void Open(const Options& options) {
    db_.reset();
    ASSERT_TRUE(DB::Open(options, &db_).ok());
  }
  // One append of `count` samples for series `name`, starting at sample `first`.
  Status Write(const std::string& name, int first, int count) {
    WriteInput input;
    SeriesWrite write;
    write.labels = testing::L({{"__name__", name.c_str()}});
    for (int i = first; i < first + count; ++i) write.samples.push_back({kStart + i * 1000, static_cast<double>(i)});
    input.series.push_back(write);
    WriteResult result;
    return db_->Append(input, &result);
  }
  std::vector<LogRecord> Read(uint64_t from, uint64_t* next = nullptr) {
    std::vector<LogRecord> records;
    uint64_t after = 0;
    EXPECT_TRUE(db_->ReadLog(from, 1000, &records, &after).ok());
    if (next != nullptr) *next = after;
    return records;
  }
  uint64_t Position(const std::string& name) {
    uint64_t kept;
    for (const LogConsumerState& state : db_->LogConsumers(&kept)) {
      if (state.name == name) return state.position;
    }
    ADD_FAILURE() << "no consumer " << name;
    return 0;
  }

  testing::TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(WriteLogTest, WithoutConsumersACheckpointFreesTheLogAndRecoveryReplaysOnlyWhatFollows) {
  Open(MakeOptions({}));
  ASSERT_TRUE(Write("a", 0, 5).ok());
  ASSERT_TRUE(Write("a", 5, 5).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_TRUE(Read(0).empty());
  ASSERT_TRUE(Write("a", 10, 5).ok());
  Open(MakeOptions({}));
  EXPECT_EQ(db_->Stats().restart_replayed_records, 1u);
}

TEST_F(WriteLogTest, ConsumersKeepRecordsAcrossCheckpointsAndRestarts) {
  Open(MakeOptions({"thanos", "vm"}));
  const uint64_t start = Position("thanos");
  ASSERT_TRUE(Write("a", 0, 3).ok());
  ASSERT_TRUE(Write("b", 0, 2).ok());
  ASSERT_TRUE(Write("a", 3, 4).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  uint64_t next = 0;
  std::vector<LogRecord> records = Read(start, &next);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].sequence, start);
  EXPECT_EQ(next, records[2].sequence + 1);
  ASSERT_EQ(records[2].entries.size(), 1u);
  EXPECT_EQ(records[2].entries[0].sample_count, 4u);
  EXPECT_EQ(records[2].SamplesOf(records[2].entries[0])[0].timestamp_ms, kStart + 3000);
  Labels labels;
  ASSERT_TRUE(db_->SeriesLabels(records[1].entries[0].series_id, &labels).ok());
  EXPECT_EQ(labels, testing::L({{"__name__", "b"}}));

  // One consumer is done with two records, the other with none: all stay.
  ASSERT_TRUE(db_->AdvanceLogConsumer("thanos", records[2].sequence).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_EQ(Read(0).size(), 3u);
  // Both past the second: only the third stays, also after a restart.
  ASSERT_TRUE(db_->AdvanceLogConsumer("vm", records[2].sequence).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  Open(MakeOptions({"thanos", "vm"}));
  EXPECT_EQ(db_->Stats().restart_replayed_records, 0u);  // all in the chunk store
  EXPECT_EQ(Position("thanos"), records[2].sequence);
  records = Read(0);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].entries[0].sample_count, 4u);
  // Sequences continue after the restart.
  ASSERT_TRUE(Write("a", 7, 1).ok());
  records = Read(0);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_GT(records[1].sequence, records[0].sequence);
  EXPECT_TRUE(db_->AdvanceLogConsumer("nobody", 1).IsInvalidArgument());
}

TEST_F(WriteLogTest, AConsumerNoLongerConfiguredFreesWhatWasKeptForIt) {
  Open(MakeOptions({"old"}));
  ASSERT_TRUE(Write("a", 0, 3).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  const std::vector<LogRecord> kept = Read(0);
  ASSERT_EQ(kept.size(), 1u);
  Open(MakeOptions({"new"}));
  EXPECT_EQ(Position("new"), kept[0].sequence + 1);  // a new consumer starts with the next record
  EXPECT_TRUE(Read(0).empty());
  ASSERT_TRUE(db_->Checkpoint().ok());
  // Nothing kept for "old" any more: with "old" listed again it starts afresh.
  Open(MakeOptions({"old"}));
  EXPECT_EQ(Position("old"), kept[0].sequence + 1);
}

// What an offline tool (import, delete, compact) opens: no consumer listed,
// but the stored ones are kept, with their positions, and get the records
// the tool writes.
TEST_F(WriteLogTest, KeptStoredConsumersGetWhatAnOfflineToolWrites) {
  Open(MakeOptions({"target"}));
  ASSERT_TRUE(Write("a", 0, 3).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  const uint64_t position = Position("target");
  Options offline = MakeOptions({});
  offline.keep_stored_log_consumers = true;
  Open(offline);
  EXPECT_EQ(Position("target"), position);
  ASSERT_TRUE(Write("imported", 0, 5).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  Open(MakeOptions({"target"}));
  EXPECT_EQ(Position("target"), position);
  const std::vector<LogRecord> records = Read(position);
  ASSERT_EQ(records.size(), 2u) << "the server's write and the offline tool's";
  EXPECT_EQ(records[1].samples.size(), 5u);
}

TEST_F(WriteLogTest, AFullLogGivesUpTheOldestRecordsAndCountsThem) {
  Options options = MakeOptions({"slow"});
  options.log_max_bytes = 2000;
  Open(options);
  const uint64_t start = Position("slow");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Write("a", i * 10, 10).ok());  // ~90 bytes each
  ASSERT_TRUE(db_->Checkpoint().ok());
  uint64_t kept = 0;
  const std::vector<LogConsumerState> states = db_->LogConsumers(&kept);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_LE(kept, 2000u);
  EXPECT_GT(states[0].records_dropped, 0u);
  EXPECT_EQ(states[0].samples_dropped, states[0].records_dropped * 10);
  EXPECT_EQ(states[0].position, start + states[0].records_dropped);
  const std::vector<LogRecord> records = Read(start);
  ASSERT_EQ(records.size(), 20u - states[0].records_dropped);
  EXPECT_EQ(records[0].sequence, states[0].position);
  EXPECT_TRUE(Write("a", 1000, 1).ok());  // writes go on
}

TEST_F(WriteLogTest, AFullLogRefusesWritesUntilConsumersCatchUp) {
  Options options = MakeOptions({"slow"});
  options.log_max_bytes = 500;
  options.log_reject_when_full = true;
  Open(options);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Write("a", i * 10, 10).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  Status refused = Write("a", 1000, 1);
  EXPECT_TRUE(refused.IsResourceExhausted()) << refused.ToString();
  uint64_t next = 0;
  EXPECT_EQ(Read(0, &next).size(), 20u);  // nothing given up
  ASSERT_TRUE(db_->AdvanceLogConsumer("slow", next).ok());
  EXPECT_TRUE(Write("a", 1000, 1).ok());
}

TEST_F(WriteLogTest, AReaderStopsAtARecordStillBeingWritten) {
  Options options = MakeOptions({"c"});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> first_waiting;
  std::atomic<int> calls{0};
  options.append_write_hook = [&] {
    if (calls.fetch_add(1) == 0) {
      first_waiting.set_value();
      released.wait();
    }
  };
  Open(options);
  const uint64_t start = Position("c");
  std::thread slow([&] { EXPECT_TRUE(Write("slow", 0, 1).ok()); });
  first_waiting.get_future().wait();
  ASSERT_TRUE(Write("fast", 0, 1).ok());  // a later sequence, written first
  uint64_t next = 0;
  EXPECT_TRUE(Read(start, &next).empty());
  EXPECT_EQ(next, start);  // not past the record in flight
  release.set_value();
  slow.join();
  EXPECT_EQ(Read(start, &next).size(), 2u);
  EXPECT_EQ(next, start + 2);
}

TEST_F(WriteLogTest, ExemplarsAndMetadataAreLoggedForConsumersOnly) {
  WriteInput input;
  SeriesWrite write;
  write.labels = testing::L({{"__name__", "http_requests_total"}});
  write.samples.push_back({kStart, 1});
  write.exemplars.push_back(Exemplar{testing::L({{"trace_id", "abc"}}), 1, kStart});
  input.series.push_back(write);
  MetricMetadata metadata;
  metadata.metric_family_name = "http_requests_total";
  metadata.type = MetricType::kCounter;
  metadata.help = "Requests.";
  input.metadata.push_back(metadata);
  WriteResult result;
  Open(MakeOptions({}));
  ASSERT_TRUE(db_->Append(input, &result).ok());
  Open(MakeOptions({"c"}));  // replays the record without them
  EXPECT_EQ(db_->Stats().restart_replayed_records, 1u);
  const uint64_t start = Position("c");
  input.series[0].samples[0].timestamp_ms = input.series[0].exemplars[0].timestamp_ms = kStart + 1000;
  ASSERT_TRUE(db_->Append(input, &result).ok());
  std::vector<LogRecord> records = Read(start);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].entries.size(), 1u);
  ASSERT_EQ(records[0].entries[0].exemplars.size(), 1u);
  EXPECT_EQ(records[0].entries[0].exemplars[0].labels, testing::L({{"trace_id", "abc"}}));
  EXPECT_EQ(records[0].entries[0].exemplars[0].timestamp_ms, kStart + 1000);
  ASSERT_EQ(records[0].metadata.size(), 1u);
  EXPECT_EQ(records[0].metadata[0].help, "Requests.");
  EXPECT_EQ(records[0].metadata[0].type, MetricType::kCounter);
  // Recovery replays such a record (and skips the exemplars and metadata).
  Open(MakeOptions({"c"}));
  EXPECT_EQ(db_->Stats().restart_replayed_records, 1u);
}

TEST_F(WriteLogTest, LabelsOfDeletedSeriesAreGone) {
  Open(MakeOptions({"c"}));
  ASSERT_TRUE(Write("gone", 0, 2).ok());
  const std::vector<LogRecord> records = Read(0);
  ASSERT_EQ(records.size(), 1u);
  LabelMatcher matcher;
  ASSERT_TRUE(LabelMatcher::Create(MatchType::kEqual, "__name__", "gone", &matcher).ok());
  DeleteStats stats;
  ASSERT_TRUE(db_->Delete({matcher}, INT64_MIN, INT64_MAX, &stats).ok());
  Labels labels;
  EXPECT_TRUE(db_->SeriesLabels(records[0].entries[0].series_id, &labels).IsNotFound());
}

}  // namespace
}  // namespace tsvault::storage
