// The Ingester without HTTP: a source that is not Remote Write builds its
// batch with AddValidatedSeries and gets the same label rules, accounting,
// in-flight bound and storage append as the Remote Write handler.
#include "remote_write/ingester.h"

#include <gtest/gtest.h>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/db.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_db.h"

namespace tsvault::remote_write {
namespace {

class IngesterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status status = tsvault::testing::OpenTestDB(dir_.path(), &db_);
    ASSERT_TRUE(status.ok()) << status.ToString();
    IngesterOptions ingester_options;
    ingester_options.max_inflight_bytes = 1000;
    ingester_ = std::make_unique<Ingester>(db_.get(), ingester_options, &registry_);
  }

  // Reopens the store with series limits, and a fresh ingester on it.
  void ReopenWithSeriesLimits(uint64_t max_series, uint64_t max_new_series_per_write) {
    ingester_.reset();
    db_.reset();
    storage::Options options;
    options.data_dir = dir_.path();
    options.wal_sync = storage::WalSyncMode::kNone;
    options.background_checkpoints = false;
    options.max_series = max_series;
    options.max_new_series_per_write = max_new_series_per_write;
    ASSERT_TRUE(storage::DB::Open(options, &db_).ok());
    ingester_ = std::make_unique<Ingester>(db_.get(), IngesterOptions(), &registry_);
  }

  // Appends one sample at `t` (and, with `twice`, another a second later)
  // to each series named in `names`.
  IngestOutcome WriteNames(const std::vector<std::string>& names, int64_t t, bool twice) {
    IngestOutcome outcome;
    EXPECT_TRUE(ingester_
                    ->Ingest(
                        [&](const SeriesRefCache*, IngestBatch* batch) {
                          for (const std::string& name : names) {
                            auto& samples =
                                batch->AddValidatedSeries({{"__name__", name}}, ingester_->label_limits())->samples;
                            samples = {{t, 1.0}};
                            if (twice) samples.push_back({t + 1000, 2.0});
                          }
                          return Status::OK();
                        },
                        &outcome)
                    .ok());
    return outcome;
  }

  // Float samples of the series with __name__ = `name`.
  std::vector<std::pair<Labels, std::vector<int64_t>>> Read(const std::string& name) {
    storage::LabelMatcher matcher;
    EXPECT_TRUE(storage::LabelMatcher::Create(storage::MatchType::kEqual, "__name__", name, &matcher).ok());
    std::unique_ptr<storage::SeriesSet> set;
    EXPECT_TRUE(db_->Select(storage::SelectHints(INT64_MIN, INT64_MAX), {matcher}, &set).ok());
    std::vector<std::pair<Labels, std::vector<int64_t>>> out;
    while (set != nullptr && set->Next()) {
      out.emplace_back(set->labels(), std::vector<int64_t>{});
      std::unique_ptr<storage::SampleIterator> it = set->Samples();
      while (it->Next()) out.back().second.push_back(it->timestamp());
    }
    return out;
  }

  testing::TempDir dir_;
  prometheus::Registry registry_;
  std::unique_ptr<storage::DB> db_;
  std::unique_ptr<Ingester> ingester_;
};

TEST_F(IngesterTest, ValidatesCanonicalizesAndAppends) {
  auto build = [&](const SeriesRefCache*, IngestBatch* batch) {
    // Unsorted labels with an empty value: canonicalized, the empty label dropped.
    storage::SeriesWrite* good =
        batch->AddValidatedSeries({{"job", "csv"}, {"__name__", "imported"}, {"empty", ""}}, ingester_->label_limits());
    if (good != nullptr) good->samples = {{1000, 1.0}, {2000, 2.0}};
    // No metric name, and a duplicate label: both rejected, nothing else lost.
    EXPECT_EQ(batch->AddValidatedSeries({{"job", "csv"}}, ingester_->label_limits()), nullptr);
    EXPECT_EQ(batch->AddValidatedSeries({{"__name__", "imported"}, {"a", "1"}, {"a", "2"}},
                                        ingester_->label_limits()),
              nullptr);
    return Status::OK();
  };
  IngestOutcome outcome;
  ASSERT_TRUE(ingester_->Ingest(build, &outcome).ok());
  EXPECT_EQ(outcome.result.samples_written, 2u);
  EXPECT_TRUE(outcome.has_rejections);
  EXPECT_NE(outcome.partial_write_text.find("missing_metric_name"), std::string::npos) << outcome.partial_write_text;
  EXPECT_NE(outcome.partial_write_text.find("duplicate_label"), std::string::npos) << outcome.partial_write_text;

  auto stored = Read("imported");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].first, (Labels{{"__name__", "imported"}, {"job", "csv"}}));
  EXPECT_EQ(stored[0].second, (std::vector<int64_t>{1000, 2000}));
}

TEST_F(IngesterTest, OldSamplesNoRollupWindowCanTakeAreRefusedAsTooOld) {
  constexpr int64_t kDay = 86'400'000;
  constexpr int64_t kStart = 20'000 * kDay;
  storage::WriteInput input;
  input.series.push_back({{{"__name__", "kept"}}, {{kStart, 1}, {kStart + 3 * kDay, 2}}, {}, {}});
  // Two samples in the 5m window ending at kStart + 1d: after retention,
  // a late one between them cannot be placed.
  input.series.push_back({{{"__name__", "late"}}, {{kStart + kDay - 200'000, 1}, {kStart + kDay - 100'000, 1}}, {}, {}});
  storage::WriteResult written;
  ASSERT_TRUE(db_->Append(input, &written).ok());
  storage::DownsampleStats sealed;
  ASSERT_TRUE(db_->Downsample(kStart + 3 * kDay, &sealed).ok());
  storage::RetentionRequest request;
  request.drop_before_ms[0] = kStart + 2 * kDay;
  storage::RetentionStats retention;
  ASSERT_TRUE(db_->ApplyRetention(request, &retention).ok());

  auto build = [&](const SeriesRefCache*, IngestBatch* batch) {
    storage::SeriesWrite* series = batch->AddValidatedSeries({{"__name__", "late"}}, ingester_->label_limits());
    series->samples = {{kStart + kDay - 150'000, 1.0}, {kStart + 2 * kDay + 5, 2.0}};
    return Status::OK();
  };
  IngestOutcome outcome;
  ASSERT_TRUE(ingester_->Ingest(build, &outcome).ok());
  EXPECT_EQ(outcome.result.samples_written, 1u);
  EXPECT_EQ(outcome.too_old, 1u);
  EXPECT_NE(outcome.partial_write_text.find("1 samples rejected by storage (older than the raw retention"),
            std::string::npos)
      << outcome.partial_write_text;
  EXPECT_NE(outcome.partial_write_text.find("  - too_old: sample at timestamp " + std::to_string(kStart + kDay - 150'000)),
            std::string::npos)
      << outcome.partial_write_text;
  const std::string metrics = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_NE(metrics.find("tsvault_remote_write_rejected_total{reason=\"too_old\"} 1"), std::string::npos);
  EXPECT_EQ(Read("late")[0].second, (std::vector<int64_t>{kStart + 2 * kDay + 5}));
}

TEST_F(IngesterTest, ASourceErrorWritesNothing) {
  auto build = [&](const SeriesRefCache*, IngestBatch* batch) {
    storage::SeriesWrite* series = batch->AddValidatedSeries({{"__name__", "half"}}, ingester_->label_limits());
    series->samples = {{1000, 1.0}};
    return Status::Corruption("line 3, column 7: not a number");
  };
  IngestOutcome outcome;
  Status status = ingester_->Ingest(build, &outcome);
  EXPECT_TRUE(status.IsCorruption());
  EXPECT_TRUE(outcome.source_failed);
  EXPECT_TRUE(Read("half").empty());
}

TEST_F(IngesterTest, InflightBudgetIsReturnedWhenAReservationEnds) {
  {
    InflightReservation first;
    ingester_->Reserve(600, &first);
    ASSERT_TRUE(first.granted());
    InflightReservation second;
    ingester_->Reserve(600, &second);
    EXPECT_FALSE(second.granted());
    EXPECT_EQ(second.in_flight_seen(), 600u);
    InflightReservation too_big;
    ingester_->Reserve(1001, &too_big);
    EXPECT_FALSE(too_big.granted());
  }
  InflightReservation again;
  ingester_->Reserve(1000, &again);
  EXPECT_TRUE(again.granted());
}

TEST_F(IngesterTest, NewSeriesBeyondTheSeriesLimitAreRefusedKnownOnesAreNot) {
  ASSERT_NO_FATAL_FAILURE(ReopenWithSeriesLimits(2, 0));
  auto write = [&](std::vector<std::string> names, int64_t t) { return WriteNames(names, t, /*twice=*/true); };
  IngestOutcome outcome = write({"a", "b", "c"}, 1000);
  EXPECT_EQ(outcome.result.samples_written, 4u);
  EXPECT_EQ(outcome.series_limited, 2u);
  EXPECT_NE(outcome.partial_write_text.find("2 samples of new series rejected by storage (series limit reached"),
            std::string::npos)
      << outcome.partial_write_text;
  EXPECT_NE(outcome.partial_write_text.find("series_limit: the head holds 2 series, the limit (--storage.max-series 2); "
                                            "new series c{} was not created"),
            std::string::npos)
      << outcome.partial_write_text;
  EXPECT_TRUE(Read("c").empty());
  // Known series keep taking samples (through the series cache too).
  outcome = write({"a", "b"}, 5000);
  EXPECT_EQ(outcome.result.samples_written, 4u);
  EXPECT_EQ(outcome.series_limited, 0u);
  outcome = write({"a", "c"}, 9000);
  EXPECT_EQ(outcome.result.samples_written, 2u);
  EXPECT_EQ(outcome.series_limited, 2u);
  const std::string metrics = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_NE(metrics.find("tsvault_remote_write_rejected_total{reason=\"series_limit\"} 4"), std::string::npos);
}

TEST_F(IngesterTest, OneWriteCreatesAtMostMaxNewSeriesPerWrite) {
  ASSERT_NO_FATAL_FAILURE(ReopenWithSeriesLimits(0, 2));
  auto write = [&](std::vector<std::string> names, int64_t t) { return WriteNames(names, t, /*twice=*/false); };
  IngestOutcome outcome = write({"a", "b", "c", "d"}, 1000);
  EXPECT_EQ(outcome.result.samples_written, 2u);
  EXPECT_EQ(outcome.series_limited, 2u);
  EXPECT_NE(outcome.partial_write_text.find("series_limit: this request already created 2 new series, the limit per "
                                            "request (--storage.max-new-series-per-write 2); new series c{}"),
            std::string::npos)
      << outcome.partial_write_text;
  // Stored series are not new: a, b and two more new ones fit the next request.
  outcome = write({"a", "b", "c", "d"}, 2000);
  EXPECT_EQ(outcome.result.samples_written, 4u);
  EXPECT_EQ(outcome.series_limited, 0u);
}

TEST_F(IngesterTest, TimestampsOutsideYears1To9999AreRefusedTheRestIsWritten) {
  IngestOutcome outcome;
  const int64_t huge = int64_t{1} << 62;
  ASSERT_TRUE(ingester_
                  ->Ingest(
                      [&](const SeriesRefCache*, IngestBatch* batch) {
                        storage::SeriesWrite* series = batch->AddValidatedSeries({{"__name__", "bounded"}},
                                                                                 ingester_->label_limits());
                        series->samples = {{-huge, 1.0},
                                           {storage::kMinTimestampMs, 2.0},
                                           {1000, 3.0},
                                           {storage::kMaxTimestampMs, 4.0},
                                           {storage::kMaxTimestampMs + 1, 5.0},
                                           {huge, 6.0}};
                        series->exemplars.push_back(storage::Exemplar{{}, 1.0, huge});
                        return Status::OK();
                      },
                      &outcome)
                  .ok());
  EXPECT_EQ(outcome.result.samples_written, 3u);
  EXPECT_EQ(outcome.result.exemplars_written, 0u);
  EXPECT_EQ(outcome.out_of_bounds, 4u);  // three samples and the exemplar
  EXPECT_NE(outcome.partial_write_text.find("4 samples rejected by storage (timestamp outside years 0001 to 9999)"),
            std::string::npos)
      << outcome.partial_write_text;
  EXPECT_NE(outcome.partial_write_text.find("out_of_bounds: sample at timestamp " + std::to_string(huge) +
                                            " is outside the accepted window"),
            std::string::npos)
      << outcome.partial_write_text;
  const auto stored = Read("bounded");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].second, (std::vector<int64_t>{storage::kMinTimestampMs, 1000, storage::kMaxTimestampMs}));
  const std::string metrics = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_NE(metrics.find("tsvault_remote_write_rejected_total{reason=\"out_of_bounds\"} 4"), std::string::npos);
}

}  // namespace
}  // namespace tsvault::remote_write
