#include "import/importer.h"

#include <gtest/gtest.h>

#include <map>

namespace tsvault::import {
namespace {

// Keeps every sample by series ("{labels}" text) and accepts them all.
class MemorySink : public ImportSink {
 public:
  Status Write(storage::WriteInput* input, ImportReport* report) override {
    ++batches;
    for (const storage::SeriesWrite& series : input->series) {
      for (const storage::Sample& sample : series.samples) {
        samples[LabelsToString(series.labels)].push_back(sample);
        ++report->samples_accepted;
      }
    }
    for (const storage::MetricMetadata& m : input->metadata) metadata[m.metric_family_name] = m;
    return Status::OK();
  }
  int batches = 0;
  std::map<std::string, std::vector<storage::Sample>> samples;
  std::map<std::string, storage::MetricMetadata> metadata;
};

Status ImportAll(const ImportOptions& options, std::string_view text, MemorySink* sink, ImportReport* report,
                 size_t piece = 5) {
  std::unique_ptr<Importer> importer;
  Status s = Importer::Create(options, sink, &importer);
  if (!s.ok()) return s;
  for (size_t at = 0; at < text.size() && s.ok(); at += piece) s = importer->Feed(text.substr(at, piece));
  if (s.ok()) s = importer->Finish();
  *report = importer->report();
  return s;
}

TEST(ImporterTest, CsvRowsBecomeSamplesOfEachMetricColumn) {
  ImportOptions options;
  options.csv_format = "1:label:level,2:time:rfc3339,3:metric:sent,4:metric:returned";
  options.extra_labels = {{"source", "pg"}};
  MemorySink sink;
  ImportReport report;
  ASSERT_TRUE(ImportAll(options,
                        "gold,2026-01-01T00:00:00Z,10,1\n"
                        "gold,2026-01-02T00:00:00Z,12,\n"
                        "silver,2026-01-01T00:00:00Z,3,0.5,extra,columns,ignored\n",
                        &sink, &report)
                  .ok());
  EXPECT_EQ(report.samples_read, 5u);
  EXPECT_EQ(report.samples_accepted, 5u);
  ASSERT_EQ(sink.samples.size(), 4u);
  const auto& gold = sink.samples["sent{level=\"gold\", source=\"pg\"}"];
  ASSERT_EQ(gold.size(), 2u);
  EXPECT_EQ(gold[0].timestamp_ms, 1767225600000);
  EXPECT_EQ(gold[1].value, 12);
  EXPECT_EQ(sink.samples["returned{level=\"gold\", source=\"pg\"}"].size(), 1u)
      << "an empty metric field is no sample";
}

TEST(ImporterTest, ABadLineStopsAfterStoringTheLinesBeforeIt) {
  ImportOptions options;
  options.csv_format = "1:metric:m,2:time:unix_s";
  options.batch_samples = 1000;
  MemorySink sink;
  ImportReport report;
  Status s = ImportAll(options, "1,100\n2,200\nx,300\n4,400\n", &sink, &report);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "line 3, column 1: \"x\" is not a number; before it: 3 lines, 2 samples: 2 accepted, 0 refused");
  EXPECT_EQ(sink.samples["m{}"].size(), 2u) << "the lines before the bad one are stored";

  MemorySink short_sink;
  s = ImportAll(options, "1,100\n2\n", &short_sink, &report);
  EXPECT_EQ(s.message().substr(0, 64), "line 2, column 2: the line has 1 columns, the format describes 2");
}

TEST(ImporterTest, SkippedBadLinesAreCountedAndDescribed) {
  ImportOptions options;
  options.csv_format = "1:metric:m,2:time:unix_ms";
  options.skip_bad_lines = true;
  MemorySink sink;
  ImportReport report;
  ASSERT_TRUE(ImportAll(options, "1,100\nbad,200\n3,soon\n4,400\n", &sink, &report).ok());
  EXPECT_EQ(report.bad_lines, 2u);
  EXPECT_EQ(sink.samples["m{}"].size(), 2u);
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[1], "line 3, column 2: \"soon\" is not a timestamp in the format's time layout");
}

TEST(ImporterTest, BatchesHoldAboutBatchSamples) {
  ImportOptions options;
  options.csv_format = "1:metric:m,2:time:unix_ms";
  options.batch_samples = 10;
  options.csv_header = true;
  std::string text = "value,time\n";
  for (int i = 0; i < 95; ++i) text += std::to_string(i) + "," + std::to_string(1000 * (95 - i)) + "\n";
  MemorySink sink;
  ImportReport report;
  ASSERT_TRUE(ImportAll(options, text, &sink, &report, 64).ok());
  EXPECT_EQ(sink.batches, 10);
  EXPECT_EQ(report.samples_read, 95u);
}

TEST(ImporterTest, PrometheusTextWithMetadataAndDefaultTimestamps) {
  ImportOptions options;
  options.format = ImportFormat::kPrometheusText;
  options.default_timestamp_ms = 5000;
  MemorySink sink;
  ImportReport report;
  ASSERT_TRUE(ImportAll(options,
                        "# HELP sent_total Notifications sent.\n"
                        "# TYPE sent_total counter\n"
                        "sent_total{level=\"gold\"} 3 1000\n"
                        "\n"
                        "sent_total{level=\"gold\"} 4\r\n"
                        "sent_total{level=\"gold\"} 2 500",
                        &sink, &report)
                  .ok());
  const auto& samples = sink.samples["sent_total{level=\"gold\"}"];
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].timestamp_ms, 500) << "sorted by time within a batch";
  EXPECT_EQ(samples[2].timestamp_ms, 5000);
  EXPECT_EQ(sink.metadata["sent_total"].type, model::MetricType::kCounter);
  EXPECT_EQ(sink.metadata["sent_total"].help, "Notifications sent.");
}

TEST(ImporterTest, OpenMetricsNeedsTimestampsAndEof) {
  ImportOptions options;
  options.format = ImportFormat::kOpenMetrics;
  MemorySink sink;
  ImportReport report;
  ASSERT_TRUE(ImportAll(options, "# TYPE a counter\na_total 1 10\na_total 2 20.5\n# EOF\n", &sink, &report).ok());
  EXPECT_EQ(sink.samples["a_total{}"][1].timestamp_ms, 20500);

  Status s = ImportAll(options, "a_total 1 10\n", &sink, &report);
  EXPECT_NE(s.message().find("line 1: the input does not end with \"# EOF\""), std::string::npos) << s.message();
  s = ImportAll(options, "a_total 1\n# EOF\n", &sink, &report);
  EXPECT_NE(s.message().find("line 1: the sample has no timestamp"), std::string::npos) << s.message();
  s = ImportAll(options, "a_total 1 1\n# EOF\na_total 2 2\n", &sink, &report);
  EXPECT_NE(s.message().find("line 3: text after \"# EOF\""), std::string::npos) << s.message();
}

TEST(ImporterTest, AnOverlongLineIsRefused) {
  ImportOptions options;
  options.format = ImportFormat::kPrometheusText;
  MemorySink sink;
  std::unique_ptr<Importer> importer;
  ASSERT_TRUE(Importer::Create(options, &sink, &importer).ok());
  const std::string piece(1 << 20, 'a');
  Status s;
  for (int i = 0; i < 20 && s.ok(); ++i) s = importer->Feed(piece);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("line 1: longer than"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tsvault::import
