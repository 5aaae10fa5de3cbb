// bcrypt password hashes, as Prometheus' web config holds them ("$2y$10$..."
// and the $2a$/$2b$ spellings), checked and made with libcrypt.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace tsvault::auth {

// True when `password` matches the bcrypt `hash`. Costs one bcrypt run
// (tens of milliseconds at cost 10) whatever the answer, so callers cache
// results. A password holding a NUL byte never matches.
bool PasswordMatches(std::string_view password, const std::string& hash);

// OK when `hash` is a well-formed bcrypt hash ($2a$, $2b$ or $2y$, cost 4 to
// 31, 53 characters of salt and digest); InvalidArgument saying what is
// wrong otherwise.
Status CheckPasswordHash(const std::string& hash);

// A new bcrypt hash ($2y$, a random salt) of `password` with 2^cost rounds;
// InvalidArgument for a cost outside 4..31 or a password with a NUL byte.
Status HashPassword(std::string_view password, int cost, std::string* out);

}  // namespace tsvault::auth
