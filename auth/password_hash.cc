#include "auth/password_hash.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>

namespace tsvault::auth {

namespace {

constexpr size_t kBcryptHashLength = 60;  // "$2y$" + 2 cost digits + "$" + 53

bool IsBcryptAlphabet(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/';
}

}  // namespace

Status CheckPasswordHash(const std::string& hash) {
  if (hash.size() != kBcryptHashLength || hash[0] != '$' || hash[1] != '2' ||
      (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$' || hash[6] != '$') {
    return Status::InvalidArgument("not a bcrypt hash (expected $2y$<cost>$ and 53 characters, e.g. from "
                                   "`tsvault hash-password` or `htpasswd -nBC 10 user`)");
  }
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') {
    return Status::InvalidArgument("bcrypt hash with a non-numeric cost");
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return Status::InvalidArgument("bcrypt cost " + std::to_string(cost) + " is outside 4..31");
  for (size_t i = 7; i < hash.size(); ++i) {
    if (!IsBcryptAlphabet(hash[i])) return Status::InvalidArgument("bcrypt hash with a character outside its alphabet");
  }
  return Status::OK();
}

bool PasswordMatches(std::string_view password, const std::string& hash) {
  if (password.find('\0') != std::string_view::npos) return false;
  const std::string key(password);
  // crypt_data is large (about 32 KiB): on the heap, not the I/O thread's stack.
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* computed = crypt_r(key.c_str(), hash.c_str(), data.get());
  if (computed == nullptr || computed[0] == '*') return false;  // "*0"/"*1": libcrypt's failure tokens
  const size_t length = std::strlen(computed);
  return length == hash.size() && CRYPTO_memcmp(computed, hash.data(), length) == 0;
}

Status HashPassword(std::string_view password, int cost, std::string* out) {
  if (cost < 4 || cost > 31) return Status::InvalidArgument("bcrypt cost " + std::to_string(cost) + " is outside 4..31");
  if (password.find('\0') != std::string_view::npos) return Status::InvalidArgument("the password holds a NUL byte");
  unsigned char random[16];
  if (RAND_bytes(random, sizeof(random)) != 1) return Status::IOError("no random bytes for the salt");
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2y$", static_cast<unsigned long>(cost), reinterpret_cast<const char*>(random), sizeof(random),
                       setting, sizeof(setting)) == nullptr) {
    return Status::IOError("libcrypt cannot make a bcrypt salt");
  }
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const std::string key(password);
  const char* computed = crypt_r(key.c_str(), setting, data.get());
  if (computed == nullptr || computed[0] == '*') return Status::IOError("libcrypt cannot compute a bcrypt hash");
  *out = computed;
  return Status::OK();
}

}  // namespace tsvault::auth
