#include "query/promql/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tsvault::query::promql {

namespace {

constexpr char kLowerHex[] = "0123456789abcdef";

bool IsValidRune(int32_t rune) {
  return rune >= 0 && rune <= 0x10FFFF && !(rune >= 0xD800 && rune < 0xE000);
}

// Appends the escaped form of `rune` as strconv's appendEscapedRune does.
void AppendEscapedRune(int32_t rune, char quote, std::string* out) {
  if (rune == quote || rune == '\\') {
    out->push_back('\\');
    out->push_back(static_cast<char>(rune));
    return;
  }
  if (IsPrintableRune(rune)) {
    AppendUtf8(static_cast<uint32_t>(rune), out);
    return;
  }
  switch (rune) {
    case '\a': *out += "\\a"; return;
    case '\b': *out += "\\b"; return;
    case '\f': *out += "\\f"; return;
    case '\n': *out += "\\n"; return;
    case '\r': *out += "\\r"; return;
    case '\t': *out += "\\t"; return;
    case '\v': *out += "\\v"; return;
    default: break;
  }
  if (rune >= 0 && (rune < ' ' || rune == 0x7F)) {
    *out += "\\x";
    out->push_back(kLowerHex[(rune >> 4) & 0xF]);
    out->push_back(kLowerHex[rune & 0xF]);
    return;
  }
  if (!IsValidRune(rune)) rune = kRuneError;
  const int digits = rune < 0x10000 ? 4 : 8;
  *out += digits == 4 ? "\\u" : "\\U";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out->push_back(kLowerHex[(rune >> shift) & 0xF]);
  }
}

}  // namespace

int32_t DecodeRune(std::string_view text, size_t pos, size_t* width) {
  if (pos >= text.size()) {
    *width = 0;
    return kEndOfInput;
  }
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char first = byte(0);
  *width = 1;
  if (first < 0x80) return first;
  size_t length;
  uint32_t rune;
  uint32_t minimum;
  if (first >= 0xC2 && first <= 0xDF) {
    length = 2, rune = first & 0x1F, minimum = 0x80;
  } else if (first >= 0xE0 && first <= 0xEF) {
    length = 3, rune = first & 0x0F, minimum = 0x800;
  } else if (first >= 0xF0 && first <= 0xF4) {
    length = 4, rune = first & 0x07, minimum = 0x10000;
  } else {
    return kRuneError;
  }
  if (pos + length > text.size()) return kRuneError;
  for (size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(i);
    if ((next & 0xC0) != 0x80) return kRuneError;
    rune = (rune << 6) | (next & 0x3F);
  }
  if (rune < minimum || rune > 0x10FFFF || (rune >= 0xD800 && rune < 0xE000)) return kRuneError;
  *width = length;
  return static_cast<int32_t>(rune);
}

void AppendUtf8(uint32_t rune, std::string* out) {
  if (rune < 0x80) {
    out->push_back(static_cast<char>(rune));
  } else if (rune < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (rune >> 6)));
    out->push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  } else if (rune < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (rune >> 12)));
    out->push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (rune >> 18)));
    out->push_back(static_cast<char>(0x80 | ((rune >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  }
}

bool IsPrintableRune(int32_t rune) {
  if (rune < 0x20) return false;
  if (rune < 0x7F) return true;
  if (rune <= 0xA0 || rune == 0xAD) return false;  // DEL, C1 controls, NBSP, soft hyphen
  if (!IsValidRune(rune)) return false;
  if (rune == 0x1680 || rune == 0x180E || rune == 0x3000 || rune == 0xFEFF) return false;
  if (rune >= 0x2000 && rune <= 0x200F) return false;  // spaces, zero-width, marks
  if (rune >= 0x2028 && rune <= 0x202F) return false;  // separators, embeddings
  if (rune >= 0x205F && rune <= 0x206F) return false;  // math space, invisible ops
  if (rune >= 0xFFF9 && rune <= 0xFFFB) return false;  // interlinear annotations
  if (rune >= 0xFDD0 && rune <= 0xFDEF) return false;  // non-characters
  if ((rune & 0xFFFE) == 0xFFFE) return false;         // U+xxFFFE, U+xxFFFF
  if (rune >= 0xE000 && rune <= 0xF8FF) return false;  // private use
  if (rune >= 0xE0000 && rune <= 0xE007F) return false;  // tags
  if (rune >= 0xF0000) return false;                      // supplementary private use
  return true;
}

std::string QuoteGoString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  size_t pos = 0;
  while (pos < text.size()) {
    size_t width;
    const int32_t rune = DecodeRune(text, pos, &width);
    if (width == 1 && rune == kRuneError) {
      const auto byte = static_cast<unsigned char>(text[pos]);
      out += "\\x";
      out.push_back(kLowerHex[byte >> 4]);
      out.push_back(kLowerHex[byte & 0xF]);
    } else {
      AppendEscapedRune(rune, '"', &out);
    }
    pos += width;
  }
  out.push_back('"');
  return out;
}

std::string QuoteGoRune(int32_t rune) {
  if (!IsValidRune(rune)) rune = kRuneError;
  std::string out = "'";
  AppendEscapedRune(rune, '\'', &out);
  out.push_back('\'');
  return out;
}

std::string DescribeGoRune(int32_t rune) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "U+%04X", static_cast<unsigned>(rune));
  std::string out = buffer;
  if (IsValidRune(rune) && IsPrintableRune(rune)) {
    out += " '";
    AppendUtf8(static_cast<uint32_t>(rune), &out);
    out.push_back('\'');
  }
  return out;
}

std::string FormatGoFloat(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == 0) return std::signbit(value) ? "-0" : "0";
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e[+-]XX.
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const std::string_view scientific(buffer, static_cast<size_t>(result.ptr - buffer));
  const bool negative = scientific.front() == '-';
  const size_t e_pos = scientific.find('e');
  std::string digits;
  for (char c : scientific.substr(negative ? 1 : 0, e_pos - (negative ? 1 : 0))) {
    if (c != '.') digits.push_back(c);
  }
  const int exponent = std::atoi(std::string(scientific.substr(e_pos + 1)).c_str());
  const int digit_count = static_cast<int>(digits.size());

  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 6) {
    out.push_back(digits[0]);
    if (digit_count > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    out.push_back('e');
    out.push_back(exponent < 0 ? '-' : '+');
    const int magnitude = std::abs(exponent);
    if (magnitude < 10) out.push_back('0');
    out += std::to_string(magnitude);
    return out;
  }
  const int point = exponent + 1;  // digits before the decimal point
  if (point <= 0) {
    out.push_back('0');
  } else {
    for (int i = 0; i < point; ++i) out.push_back(i < digit_count ? digits[i] : '0');
  }
  const int fraction_digits = std::max(digit_count - point, 0);
  if (fraction_digits > 0) {
    out.push_back('.');
    for (int i = 0; i < fraction_digits; ++i) {
      const int index = point + i;
      out.push_back(index >= 0 && index < digit_count ? digits[index] : '0');
    }
  }
  return out;
}

std::string FormatGoFloatFixed(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[400];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  return std::string(buffer, result.ptr);
}

std::string FormatGoFixed(double value, int precision) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[512];
  std::snprintf(buffer, sizeof(buffer), "%.*f", precision, value);
  return buffer;
}

}  // namespace tsvault::query::promql
