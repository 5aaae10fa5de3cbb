#include "query/api/match_parameter.h"

#include "query/promql/parser.h"

namespace tsvault::query {

Status ParseMatchParameter(const std::vector<std::string>& selectors,
                           std::vector<std::vector<storage::LabelMatcher>>* sets) {
  sets->clear();
  for (const std::string& selector : selectors) {
    std::vector<storage::LabelMatcher> matchers;
    Status status = ParseMetricSelector(selector, &matchers);
    if (!status.ok()) return Status::InvalidArgument("invalid parameter \"match[]\": " + status.message());
    bool has_non_empty_matcher = false;
    for (const storage::LabelMatcher& matcher : matchers) {
      if (!matcher.MatchesEmpty()) has_non_empty_matcher = true;
    }
    if (!has_non_empty_matcher) {
      return Status::InvalidArgument(
          "invalid parameter \"match[]\": match[] must contain at least one non-empty matcher");
    }
    sets->push_back(std::move(matchers));
  }
  return Status::OK();
}

}  // namespace tsvault::query
