// Fuzzes the time and duration parsing of the HTTP API (RFC 3339, Unix
// seconds with fractions, Prometheus durations) and Go time layouts (the
// CSV export and import's custom: formats).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/go_time.h"
#include "common/time_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tsvault;
  if (size > 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  int64_t ms = 0;
  (void)ParseRfc3339(text, &ms);
  (void)ParseTimeParam(text, &ms);
  (void)ParseDurationParam(text, &ms);
  (void)ParsePromDuration(text, &ms);
  // The text up to the first NUL is a layout, the rest a time to parse with it.
  const size_t split = text.find('\0');
  const std::string_view layout_text = text.substr(0, split);
  const GoTimeLayout layout = GoTimeLayout::Parse(layout_text);
  if (split != std::string_view::npos) {
    std::string error;
    (void)layout.ParseTime(text.substr(split + 1), &ms, &error);
  }
  return 0;
}
