#include "tools/progress.h"

#include <fmt/format.h>

#include <cstdio>

namespace tsvault::tools {

ProgressPrinter::ProgressPrinter(bool terminal) : terminal_(terminal) {}

ProgressPrinter::~ProgressPrinter() { Finish(); }

void ProgressPrinter::Update(std::string_view stage, uint64_t done, uint64_t total) {
  const bool new_stage = stage != stage_;
  if (new_stage) {
    Finish();
    stage_ = std::string(stage);
  }
  const bool complete = total > 0 && done >= total;
  std::string text;
  if (total > 0) {
    const double share = static_cast<double>(std::min(done, total)) / static_cast<double>(total);
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(share * kWidth);
    text = fmt::format("{:<24} [{}{}] {:3.0f}% {}/{}", stage_, std::string(static_cast<size_t>(filled), '#'),
                       std::string(static_cast<size_t>(kWidth - filled), ' '), share * 100, done, total);
  } else {
    text = fmt::format("{:<24} {}", stage_, done);
  }
  if (terminal_) {
    std::fprintf(stderr, "\r%s\033[K", text.c_str());
    line_open_ = true;
    if (complete) Finish();
    std::fflush(stderr);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (new_stage || complete || now - last_line_ >= std::chrono::seconds(5)) {
    std::fprintf(stderr, "%s\n", text.c_str());
    last_line_ = now;
  }
}

void ProgressPrinter::Finish() {
  if (terminal_ && line_open_) {
    std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }
  line_open_ = false;
}

}  // namespace tsvault::tools
