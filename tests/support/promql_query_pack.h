// The PromQL query pack of the differential test: queries run against both a
// real Prometheus 2.42 and tsvault holding the same data, whose answers must
// match. It covers every function, aggregation and operator of PromQL 2.42
// over the seed workload's families (loadgen data) and the hand-made edge
// series of DifferentialEdgeSeries().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/types.h"

namespace tsvault::testing {

// Every query of the pack, each once, in a stable order.
std::vector<std::string> DifferentialQueryPack();

// Edge-case series written next to the loadgen data, for timestamps
// [start_ms, end_ms] at `step_ms`: NaN and ±Inf values, a series ended by a
// staleness marker half-way, a gap longer than the lookback, a counter with
// resets, negative and fractional values. Metric names: `edge_gauge`,
// `edge_counter` (label `case` tells them apart).
storage::WriteInput DifferentialEdgeSeries(int64_t start_ms, int64_t end_ms, int64_t step_ms);

}  // namespace tsvault::testing
