#include "tools/retention_flags.h"

#include <CLI/CLI.hpp>

namespace tsvault::tools {

void RetentionFlags::AddTo(CLI::App* command) {
  static const char* const kHelp[storage::kRetentionLevels] = {
      "How long raw samples are kept (0 = forever); older ones are dropped once their 5m rollups are stored, and "
      "samples older than this are refused",
      "How long 5m rollups are kept (0 = forever)", "How long 1h rollups are kept (0 = forever)",
      "How long 1d rollups are kept (0 = forever)"};
  for (int level = 0; level < storage::kRetentionLevels; ++level) {
    command->add_option(std::string("--") + compaction::RetentionFlagName(level), keep[level], kHelp[level])
        ->capture_default_str();
  }
  command->add_option("--retention.size", size,
                      "Most bytes of data to keep (e.g. 50GB; 0 = no bound): above it the oldest raw data is "
                      "dropped first, then the oldest 5m, 1h, 1d rollups")
      ->capture_default_str();
}

Status RetentionFlags::Parse(compaction::RetentionPolicy* policy) const {
  return compaction::ParseRetentionPolicy(keep, size, policy);
}

}  // namespace tsvault::tools
