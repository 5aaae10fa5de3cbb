// PromQL lexer: scanners for numbers, durations, identifiers, keywords and
// string literals.
#include <string>
#include <utility>

#include "query/promql/lexer.h"
#include "query/promql/lexer_internal.h"
#include "query/promql/text.h"

namespace tsvault::query::promql {

using lexer_internal::IsAlphaNumeric;

namespace {

constexpr std::string_view kDecimalDigits = "0123456789";
constexpr std::string_view kHexDigits = "0123456789abcdefABCDEF";

int DigitValue(int32_t r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;  // larger than any legal digit
}

struct Keyword {
  std::string_view word;
  TokenType type;
};

// Lower-case spellings; lookups lower-case the word first. "inf" and "nan"
// lex as numbers.
constexpr Keyword kKeywords[] = {
    {"and", TokenType::kAnd},
    {"or", TokenType::kOr},
    {"unless", TokenType::kUnless},
    {"atan2", TokenType::kAtan2},
    {"sum", TokenType::kSum},
    {"avg", TokenType::kAvg},
    {"count", TokenType::kCount},
    {"min", TokenType::kMin},
    {"max", TokenType::kMax},
    {"group", TokenType::kGroup},
    {"stddev", TokenType::kStddev},
    {"stdvar", TokenType::kStdvar},
    {"topk", TokenType::kTopk},
    {"bottomk", TokenType::kBottomk},
    {"count_values", TokenType::kCountValues},
    {"quantile", TokenType::kQuantile},
    {"offset", TokenType::kOffset},
    {"by", TokenType::kBy},
    {"without", TokenType::kWithout},
    {"on", TokenType::kOn},
    {"ignoring", TokenType::kIgnoring},
    {"group_left", TokenType::kGroupLeft},
    {"group_right", TokenType::kGroupRight},
    {"bool", TokenType::kBool},
    {"start", TokenType::kStart},
    {"end", TokenType::kEnd},
    {"inf", TokenType::kNumber},
    {"nan", TokenType::kNumber},
};

bool LookupKeyword(std::string_view word, TokenType* type) {
  if (word.size() > 12) return false;  // longer than any keyword
  std::string lower(word);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (const Keyword& keyword : kKeywords) {
    if (keyword.word == lower) {
      *type = keyword.type;
      return true;
    }
  }
  return false;
}
}  // namespace

// Runs right after '[': a duration must follow.
Token Lexer::LexDuration() {
  if (ScanNumber()) return Error("missing unit character in duration");
  if (!AcceptRemainingDuration()) {
    return Error("bad duration syntax: " + QuoteGoString(input_.substr(start_, pos_ - start_)));
  }
  Backup();
  return Emit(TokenType::kDuration);
}

Token Lexer::LexNumberOrDuration() {
  if (ScanNumber()) return Emit(TokenType::kNumber);
  if (AcceptRemainingDuration()) {
    Backup();
    return Emit(TokenType::kDuration);
  }
  return Error("bad number or duration syntax: " + QuoteGoString(input_.substr(start_, pos_ - start_)));
}

// After the digits of a duration: a unit, then optionally more
// number+unit groups, and no alphanumeric character after the last unit.
bool Lexer::AcceptRemainingDuration() {
  if (!Accept("smhdwy")) return false;
  Accept("s");  // "ms"; bad units like "hs" are caught by the duration parser
  while (Accept(kDecimalDigits)) {
    AcceptRun(kDecimalDigits);
    if (!Accept("smhdw")) return false;  // years must come first
    Accept("s");
  }
  return !IsAlphaNumeric(NextRune());
}

// Scans decimal, hexadecimal or float syntax. The text need not be a valid
// number (the parser checks that); returns false when an alphanumeric
// character follows, i.e. the text may be a duration instead.
bool Lexer::ScanNumber() {
  std::string_view digits = kDecimalDigits;
  if (Accept("0") && Accept("xX")) digits = kHexDigits;
  AcceptRun(digits);
  if (Accept(".")) AcceptRun(digits);
  if (Accept("eE")) {
    Accept("+-");
    AcceptRun(kDecimalDigits);
  }
  return !IsAlphaNumeric(PeekRune());
}

Token Lexer::LexKeywordOrIdentifier() {
  for (;;) {
    const int32_t r = NextRune();
    if (!IsAlphaNumeric(r) && r != ':') {
      Backup();
      break;
    }
  }
  const std::string_view word = input_.substr(start_, pos_ - start_);
  TokenType type;
  if (LookupKeyword(word, &type)) return Emit(type);
  return Emit(word.find(':') == std::string_view::npos ? TokenType::kIdentifier
                                                       : TokenType::kMetricIdentifier);
}

Token Lexer::LexIdentifier() {
  while (IsAlphaNumeric(NextRune())) {
  }
  Backup();
  return Emit(TokenType::kIdentifier);
}

Token Lexer::LexString() {
  for (;;) {
    const int32_t r = NextRune();
    if (r == '\\') {
      std::string error;
      if (!LexEscape(&error)) return Error(std::move(error));
      continue;
    }
    if (r == kRuneError) return Error("invalid UTF-8 rune");
    if (r == kEndOfInput || r == '\n') return Error("unterminated quoted string");
    if (r == string_open_) break;
  }
  return Emit(TokenType::kString);
}

Token Lexer::LexRawString() {
  for (;;) {
    const int32_t r = NextRune();
    if (r == kRuneError) return Error("invalid UTF-8 rune");
    if (r == kEndOfInput) return Error("unterminated raw string");
    if (r == string_open_) break;
  }
  return Emit(TokenType::kString);
}

// Validates one escape sequence; the backslash has been read.
bool Lexer::LexEscape(std::string* error) {
  int32_t ch = NextRune();
  int count;
  uint32_t base;
  uint32_t max;
  switch (ch) {
    case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
      return true;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
      count = 3, base = 8, max = 255;
      break;
    case 'x':
      ch = NextRune();
      count = 2, base = 16, max = 255;
      break;
    case 'u':
      ch = NextRune();
      count = 4, base = 16, max = 0x10FFFF;
      break;
    case 'U':
      ch = NextRune();
      count = 8, base = 16, max = 0x10FFFF;
      break;
    case kEndOfInput:
      *error = "escape sequence not terminated";
      return false;
    default:
      if (ch == string_open_) return true;
      *error = "unknown escape sequence " + DescribeGoRune(ch);
      return false;
  }
  uint32_t value = 0;
  while (count > 0) {
    const auto digit = static_cast<uint32_t>(DigitValue(ch));
    if (digit >= base) {
      *error = ch == kEndOfInput ? "escape sequence not terminated"
                                 : "illegal character " + DescribeGoRune(ch) + " in escape sequence";
      return false;
    }
    value = value * base + digit;
    if (--count > 0) ch = NextRune();
  }
  if (value > max || (value >= 0xD800 && value < 0xE000)) {
    *error = "escape sequence is an invalid Unicode code point";
    return false;
  }
  return true;
}

}  // namespace tsvault::query::promql
