// Text helpers that reproduce the Go formatting Prometheus uses in PromQL
// error messages and in the canonical printed form of expressions: Go's %q
// quoting, %#U rune descriptions, strconv 'g' float formatting and
// model.Duration's String().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tsvault::query::promql {

// The code point Go's UTF-8 decoder yields for invalid input (U+FFFD).
inline constexpr int32_t kRuneError = 0xFFFD;
// Returned by DecodeRune at the end of the input (Go lexer's `eof`).
inline constexpr int32_t kEndOfInput = -1;

// Decodes the UTF-8 code point starting at byte `pos` like Go's
// utf8.DecodeRuneInString: invalid, truncated or overlong sequences and
// surrogates yield kRuneError with *width 1. At or past the end of `text`
// returns kEndOfInput with *width 0.
int32_t DecodeRune(std::string_view text, size_t pos, size_t* width);

// Appends the UTF-8 encoding of `rune` (which must be a valid code point).
void AppendUtf8(uint32_t rune, std::string* out);

// Approximates Go's strconv.IsPrint: letters, marks, numbers, punctuation,
// symbols and the ASCII space. Control, format, separator (other than
// U+0020), private-use and non-character code points are not printable.
bool IsPrintableRune(int32_t rune);

// Go's %q of a string (strconv.Quote): double-quoted, with \" \\ \n \t ...
// escapes, \xNN for invalid UTF-8 bytes and \u/\U for unprintable runes.
std::string QuoteGoString(std::string_view text);

// Go's %q of a single rune (strconv.QuoteRune), e.g. 'a', '\n', '\''.
// Invalid code points (including kEndOfInput) print as U+FFFD.
std::string QuoteGoRune(int32_t rune);

// Go's %#U of a rune, e.g. "U+0063 'c'" or "U+000A" when unprintable.
std::string DescribeGoRune(int32_t rune);

// Go's fmt %v / strconv.FormatFloat(v, 'g', -1, 64): the shortest
// representation that round-trips, exponent form when the decimal exponent
// is < -4 or >= 6 ("1e+06", "1.5e-05"), and "+Inf", "-Inf", "NaN".
std::string FormatGoFloat(double value);

// Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits in
// fixed notation; "NaN", "+Inf", "-Inf".
std::string FormatGoFloatFixed(double value);

// Unquotes a PromQL string literal ("..." or '...' with Go escapes, or
// `...` raw). `literal` includes the quotes. InvalidArgument names the
// problem (unknown escape, invalid code point, unterminated escape).
Status UnquoteString(std::string_view literal, std::string* out);

// Go's fmt %.<precision>f: fixed notation, with "+Inf", "-Inf" and "NaN"
// for the non-finite values.
std::string FormatGoFixed(double value, int precision);


}  // namespace tsvault::query::promql
