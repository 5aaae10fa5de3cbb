// The `match[]` parameter of /api/v1/series, /labels, /label/<name>/values
// and admin/tsdb/delete_series, and `tsvault delete --match`.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "storage/matcher.h"

namespace tsvault::query {

// Parses every `match[]` value with the PromQL parser's metric-selector entry
// point (ParseMetricSelector) and, as Prometheus 2.42's parseMatchersParam,
// requires each set to hold at least one matcher that does not match the
// empty string. Errors are InvalidArgument naming the parameter, e.g.
// `invalid parameter "match[]": 1:8: parse error: unexpected "}" in label
// matching, expected string`. *sets receives one matcher list per value.
Status ParseMatchParameter(const std::vector<std::string>& selectors,
                           std::vector<std::vector<storage::LabelMatcher>>* sets);

}  // namespace tsvault::query
