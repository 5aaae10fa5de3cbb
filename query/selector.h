// Parses a PromQL series selector such as `up`, `{job="node"}` or
// `http_requests_total{app=~"web|admin", status!="200"}` into label
// matchers (used by match[] parameters).
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/matcher.h"

namespace tsvault::query {

// Parses `text` as a series selector. Errors name the position and problem.
Status ParseSeriesSelector(std::string_view text, std::vector<storage::LabelMatcher>* matchers);

// Unquotes a PromQL string literal ("..." or '...' with Go escapes, or
// `...` raw). `literal` includes the quotes.
Status UnquoteString(std::string_view literal, std::string* out);

}  // namespace tsvault::query
