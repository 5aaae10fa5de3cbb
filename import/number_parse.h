// Internal to the import module: numbers as Prometheus' parsers read them.
#pragma once

#include <cstdint>
#include <string_view>

namespace tsvault::import {

// A sample value as Go's strconv.ParseFloat reads it (what Prometheus'
// text parsers use): decimal or exponent notation (underflow gives 0,
// overflow is refused), an optional sign, and Inf, +Inf, -Inf, Infinity,
// NaN in any case. False for anything else.
bool ParseSampleValue(std::string_view text, double* value);

// A decimal integer with an optional sign; false on overflow or junk.
bool ParseInteger(std::string_view text, int64_t* value);

}  // namespace tsvault::import
