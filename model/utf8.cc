#include "model/utf8.h"

#include <cstdint>
#include <cstring>

namespace tsvault::model {

namespace {

// Validates one multi-byte sequence starting at text[i] (a non-ASCII lead
// byte). Returns the sequence length, or 0 when it is malformed.
size_t MultiByteLength(const unsigned char* text, size_t size, size_t i) {
  const unsigned char lead = text[i];
  size_t length;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // no overlong 3-byte forms
    if (lead == 0xED) second_max = 0x9F;  // no UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // no overlong 4-byte forms
    if (lead == 0xF4) second_max = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // continuation byte as lead, C0/C1 overlong, or F5..FF
  }
  if (size - i < length) return 0;
  if (text[i + 1] < second_min || text[i + 1] > second_max) return 0;
  for (size_t k = 2; k < length; ++k) {
    if ((text[i + k] & 0xC0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

bool IsValidUtf8Slow(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    // Fast path: skip 8 ASCII bytes at a time.
    while (size - i >= 8) {
      uint64_t chunk;
      std::memcpy(&chunk, bytes + i, sizeof(chunk));
      if (chunk & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= size) break;
    if (bytes[i] < 0x80) {
      ++i;
      continue;
    }
    const size_t length = MultiByteLength(bytes, size, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

}  // namespace tsvault::model
