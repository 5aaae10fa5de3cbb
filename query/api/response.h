// Prometheus API JSON envelopes (internal to query/api/).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/http.h"

namespace tsvault::query {

// Prometheus' errorType values and their HTTP status codes.
enum class ApiErrorType { kBadData, kExecution, kTimeout, kCanceled, kInternal, kNotFound, kUnavailable };

// {"status":"success","data":...}, with "warnings":[...] when there are any.
void WriteSuccess(const nlohmann::json& data, http::Response* response,
                  const std::vector<std::string>& warnings = {});
// {"status":"error","errorType":"bad_data","error":"..."} with the matching code.
void WriteError(ApiErrorType type, const std::string& message, http::Response* response);
// Maps a storage/parse Status to the API error (InvalidArgument -> bad_data, ...).
void WriteStatusError(const Status& status, http::Response* response);

}  // namespace tsvault::query
