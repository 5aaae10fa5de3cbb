// Parsing of the time and duration parameters of the Prometheus HTTP API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tsvault {

// The bounds Prometheus uses when start/end are absent.
inline constexpr int64_t kMinTimeMs = INT64_MIN;
inline constexpr int64_t kMaxTimeMs = INT64_MAX;

// Parses an RFC 3339 time (2006-01-02T15:04:05.999999999Z07:00; fraction
// kept to the millisecond) into Unix milliseconds; false when it is not one.
bool ParseRfc3339(std::string_view text, int64_t* ms);

// Parses a Unix timestamp in seconds (with fraction) or an RFC 3339 time
// into milliseconds.
Status ParseTimeParam(std::string_view text, int64_t* ms);

// Parses a duration in Prometheus syntax ("1h30m", "5m", "250ms") or float
// seconds ("15", "0.5") into milliseconds.
Status ParseDurationParam(std::string_view text, int64_t* ms);

// Parses a Prometheus duration literal only ("1h30m"); no float seconds.
Status ParsePromDuration(std::string_view text, int64_t* ms);

// Prometheus' model.Duration String() for a non-negative duration in
// milliseconds: "0s", "1h30m", "1w" (years and weeks only when exact),
// "250ms". Negative inputs are formatted by absolute value.
std::string FormatPromDuration(int64_t milliseconds);

// Formats Unix milliseconds as RFC 3339 in UTC to the second
// ("2026-12-07T00:00:00Z"), for messages and reports.
std::string FormatRfc3339(int64_t ms);

}  // namespace tsvault
