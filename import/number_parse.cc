#include "import/number_parse.h"

#include <charconv>
#include <limits>

#include "common/ascii.h"
#include "common/go_float.h"

namespace tsvault::import {

bool ParseSampleValue(std::string_view text, double* value) {
  if (text.empty()) return false;
  bool negative = false;
  std::string_view digits = text;
  if (digits.front() == '+' || digits.front() == '-') {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
    if (digits.empty() || digits.front() == '+' || digits.front() == '-') return false;
  }
  if (EqualsIgnoreAsciiCase(digits, "inf") || EqualsIgnoreAsciiCase(digits, "infinity")) {
    *value = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (EqualsIgnoreAsciiCase(digits, "nan")) {
    *value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  double parsed = 0;
  bool out_of_range = false;  // Prometheus refuses the line then
  if (!ParseGoFloat(digits, &parsed, &out_of_range)) return false;
  *value = negative ? -parsed : parsed;
  return true;
}

bool ParseInteger(std::string_view text, int64_t* value) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace tsvault::import
