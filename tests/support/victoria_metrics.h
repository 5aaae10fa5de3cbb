// Runs a real VictoriaMetrics (Debian 12: 1.79) for integration tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "tests/support/process.h"
#include "tests/support/sample_map.h"

namespace tsvault::testing {

// Starts /usr/bin/victoria-metrics with its data in <work_dir>/vm and its
// log in <work_dir>/vm.log on a free 127.0.0.1 port (a long retention, no
// response cache, no latency offset: what a test reads is what it wrote),
// waits for /health and sets *base_url ("http://127.0.0.1:PORT").
// Destroying `process` kills it.
Status StartVictoriaMetrics(const std::string& work_dir, Process* process, std::string* base_url);

// Every sample of the series matching `selector` that a VictoriaMetrics at
// `base_url` holds, read with /api/v1/export after /internal/force_flush.
// VictoriaMetrics drops NaN values; +Inf and -Inf come back.
Status ReadVictoriaMetrics(const std::string& base_url, const std::string& selector, SampleMap* out);

}  // namespace tsvault::testing
