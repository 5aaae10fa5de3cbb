// Reading the form parameters of the HTTP API (internal to query/api/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tsvault::query {

// The parameters of a request, URL query and form body (http::RequestParams).
using Params = std::vector<std::pair<std::string, std::string>>;

// The first value of `name`; empty when absent.
std::string_view Param(const Params& params, std::string_view name);
// Every value of `name` (e.g. match[]), in order.
std::vector<std::string> ParamList(const Params& params, std::string_view name);
// start/end (optional; Prometheus' defaults are the extreme times), end not
// before start. Errors name the parameter.
Status ParseRange(const Params& params, int64_t* start, int64_t* end);
// limit (optional, 0 = none): a non-negative integer.
Status ParseLimit(const Params& params, size_t* limit);

}  // namespace tsvault::query
