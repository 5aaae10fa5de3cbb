// Fuzzes the web config parser (--web.config.file): any YAML text gives a
// config or an error naming the line, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "auth/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  tsvault::auth::WebConfig config;
  (void)tsvault::auth::ParseWebConfig(text, "/etc/tsvault", &config);
  return 0;
}
