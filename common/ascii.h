// ASCII helpers for protocol tokens: case folding (header names, media
// types and content codings compare case-insensitively) and hex digits.
#pragma once

#include <string>
#include <string_view>

namespace tsvault {

// `c` lower-cased when it is an ASCII capital letter, unchanged otherwise.
inline char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The value of the hexadecimal digit `c` (0-9, a-f, A-F), or -1.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when `a` and `b` are equal ignoring ASCII case (other bytes must match).
bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b);

// `text` with ASCII letters lower-cased; other bytes are kept.
std::string ToLowerAscii(std::string_view text);

}  // namespace tsvault
