// Internal to the import module: splits CSV text (RFC 4180) into records
// as it arrives in pieces of any size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tsvault::import {

// One CSV record: its fields (quotes removed, "" turned into ") and the
// line it starts on (1-based; a quoted field may hold line breaks).
struct CsvRecord {
  std::vector<std::string> fields;
  uint64_t line = 0;
};

// Not thread-safe. Empty lines are skipped; a record ends at LF or CRLF.
class CsvReader {
 public:
  // Adds `data` to the text not yet split.
  void Append(std::string_view data);
  // The input ended: a last record without a line break is complete.
  void Finish() { finished_ = true; }

  // Takes the next complete record into *record and returns true; false
  // when no complete record is buffered (more input or the end). A record
  // that breaks the quoting rules is consumed and reported in *error
  // ("line 4, column 2: ..."), with true returned.
  bool Next(CsvRecord* record, Status* error);

  // Bytes buffered and not yet returned as records.
  size_t buffered() const { return buffer_.size() - position_; }

 private:
  std::string buffer_;
  size_t position_ = 0;  // start of the next record in buffer_
  uint64_t line_ = 1;    // the line position_ is on
  bool finished_ = false;
};

}  // namespace tsvault::import
