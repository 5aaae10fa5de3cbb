// The --retention.* flags shared by `tsvault serve` and `tsvault compact`.
#pragma once

#include <string>

#include "common/status.h"
#include "compaction/retention.h"

namespace CLI {
class App;
}

namespace tsvault::tools {

struct RetentionFlags {
  // --retention.resolution-raw, -5m, -1h, -1d (0 = forever).
  std::string keep[storage::kRetentionLevels] = {"30d", "180d", "2y", "0"};
  // --retention.size (0 = no bound).
  std::string size = "0";

  // Registers the flags on `command`.
  void AddTo(CLI::App* command);
  // The policy the flags describe; InvalidArgument naming the flag if not.
  Status Parse(compaction::RetentionPolicy* policy) const;
};

}  // namespace tsvault::tools
