// The process figures every Prometheus exporter publishes (client_golang's
// process collector names): CPU seconds, resident and virtual memory, open
// and maximum file descriptors, start time; read from /proc/self when
// /metrics is scraped.
#pragma once

#include <cstdint>

namespace tsvault::tools {

struct ProcessFigures {
  double cpu_seconds = 0;          // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;              // the soft RLIMIT_NOFILE
  double start_time_seconds = 0;   // Unix time the process started
  int threads = 0;
};

// Reads this process' figures; false (with what could be read) when /proc
// is not available.
bool ReadProcessFigures(ProcessFigures* out);

}  // namespace tsvault::tools
