#include "storage/prometheus_tsdb/ulid.h"

#include <random>

namespace tsvault::prometheus_tsdb {

namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

std::string NewUlid(uint64_t unix_ms) {
  // 128 bits, most significant first: 48 of time, 80 of randomness.
  unsigned char bytes[16];
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(unix_ms >> (8 * (5 - i)));
  std::random_device device;
  for (int i = 6; i < 16; i += 2) {
    const unsigned value = device();
    bytes[i] = static_cast<unsigned char>(value);
    bytes[i + 1] = static_cast<unsigned char>(value >> 8);
  }
  // 26 characters of 5 bits cover 130 bits: the first character holds the
  // top 3 bits (two leading zero bits), so it is at most '7'.
  std::string text(26, '0');
  for (int character = 25, bit = 0; character >= 0; --character, bit += 5) {
    unsigned value = 0;
    for (int b = 0; b < 5; ++b) {
      const int position = bit + b;  // from the least significant bit
      if (position >= 128) break;
      const int byte = 15 - position / 8;
      if ((bytes[byte] >> (position % 8)) & 1) value |= 1u << b;
    }
    text[character] = kAlphabet[value];
  }
  return text;
}

bool IsUlid(std::string_view text) {
  if (text.size() != 26 || text[0] > '7') return false;
  for (char c : text) {
    bool found = false;
    for (const char* a = kAlphabet; *a != '\0'; ++a) found = found || *a == c;
    if (!found) return false;
  }
  return true;
}

}  // namespace tsvault::prometheus_tsdb
