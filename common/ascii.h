// ASCII case folding for protocol tokens (header names, media types,
// content codings), which HTTP compares case-insensitively.
#pragma once

#include <string>
#include <string_view>

namespace tsvault {

// `c` lower-cased when it is an ASCII capital letter, unchanged otherwise.
inline char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// True when `a` and `b` are equal ignoring ASCII case (other bytes must match).
bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b);

// `text` with ASCII letters lower-cased; other bytes are kept.
std::string ToLowerAscii(std::string_view text);

}  // namespace tsvault
