// Go's strconv.ParseFloat for decimal spellings, which Prometheus' parsers
// (PromQL numbers, the text formats) rely on.
#pragma once

#include <string_view>

namespace tsvault {

// Parses unsigned decimal or exponent notation ("12", "1.5e3", ".5") as Go's
// strconv.ParseFloat(text, 64) does: underflow gives 0 or a denormal;
// overflow returns false with *out_of_range set. No sign, Inf or NaN (the
// callers' grammars spell those themselves).
bool ParseGoFloat(std::string_view text, double* value, bool* out_of_range);

}  // namespace tsvault
