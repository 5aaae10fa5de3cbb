// Character classes shared by the PromQL lexer's source files. Internal to
// query/promql_lexer*.cc.
#pragma once

#include <cstdint>

namespace tsvault::query::promql::lexer_internal {

inline bool IsSpace(int32_t r) { return r == ' ' || r == '\t' || r == '\n' || r == '\r'; }
inline bool IsEndOfLine(int32_t r) { return r == '\r' || r == '\n'; }
inline bool IsDigit(int32_t r) { return r >= '0' && r <= '9'; }
inline bool IsAlpha(int32_t r) { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }
inline bool IsAlphaNumeric(int32_t r) { return IsAlpha(r) || IsDigit(r); }

}  // namespace tsvault::query::promql::lexer_internal
