// Remote Write content negotiation: which protocol a request uses, decided
// from its Content-Type and Content-Encoding headers before the body is read,
// as the Remote Write 2.0 specification requires.
#pragma once

#include <string_view>

#include "common/status.h"
#include "remote_write/encoder.h"

namespace tsvault::remote_write {

// Maps a Content-Type value to a protocol (RFC 9110 media type syntax: type
// and subtype and parameter names are case-insensitive, optional whitespace
// around ";" and "=", quoted parameter values):
//   missing/empty, "application/x-protobuf",
//   "application/x-protobuf;proto=prometheus.WriteRequest"       -> kV1
//   "application/x-protobuf;proto=io.prometheus.write.v2.Request" -> kV2
// Parameters other than proto= are ignored; the first proto= counts. Any
// other media type, unknown proto= message or malformed parameter returns
// Unsupported (HTTP 415) with a message naming the problem.
Status ParseContentType(std::string_view content_type, Protocol* protocol);

// Accepts a missing/empty Content-Encoding (treated as snappy, as Prometheus'
// own receiver does) or "snappy" in any case with optional whitespace. Anything
// else, including a list of several codings, returns Unsupported (HTTP 415).
Status CheckContentEncoding(std::string_view content_encoding);

}  // namespace tsvault::remote_write
