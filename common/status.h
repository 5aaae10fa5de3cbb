// Status: the result of an operation that can fail, in the style of
// LevelDB/RocksDB. Cheap to return on the hot path when OK (no allocation).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace tsvault {

class Status {
 public:
  // What kind of failure this is; the HTTP layer maps codes to status codes.
  enum class Code {
    kOk = 0,
    kInvalidArgument,   // the caller's input is wrong (HTTP 400)
    kNotFound,          // the named thing does not exist (HTTP 404)
    kCorruption,        // data on disk or on the wire is damaged
    kIOError,           // the storage layer failed (HTTP 5xx)
    kResourceExhausted, // a bound was hit: queue full, too many samples
    kUnsupported,       // a format or feature we do not handle (HTTP 415)
    kCancelled,         // the operation was stopped by its caller
    kDeadlineExceeded,  // the operation ran out of time
    kInternal,          // a bug or broken invariant
  };

  Status() = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string_view msg) { return Status(Code::kInvalidArgument, msg); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status ResourceExhausted(std::string_view msg) { return Status(Code::kResourceExhausted, msg); }
  static Status Unsupported(std::string_view msg) { return Status(Code::kUnsupported, msg); }
  static Status Cancelled(std::string_view msg) { return Status(Code::kCancelled, msg); }
  static Status DeadlineExceeded(std::string_view msg) { return Status(Code::kDeadlineExceeded, msg); }
  static Status Internal(std::string_view msg) { return Status(Code::kInternal, msg); }

  bool ok() const { return state_ == nullptr; }
  Code code() const { return state_ ? state_->code : Code::kOk; }
  // The human-readable message; empty when ok().
  const std::string& message() const;
  // "<code name>: <message>", or "OK".
  std::string ToString() const;

  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsResourceExhausted() const { return code() == Code::kResourceExhausted; }
  bool IsUnsupported() const { return code() == Code::kUnsupported; }

 private:
  struct State {
    Code code;
    std::string message;
  };
  Status(Code code, std::string_view msg)
      : state_(std::make_shared<const State>(State{code, std::string(msg)})) {}

  std::shared_ptr<const State> state_;  // null means OK
};

}  // namespace tsvault
