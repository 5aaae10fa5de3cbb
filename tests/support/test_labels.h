// L({{"__name__", "up"}, {"job", "node"}}): a canonical (sorted) label set
// from literals, for tests.
#pragma once

#include <initializer_list>
#include <utility>

#include "common/labels.h"

namespace tsvault::testing {

inline Labels L(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  Labels labels;
  for (const auto& [name, value] : pairs) labels.push_back(Label{name, value});
  SortLabels(&labels);
  return labels;
}

}  // namespace tsvault::testing
