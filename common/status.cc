#include "common/status.h"

namespace tsvault {

namespace {
const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kInvalidArgument: return "Invalid argument";
    case Status::Code::kNotFound: return "Not found";
    case Status::Code::kCorruption: return "Corruption";
    case Status::Code::kIOError: return "IO error";
    case Status::Code::kResourceExhausted: return "Resource exhausted";
    case Status::Code::kUnsupported: return "Unsupported";
    case Status::Code::kCancelled: return "Cancelled";
    case Status::Code::kDeadlineExceeded: return "Deadline exceeded";
    case Status::Code::kInternal: return "Internal error";
  }
  return "Unknown";
}
}  // namespace

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(state_->code)) + ": " + state_->message;
}

}  // namespace tsvault
