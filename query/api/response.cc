#include "query/api/response.h"

namespace tsvault::query {

namespace {
const char* TypeName(ApiErrorType type) {
  switch (type) {
    case ApiErrorType::kBadData: return "bad_data";
    case ApiErrorType::kExecution: return "execution";
    case ApiErrorType::kTimeout: return "timeout";
    case ApiErrorType::kCanceled: return "canceled";
    case ApiErrorType::kInternal: return "internal";
    case ApiErrorType::kNotFound: return "not_found";
    case ApiErrorType::kUnavailable: return "unavailable";
  }
  return "internal";
}

int HttpCode(ApiErrorType type) {
  switch (type) {
    case ApiErrorType::kBadData: return 400;
    case ApiErrorType::kExecution: return 422;
    case ApiErrorType::kTimeout: return 503;
    case ApiErrorType::kCanceled: return 499;
    case ApiErrorType::kInternal: return 500;
    case ApiErrorType::kNotFound: return 404;
    case ApiErrorType::kUnavailable: return 503;
  }
  return 500;
}
}  // namespace

void WriteSuccess(const nlohmann::json& data, http::Response* response, const std::vector<std::string>& warnings) {
  nlohmann::json body = {{"status", "success"}, {"data", data}};
  if (!warnings.empty()) body["warnings"] = warnings;
  response->status = 200;
  response->SetHeader("Content-Type", "application/json");
  response->body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void WriteError(ApiErrorType type, const std::string& message, http::Response* response) {
  nlohmann::json body = {{"status", "error"}, {"errorType", TypeName(type)}, {"error", message}};
  response->status = HttpCode(type);
  response->SetHeader("Content-Type", "application/json");
  response->body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void WriteStatusError(const Status& status, http::Response* response) {
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kUnsupported:
      WriteError(ApiErrorType::kBadData, status.message(), response);
      break;
    case Status::Code::kDeadlineExceeded:
      WriteError(ApiErrorType::kTimeout, status.message(), response);
      break;
    case Status::Code::kCancelled:
      WriteError(ApiErrorType::kCanceled, status.message(), response);
      break;
    case Status::Code::kResourceExhausted:
      WriteError(ApiErrorType::kExecution, status.message(), response);
      break;
    case Status::Code::kNotFound:
      WriteError(ApiErrorType::kNotFound, status.message(), response);
      break;
    default:
      WriteError(ApiErrorType::kInternal, status.message(), response);
  }
}

}  // namespace tsvault::query
