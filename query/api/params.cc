#include "query/api/params.h"

#include <cstdlib>

#include "common/time_parse.h"

namespace tsvault::query {

std::string_view Param(const Params& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

std::vector<std::string> ParamList(const Params& params, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [key, value] : params) {
    if (key == name) out.push_back(value);
  }
  return out;
}

// Reads start/end (optional; Prometheus' defaults are the extreme times).
Status ParseRange(const Params& params, int64_t* start, int64_t* end) {
  *start = kMinTimeMs;
  *end = kMaxTimeMs;
  if (auto v = Param(params, "start"); !v.empty()) {
    Status s = ParseTimeParam(v, start);
    if (!s.ok()) return Status::InvalidArgument("invalid parameter \"start\": " + s.message());
  }
  if (auto v = Param(params, "end"); !v.empty()) {
    Status s = ParseTimeParam(v, end);
    if (!s.ok()) return Status::InvalidArgument("invalid parameter \"end\": " + s.message());
  }
  if (*end < *start) {
    return Status::InvalidArgument("invalid parameter \"end\": end timestamp must not be before start time");
  }
  return Status::OK();
}

Status ParseLimit(const Params& params, size_t* limit) {
  *limit = 0;
  auto v = Param(params, "limit");
  if (v.empty()) return Status::OK();
  char* end = nullptr;
  std::string copy(v);
  long long n = std::strtoll(copy.c_str(), &end, 10);
  if (end != copy.c_str() + copy.size() || n < 0) {
    return Status::InvalidArgument("invalid parameter \"limit\": cannot parse \"" + copy +
                                   "\": must be a non-negative integer");
  }
  *limit = static_cast<size_t>(n);
  return Status::OK();
}

}  // namespace tsvault::query
