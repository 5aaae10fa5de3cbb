// ULIDs (github.com/oklog/ulid), the names of Prometheus block directories:
// 26 Crockford base32 characters of a 48-bit Unix time in milliseconds and
// 80 random bits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tsvault::prometheus_tsdb {

// A new ULID for time `unix_ms` (0 <= unix_ms < 2^48) with random bits from
// the system's random device.
std::string NewUlid(uint64_t unix_ms);

// True when `text` is a ULID as NewUlid writes them: 26 characters of the
// upper-case Crockford alphabet, the first at most '7' (ulid.ParseStrict
// also accepts lower case).
bool IsUlid(std::string_view text);

}  // namespace tsvault::prometheus_tsdb
