// Progress of a long offline command (`tsvault compact`) on stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tsvault::tools {

// On a terminal, one bar redrawn in place ("downsample 5m [#####     ]
// 41% 35,812/87,440"); otherwise plain lines, at most one every 5 seconds
// per stage plus one when a stage ends, so logs stay short. Not
// thread-safe: call from one thread.
class ProgressPrinter {
 public:
  // `terminal`: isatty(stderr) in production.
  explicit ProgressPrinter(bool terminal);
  ~ProgressPrinter();

  // `total` 0 means unknown (a count is shown instead of a bar).
  void Update(std::string_view stage, uint64_t done, uint64_t total);
  // Ends the current bar line (terminal only).
  void Finish();

 private:
  const bool terminal_;
  std::string stage_;
  bool line_open_ = false;
  std::chrono::steady_clock::time_point last_line_{};
};

}  // namespace tsvault::tools
