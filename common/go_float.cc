#include "common/go_float.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace tsvault {

bool ParseGoFloat(std::string_view text, double* value, bool* out_of_range) {
  *out_of_range = false;
  size_t i = 0;
  size_t mantissa_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++mantissa_digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++exponent_digits;
    if (exponent_digits == 0) return false;
  }
  if (i != text.size()) return false;
  // from_chars is locale-independent; it reports both overflow and
  // underflow as out of range, while Go only rejects overflow (underflow
  // yields 0 or a denormal), so strtod settles that rare case.
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  if (error == std::errc() && end == text.data() + text.size()) return true;
  const std::string copy(text);
  const double result = std::strtod(copy.c_str(), nullptr);
  if (std::isinf(result)) {
    *out_of_range = true;
    return false;
  }
  *value = result;
  return true;
}


}  // namespace tsvault
