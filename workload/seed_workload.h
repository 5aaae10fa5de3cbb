// The seed workload (../shared/context/seed-workload.md): every metric family
// the product team sends, with realistic label sets and value behaviour.
// Used by benchmarks, tests and `tsvault loadgen`. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/labels.h"
#include "storage/types.h"

namespace tsvault::workload {

struct WorkloadOptions {
  // Cardinality multiplier: 1 = the seed table's numbers (~10k series);
  // the whole set is replicated over `instance` values. Values below 1 keep
  // that fraction of the series.
  double scale = 1.0;
  uint64_t seed = 1;
  // Probability per sample step that a counter resets to zero.
  double counter_reset_probability = 0.0005;
  // Probability per step that a series stops (staleness marker) and a new
  // one with a fresh label value starts in its place.
  double churn_probability = 0.0;
};

// What kind of series a generated series is.
enum class SeriesKind : uint8_t { kCounter, kGauge, kHistogramBucket, kHistogramSum, kHistogramCount };

class SeedWorkload {
 public:
  explicit SeedWorkload(const WorkloadOptions& options);
  ~SeedWorkload();

  // Number of series (constant: churn replaces series in place).
  size_t num_series() const;
  // Current labels of series `index` (canonical order).
  const Labels& labels(size_t index) const;
  SeriesKind kind(size_t index) const;

  // Advances every series to time `timestamp_ms` (call with increasing
  // times, one call per scrape) and appends one sample per series in
  // [begin, end) to `out`, as SeriesWrite entries. A churned series gets its
  // staleness marker here and continues under new labels at the next step.
  void Step(int64_t timestamp_ms);
  void AppendSamples(size_t begin, size_t end, storage::WriteInput* out) const;

  // Metric metadata (type/help/unit) for every family.
  std::vector<storage::MetricMetadata> Metadata() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tsvault::workload
