#include "workload/seed_workload.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace tsvault::workload {
namespace {

// The family a series belongs to: histogram series share their base name.
std::string Family(const Labels& labels) {
  std::string name(MetricName(labels));
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      return name.substr(0, name.size() - s.size());
    }
  }
  return name;
}

TEST(SeedWorkloadTest, FractionalScaleKeepsEveryFamilyAndWholeHistograms) {
  SeedWorkload full({.scale = 1});
  SeedWorkload part({.scale = 0.1});
  std::set<std::string> full_families, part_families;
  for (size_t i = 0; i < full.num_series(); ++i) full_families.insert(Family(full.labels(i)));
  for (size_t i = 0; i < part.num_series(); ++i) part_families.insert(Family(part.labels(i)));

  // About a tenth of the series (histogram groups are kept whole, so the
  // count is not exact), and every family larger than ten units survives.
  EXPECT_GT(part.num_series(), full.num_series() / 20);
  EXPECT_LT(part.num_series(), full.num_series() / 5);
  for (const char* family : {"node_cpu_seconds_total", "http_requests_total", "http_request_duration_seconds",
                             "bullmq_queue_size", "app_errors_total", "reengagement_notifications_sent_total"}) {
    EXPECT_TRUE(part_families.count(family)) << family;
  }

  // Every kept histogram has its _sum, _count and a +Inf bucket, and its
  // +Inf bucket equals _count after some steps.
  part.Step(1'000'000);
  part.Step(1'015'000);
  storage::WriteInput input;
  part.AppendSamples(0, part.num_series(), &input);
  std::map<std::string, double> inf_bucket, count;
  for (const auto& write : input.series) {
    ASSERT_FALSE(write.samples.empty());
    Labels rest;
    std::string le;
    for (const auto& label : write.labels) {
      if (label.name == "le") {
        le = label.value;
      } else if (label.name != "__name__") {
        rest.push_back(label);
      }
    }
    const std::string name(MetricName(write.labels));
    const std::string key = Family(write.labels) + LabelsToString(rest);
    if (le == "+Inf") inf_bucket[key] = write.samples.back().value;
    if (name.size() > 6 && name.compare(name.size() - 6, 6, "_count") == 0) count[key] = write.samples.back().value;
  }
  ASSERT_FALSE(count.empty());
  for (const auto& [key, value] : count) {
    ASSERT_TRUE(inf_bucket.count(key)) << key;
    EXPECT_EQ(inf_bucket[key], value) << key;
  }
}

TEST(SeedWorkloadTest, SameSeedSameData) {
  SeedWorkload a({.scale = 0.05, .seed = 7});
  SeedWorkload b({.scale = 0.05, .seed = 7});
  ASSERT_EQ(a.num_series(), b.num_series());
  for (int step = 0; step < 3; ++step) {
    a.Step(1'000'000 + step * 15'000);
    b.Step(1'000'000 + step * 15'000);
  }
  storage::WriteInput wa, wb;
  a.AppendSamples(0, a.num_series(), &wa);
  b.AppendSamples(0, b.num_series(), &wb);
  ASSERT_EQ(wa.series.size(), wb.series.size());
  for (size_t i = 0; i < wa.series.size(); ++i) {
    EXPECT_EQ(wa.series[i].labels, wb.series[i].labels);
    ASSERT_EQ(wa.series[i].samples.size(), wb.series[i].samples.size());
    EXPECT_EQ(wa.series[i].samples[0].value, wb.series[i].samples[0].value);
  }
}

}  // namespace
}  // namespace tsvault::workload
