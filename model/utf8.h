// UTF-8 validation for label names, label values and metadata text.
#pragma once

#include <cstddef>
#include <string_view>

namespace tsvault::model {

// The full validator behind IsValidUtf8 (handles non-ASCII input).
bool IsValidUtf8Slow(std::string_view text);

// True when `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
// sequences. Pure-ASCII text (the common case for labels) is accepted by an
// inline scan without a function call.
inline bool IsValidUtf8(std::string_view text) {
  unsigned char high_bits = 0;
  for (char c : text) high_bits |= static_cast<unsigned char>(c);
  return high_bits < 0x80 || IsValidUtf8Slow(text);
}

}  // namespace tsvault::model
