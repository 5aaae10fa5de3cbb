// A buffered, append-only file that knows its write position, for the
// block writer's files. Internal to storage/prometheus_tsdb.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tsvault::prometheus_tsdb {

class FileWriter {
 public:
  FileWriter() = default;
  ~FileWriter();  // closes without syncing
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Creates (truncating) `path` for writing.
  Status Open(const std::string& path);
  // Appends `data` (buffered).
  Status Write(std::string_view data);
  // Appends zero bytes up to the next multiple of `alignment`.
  Status PadTo(uint64_t alignment);
  // Bytes written so far: the offset the next Write lands at.
  uint64_t position() const { return position_; }
  // Writes the buffer out, fsyncs and closes. No writes after it.
  Status SyncAndClose();

 private:
  Status Flush();

  int fd_ = -1;
  std::string path_;
  std::string buffer_;
  uint64_t position_ = 0;
};

// Fsyncs the directory `path` (so renames and new entries in it survive a crash).
Status SyncDirectory(const std::string& path);

}  // namespace tsvault::prometheus_tsdb
